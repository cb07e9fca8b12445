// One RTM_NEWROUTE or RTM_DELROUTE message, encoded by netlet itself so that
// many go in one datagram (netlink/batch-socket.ts): a full BGP table is
// 100k routes, and the `netlink` package sends one request, and builds
// several objects, per route. The layout is struct rtmsg then attributes
// (include/uapi/linux/rtnetlink.h); the defaults are addRoute's and
// deleteRoute's (routes.ts), so either path writes the same route.

import { NLM_F_ACK, NLM_F_REQUEST } from './ctnetlink-codec.ts';
import { afOf, ipToBuffer, parseCidr } from './ip.ts';
import { encodeMultipath } from './multipath.ts';
import { NETLET_PROTOCOL, RouteScope, RouteTable, RouteType } from './routes.ts';
import type { RouteSpec } from './routes.ts';

const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const RTNH_F_ONLINK = 4;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_MULTIPATH = 9;
const RTA_TABLE = 15;
/** struct nlmsghdr, struct rtmsg. */
const NLMSG_HEADER = 16;
const RTMSG = 12;

const align4 = (n: number): number => (n + 3) & ~3;

/** The destination's network address (host bits cleared), parsed once. */
function networkBytes(ip: string, prefix: number): Buffer {
  const buf = ipToBuffer(ip);
  for (let bit = prefix; bit < buf.length * 8; bit++) buf[bit >> 3] &= ~(0x80 >> (bit & 7));
  return buf;
}

/**
 * `add` creates the route and fails with EEXIST when it is there (addRoute);
 * `delete` matches the protocol only when the spec names one, as deleteRoute.
 * Written straight into one buffer: at 100k routes a message, parts and
 * concatenations are what the encoding costs.
 */
export function encodeRouteMessage(op: 'add' | 'delete', seq: number, spec: RouteSpec): Buffer {
  const { ip, family, prefix } = parseCidr(spec.dst);
  const type = spec.type ?? 'unicast';
  const table = spec.table ?? RouteTable.main;
  const hasGateway = Boolean(spec.gateway) || Boolean(spec.multipath?.length);
  const scope =
    op === 'delete'
      ? (spec.scope ?? RouteScope.nowhere)
      : (spec.scope ?? (type === 'unicast' && !hasGateway ? RouteScope.link : RouteScope.universe));
  const protocol = op === 'delete' ? (spec.protocol ?? 0) : (spec.protocol ?? NETLET_PROTOCOL);
  const attrs: Array<[number, Buffer | number]> = [[RTA_TABLE, table]];
  if (prefix > 0) attrs.push([RTA_DST, networkBytes(ip, prefix)]);
  if (spec.gateway) attrs.push([RTA_GATEWAY, ipToBuffer(spec.gateway)]);
  if (spec.oif) attrs.push([RTA_OIF, spec.oif]);
  if (spec.src) attrs.push([RTA_PREFSRC, ipToBuffer(spec.src)]);
  if (spec.priority !== undefined) attrs.push([RTA_PRIORITY, spec.priority]);
  if (spec.multipath?.length) attrs.push([RTA_MULTIPATH, encodeMultipath(spec.multipath)]);
  let len = NLMSG_HEADER + RTMSG;
  for (const [, v] of attrs) len += 4 + align4(typeof v === 'number' ? 4 : v.length);
  const out = Buffer.alloc(len);
  out.writeUInt32LE(len, 0);
  out.writeUInt16LE(op === 'add' ? RTM_NEWROUTE : RTM_DELROUTE, 4);
  out.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK | (op === 'add' ? NLM_F_CREATE | NLM_F_EXCL : 0), 6);
  out.writeUInt32LE(seq >>> 0, 8);
  let at = NLMSG_HEADER;
  out[at] = afOf(family);
  out[at + 1] = prefix;
  out[at + 4] = table < 256 ? table : 252; // RT_TABLE_COMPAT; the real id goes in RTA_TABLE
  out[at + 5] = protocol;
  out[at + 6] = scope;
  out[at + 7] = RouteType[type];
  // rtm_flags: RTNH_F_ONLINK is read from it (net/ipv4/fib_semantics.c).
  out.writeUInt32LE(spec.onlink ? RTNH_F_ONLINK : 0, at + 8);
  at += RTMSG;
  for (const [kind, v] of attrs) {
    const size = typeof v === 'number' ? 4 : v.length;
    out.writeUInt16LE(4 + size, at);
    out.writeUInt16LE(kind, at + 2);
    if (typeof v === 'number') out.writeUInt32LE(v >>> 0, at + 4);
    else v.copy(out, at + 4);
    at += 4 + align4(size);
  }
  return out;
}
