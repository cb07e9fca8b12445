// One RTM_NEWROUTE or RTM_DELROUTE message, encoded by netlet itself so that
// many go in one datagram (netlink/batch-socket.ts): a full BGP table is
// 100k routes, and the `netlink` package sends one request, and builds
// several objects, per route. The layout is struct rtmsg then attributes
// (include/uapi/linux/rtnetlink.h); the defaults are addRoute's and
// deleteRoute's (routes.ts), so either path writes the same route.

import { attr, u32 } from './attrs.ts';
import { NLM_F_ACK, NLM_F_REQUEST, nlmsg } from './ctnetlink-codec.ts';
import { afOf, ipToBuffer, networkOf, parseCidr } from './ip.ts';
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

/**
 * `add` creates the route and fails with EEXIST when it is there (addRoute);
 * `delete` matches the protocol only when the spec names one, as deleteRoute.
 */
export function encodeRouteMessage(op: 'add' | 'delete', seq: number, spec: RouteSpec): Buffer {
  const { family, prefix } = parseCidr(spec.dst);
  const type = spec.type ?? 'unicast';
  const table = spec.table ?? RouteTable.main;
  const hasGateway = Boolean(spec.gateway) || Boolean(spec.multipath?.length);
  const scope =
    op === 'delete'
      ? (spec.scope ?? RouteScope.nowhere)
      : (spec.scope ?? (type === 'unicast' && !hasGateway ? RouteScope.link : RouteScope.universe));
  const protocol = op === 'delete' ? (spec.protocol ?? 0) : (spec.protocol ?? NETLET_PROTOCOL);
  const head = Buffer.alloc(12);
  head[0] = afOf(family);
  head[1] = prefix;
  head[4] = table < 256 ? table : 252; // RT_TABLE_COMPAT; the real id goes in RTA_TABLE
  head[5] = protocol;
  head[6] = scope;
  head[7] = RouteType[type];
  // rtm_flags: RTNH_F_ONLINK is read from it (net/ipv4/fib_semantics.c).
  head.writeUInt32LE(spec.onlink ? RTNH_F_ONLINK : 0, 8);
  const attrs = [head, attr(RTA_TABLE, u32(table))];
  if (prefix > 0) attrs.push(attr(RTA_DST, ipToBuffer(parseCidr(networkOf(spec.dst)).ip)));
  if (spec.gateway) attrs.push(attr(RTA_GATEWAY, ipToBuffer(spec.gateway)));
  if (spec.oif) attrs.push(attr(RTA_OIF, u32(spec.oif)));
  if (spec.src) attrs.push(attr(RTA_PREFSRC, ipToBuffer(spec.src)));
  if (spec.priority !== undefined) attrs.push(attr(RTA_PRIORITY, u32(spec.priority)));
  if (spec.multipath?.length) attrs.push(attr(RTA_MULTIPATH, encodeMultipath(spec.multipath)));
  const flags = NLM_F_REQUEST | NLM_F_ACK | (op === 'add' ? NLM_F_CREATE | NLM_F_EXCL : 0);
  return nlmsg(op === 'add' ? RTM_NEWROUTE : RTM_DELROUTE, flags, seq, Buffer.concat(attrs));
}
