// One entry point for a framed message: its decoded form, or the
// BgpNotificationError the RFCs prescribe. KEEPALIVE, NOTIFICATION and
// ROUTE-REFRESH are small enough to live here.

import { ErrorCode, MessageType, RouteRefreshSubcode } from './constants.ts';
import { frameMessage, type Frame } from './header.ts';
import { BgpNotificationError, type NotificationFields } from './notification-error.ts';
import { decodeOpen, type OpenMessage } from './open.ts';
import { decodeUpdate, type DecodedUpdate, type UpdateContext } from './update.ts';

export interface RouteRefreshMessage {
  afi: number;
  safi: number;
  /** RFC 7313: 0 a plain refresh request, 1 BoRR, 2 EoRR. */
  subtype: number;
}

export type BgpMessage =
  | { type: 'open'; open: OpenMessage }
  | { type: 'update'; update: DecodedUpdate }
  | { type: 'notification'; notification: NotificationFields }
  | { type: 'keepalive' }
  | { type: 'route-refresh'; refresh: RouteRefreshMessage };

/** Decodes a frame from MessageFramer; throws BgpNotificationError for what must end the session. */
export function decodeMessage(frame: Frame, ctx: UpdateContext): BgpMessage {
  const body = frame.body;
  switch (frame.type) {
    case MessageType.OPEN:
      return { type: 'open', open: decodeOpen(body) };
    case MessageType.UPDATE:
      return { type: 'update', update: decodeUpdate(body, ctx) };
    case MessageType.NOTIFICATION:
      return { type: 'notification', notification: { code: body[0], subcode: body[1], data: Buffer.from(body.subarray(2)) } };
    case MessageType.KEEPALIVE:
      return { type: 'keepalive' };
    case MessageType.ROUTE_REFRESH:
      // RFC 7313 5: the data is the whole message.
      if (body.length !== 4) throw new BgpNotificationError(ErrorCode.ROUTE_REFRESH, RouteRefreshSubcode.INVALID_MESSAGE_LENGTH, `ROUTE-REFRESH of ${frame.raw.length} octets`, Buffer.from(frame.raw));
      return { type: 'route-refresh', refresh: { afi: body.readUInt16BE(0), subtype: body[2], safi: body[3] } };
    default:
      // MessageFramer already refused other types; a hand-built frame still gets the header error.
      throw new BgpNotificationError(ErrorCode.MESSAGE_HEADER, 3, `unknown message type ${frame.type}`, Buffer.from([frame.type & 0xff]));
  }
}

export const encodeKeepalive = (): Buffer => frameMessage(MessageType.KEEPALIVE, Buffer.alloc(0));

export function encodeNotification(n: NotificationFields): Buffer {
  // The data is cut so the message stays within 4096 octets (a whole offending UPDATE may be that long).
  const data = n.data.subarray(0, 4096 - 21);
  return frameMessage(MessageType.NOTIFICATION, Buffer.concat([Buffer.from([n.code, n.subcode]), data]));
}

export function encodeRouteRefresh(r: RouteRefreshMessage): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(r.afi, 0);
  b[2] = r.subtype;
  b[3] = r.safi;
  return frameMessage(MessageType.ROUTE_REFRESH, b);
}
