// BGP-4 numbers from the RFCs, in one place so the codec, the state machine
// and the logs agree on them (RFC 4271 4.1 and 6, RFC 4760, 5492, 6793, 2918,
// 4724, 4486, 6608, 7313).

export const MARKER_LENGTH = 16;
export const HEADER_LENGTH = 19;
/** RFC 4271 4.1: no message is longer (RFC 8654 extended messages are not negotiated). */
export const MAX_MESSAGE_LENGTH = 4096;
export const BGP_VERSION = 4;
/** RFC 6793: the 2-octet stand-in for a 4-octet AS number. */
export const AS_TRANS = 23456;

export const MessageType = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

/** The smallest length of each message type, header included (RFC 4271 4.2-4.5, RFC 2918). */
export const MIN_LENGTH: Record<number, number> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 23 };

export const AttrType = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
} as const;

export const AttrFlag = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED_LENGTH: 0x10 } as const;

export const Origin = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;

/** AS_PATH segment types (RFC 4271 4.3, RFC 5065 for the confederation ones). */
export const SegmentType = { AS_SET: 1, AS_SEQUENCE: 2, AS_CONFED_SEQUENCE: 3, AS_CONFED_SET: 4 } as const;

export const Afi = { IPV4: 1, IPV6: 2 } as const;
export const Safi = { UNICAST: 1 } as const;

export const Capability = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  GRACEFUL_RESTART: 64,
  FOUR_OCTET_AS: 65,
  ENHANCED_ROUTE_REFRESH: 70,
} as const;

/** OPEN optional parameter type carrying capabilities (RFC 5492). */
export const CAPABILITIES_PARAMETER = 2;

export const ErrorCode = {
  MESSAGE_HEADER: 1,
  OPEN: 2,
  UPDATE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH: 7,
} as const;

export const HeaderSubcode = { CONNECTION_NOT_SYNCHRONIZED: 1, BAD_MESSAGE_LENGTH: 2, BAD_MESSAGE_TYPE: 3 } as const;

export const OpenSubcode = {
  UNSPECIFIC: 0,
  UNSUPPORTED_VERSION: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7,
} as const;

export const UpdateSubcode = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN: 6,
  INVALID_NEXT_HOP: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;

/** RFC 6608: which state received the unexpected message. */
export const FsmSubcode = { UNSPECIFIED: 0, IN_OPEN_SENT: 1, IN_OPEN_CONFIRM: 2, IN_ESTABLISHED: 3 } as const;

/** RFC 4486. */
export const CeaseSubcode = {
  MAX_PREFIXES: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9,
} as const;

/** RFC 7313. */
export const RouteRefreshSubcode = { INVALID_MESSAGE_LENGTH: 1 } as const;

const ERROR_NAMES: Record<number, [string, Record<number, string>]> = {
  1: ['message header error', { 1: 'connection not synchronized', 2: 'bad message length', 3: 'bad message type' }],
  2: [
    'OPEN message error',
    { 1: 'unsupported version number', 2: 'bad peer AS', 3: 'bad BGP identifier', 4: 'unsupported optional parameter', 6: 'unacceptable hold time', 7: 'unsupported capability' },
  ],
  3: [
    'UPDATE message error',
    {
      1: 'malformed attribute list',
      2: 'unrecognized well-known attribute',
      3: 'missing well-known attribute',
      4: 'attribute flags error',
      5: 'attribute length error',
      6: 'invalid ORIGIN attribute',
      8: 'invalid NEXT_HOP attribute',
      9: 'optional attribute error',
      10: 'invalid network field',
      11: 'malformed AS_PATH',
    },
  ],
  4: ['hold timer expired', {}],
  5: ['finite state machine error', { 1: 'unexpected message in OpenSent', 2: 'unexpected message in OpenConfirm', 3: 'unexpected message in Established' }],
  6: [
    'cease',
    {
      1: 'maximum number of prefixes reached',
      2: 'administrative shutdown',
      3: 'peer de-configured',
      4: 'administrative reset',
      5: 'connection rejected',
      6: 'other configuration change',
      7: 'connection collision resolution',
      8: 'out of resources',
      9: 'hard reset',
    },
  ],
  7: ['ROUTE-REFRESH message error', { 1: 'invalid message length' }],
};

/** "UPDATE message error / malformed AS_PATH (3/11)": how logs and status name a NOTIFICATION. */
export function describeError(code: number, subcode: number): string {
  const entry = ERROR_NAMES[code];
  if (!entry) return `unknown error (${code}/${subcode})`;
  const sub = entry[1][subcode];
  return sub ? `${entry[0]} / ${sub} (${code}/${subcode})` : `${entry[0]} (${code}/${subcode})`;
}
