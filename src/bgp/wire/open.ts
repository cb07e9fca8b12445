// OPEN (RFC 4271 4.2) and the capabilities it carries (RFC 5492): multiprotocol
// (RFC 4760), route refresh (RFC 2918, 7313), graceful restart (RFC 4724) and
// 4-octet AS numbers (RFC 6793). Decoding checks what the message alone can
// tell; the session checks the rest (peer AS, identifier collisions).

import { AS_TRANS, BGP_VERSION, CAPABILITIES_PARAMETER, Capability, ErrorCode, MessageType, OpenSubcode } from './constants.ts';
import { frameMessage } from './header.ts';
import { BgpNotificationError } from './notification-error.ts';
import { decodeAddress, encodeAddress } from './prefix.ts';

export interface AfiSafi {
  afi: number;
  safi: number;
}

export interface GracefulRestartCapability {
  /** The R bit: the sender has restarted and its peer should not wait for its End-of-RIB first. */
  restarting: boolean;
  /** Seconds the sender asks its peer to keep its routes while it restarts (12 bits). */
  time: number;
  families: Array<AfiSafi & { forwardingPreserved: boolean }>;
}

export interface Capabilities {
  multiprotocol: AfiSafi[];
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  /** The sender's AS number when it speaks 4-octet AS (RFC 6793). */
  fourOctetAs?: number;
  gracefulRestart?: GracefulRestartCapability;
  /** Capabilities netlet does not act on, kept for status output. */
  other: Array<{ code: number; value: Buffer }>;
}

export interface OpenMessage {
  /** The sender's AS: the 4-octet one when the capability carries it. */
  asNumber: number;
  holdTime: number;
  routerId: string;
  capabilities: Capabilities;
}

const openError = (subcode: number, reason: string, data?: Buffer) => new BgpNotificationError(ErrorCode.OPEN, subcode, reason, data);

export function decodeOpen(body: Buffer): OpenMessage {
  const version = body[0];
  if (version !== BGP_VERSION) {
    // RFC 4271 6.2: the data is the largest version this side supports.
    throw openError(OpenSubcode.UNSUPPORTED_VERSION, `version ${version}, only 4 is spoken`, Buffer.from([0, BGP_VERSION]));
  }
  const as2 = body.readUInt16BE(1);
  const holdTime = body.readUInt16BE(3);
  const routerIdValue = body.readUInt32BE(5);
  const paramsLength = body[9];
  if (10 + paramsLength !== body.length) {
    throw openError(OpenSubcode.UNSPECIFIC, `optional parameters length ${paramsLength} does not fit a ${body.length}-octet body`);
  }
  if (holdTime === 1 || holdTime === 2) throw openError(OpenSubcode.UNACCEPTABLE_HOLD_TIME, `hold time ${holdTime} (must be 0 or at least 3)`);
  // RFC 6286 2.2: the identifier is a non-zero 32-bit number.
  if (routerIdValue === 0) throw openError(OpenSubcode.BAD_BGP_IDENTIFIER, 'BGP identifier 0.0.0.0');
  const capabilities = decodeParameters(body, 10, body.length);
  const asNumber = capabilities.fourOctetAs ?? as2;
  // RFC 7607: AS 0 is never a valid peer AS.
  if (asNumber === 0) throw openError(OpenSubcode.BAD_PEER_AS, 'AS number 0', Buffer.from(body.subarray(1, 3)));
  if (capabilities.fourOctetAs !== undefined && as2 !== AS_TRANS && as2 !== capabilities.fourOctetAs) {
    // RFC 6793 4.1 leaves this to the receiver; the capability is the truth, and a mismatch that is not AS_TRANS names a confused peer.
    throw openError(OpenSubcode.BAD_PEER_AS, `My AS ${as2} disagrees with the 4-octet AS capability ${capabilities.fourOctetAs}`, Buffer.from(body.subarray(1, 3)));
  }
  return { asNumber, holdTime, routerId: decodeAddress(body, 5, 4), capabilities };
}

function decodeParameters(body: Buffer, start: number, end: number): Capabilities {
  const caps: Capabilities = { multiprotocol: [], routeRefresh: false, enhancedRouteRefresh: false, other: [] };
  let at = start;
  while (at < end) {
    if (at + 2 > end) throw openError(OpenSubcode.UNSPECIFIC, 'an optional parameter header runs past the message');
    const type = body[at];
    const length = body[at + 1];
    const valueEnd = at + 2 + length;
    if (valueEnd > end) throw openError(OpenSubcode.UNSPECIFIC, `optional parameter ${type} of ${length} octets runs past the message`);
    if (type !== CAPABILITIES_PARAMETER) {
      throw openError(OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, `optional parameter type ${type}`, Buffer.from(body.subarray(at, valueEnd)));
    }
    decodeCapabilities(body, at + 2, valueEnd, caps);
    at = valueEnd;
  }
  return caps;
}

function decodeCapabilities(body: Buffer, start: number, end: number, caps: Capabilities): void {
  let at = start;
  while (at < end) {
    if (at + 2 > end) throw openError(OpenSubcode.UNSPECIFIC, 'a capability header runs past its parameter');
    const code = body[at];
    const length = body[at + 1];
    const v = at + 2;
    if (v + length > end) throw openError(OpenSubcode.UNSPECIFIC, `capability ${code} of ${length} octets runs past its parameter`);
    const malformed = (what: string) => openError(OpenSubcode.UNSPECIFIC, `capability ${code} (${what}) has ${length} octets`);
    switch (code) {
      case Capability.MULTIPROTOCOL:
        if (length !== 4) throw malformed('multiprotocol');
        caps.multiprotocol.push({ afi: body.readUInt16BE(v), safi: body[v + 3] });
        break;
      case Capability.ROUTE_REFRESH:
        if (length !== 0) throw malformed('route refresh');
        caps.routeRefresh = true;
        break;
      case Capability.ENHANCED_ROUTE_REFRESH:
        if (length !== 0) throw malformed('enhanced route refresh');
        caps.enhancedRouteRefresh = true;
        break;
      case Capability.FOUR_OCTET_AS:
        if (length !== 4) throw malformed('4-octet AS');
        caps.fourOctetAs = body.readUInt32BE(v);
        break;
      case Capability.GRACEFUL_RESTART: {
        if (length < 2 || (length - 2) % 4 !== 0) throw malformed('graceful restart');
        const word = body.readUInt16BE(v);
        const families: GracefulRestartCapability['families'] = [];
        for (let f = v + 2; f < v + length; f += 4) {
          families.push({ afi: body.readUInt16BE(f), safi: body[f + 2], forwardingPreserved: (body[f + 3] & 0x80) !== 0 });
        }
        caps.gracefulRestart = { restarting: (word & 0x8000) !== 0, time: word & 0x0fff, families };
        break;
      }
      default:
        caps.other.push({ code, value: Buffer.from(body.subarray(v, v + length)) });
    }
    at = v + length;
  }
}

export function encodeOpen(open: OpenMessage): Buffer {
  const caps = encodeCapabilities(open.capabilities, open.asNumber);
  if (caps.length > 255) throw new RangeError(`capabilities of ${caps.length} octets do not fit one OPEN`);
  const body = Buffer.alloc(10 + caps.length);
  body[0] = BGP_VERSION;
  body.writeUInt16BE(open.asNumber > 0xffff ? AS_TRANS : open.asNumber, 1);
  body.writeUInt16BE(open.holdTime, 3);
  encodeAddress(4, open.routerId).copy(body, 5);
  body[9] = caps.length;
  caps.copy(body, 10);
  return frameMessage(MessageType.OPEN, body);
}

/** Each capability in its own optional parameter, as BIRD and GoBGP send them. */
function encodeCapabilities(caps: Capabilities, asNumber: number): Buffer {
  const parts: Buffer[] = [];
  const add = (code: number, value: Buffer) => parts.push(Buffer.from([CAPABILITIES_PARAMETER, value.length + 2, code, value.length]), value);
  for (const f of caps.multiprotocol) {
    const v = Buffer.alloc(4);
    v.writeUInt16BE(f.afi, 0);
    v[3] = f.safi;
    add(Capability.MULTIPROTOCOL, v);
  }
  if (caps.routeRefresh) add(Capability.ROUTE_REFRESH, Buffer.alloc(0));
  if (caps.enhancedRouteRefresh) add(Capability.ENHANCED_ROUTE_REFRESH, Buffer.alloc(0));
  if (caps.gracefulRestart) {
    const gr = caps.gracefulRestart;
    const v = Buffer.alloc(2 + 4 * gr.families.length);
    v.writeUInt16BE((gr.restarting ? 0x8000 : 0) | (gr.time & 0x0fff), 0);
    gr.families.forEach((f, i) => {
      v.writeUInt16BE(f.afi, 2 + 4 * i);
      v[4 + 4 * i] = f.safi;
      v[5 + 4 * i] = f.forwardingPreserved ? 0x80 : 0;
    });
    add(Capability.GRACEFUL_RESTART, v);
  }
  if (caps.fourOctetAs !== undefined) {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(caps.fourOctetAs ?? asNumber, 0);
    add(Capability.FOUR_OCTET_AS, v);
  }
  for (const o of caps.other) add(o.code, o.value);
  return Buffer.concat(parts);
}
