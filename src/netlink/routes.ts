// Routes over rtnetlink: add, replace, delete, list; with table, scope,
// protocol and type (unicast, blackhole, …). Shared by the CNI plugin (pod
// routes, routed-mode /32 host routes) and routes/ (routes to other nodes'
// blocks, blackholes for our own blocks). Numbers: include/uapi/linux/rtnetlink.h.
import type { Rtnl } from './socket.ts';
import { netlinkPackage } from './socket.ts';
import { isErrno, request } from './errors.ts';
import { afOf, bufferToIp, ipToBuffer, networkOf, parseCidr } from './ip.ts';
import type { Family } from './ip.ts';
import { decodeMultipath, encodeMultipath, type NextHop } from './multipath.ts';

export const RouteTable = { main: 254, local: 255 } as const;
export const RouteScope = { universe: 0, site: 200, link: 253, host: 254, nowhere: 255 } as const;
export const RouteProtocol = { kernel: 2, boot: 3, static: 4, bird: 12, bgp: 186 } as const;
/** netlet's own protocol number, so its routes can be told apart (and cleaned up) with `ip route show proto 87`. */
export const NETLET_PROTOCOL = 87;
export const RouteType = { unicast: 1, local: 2, blackhole: 6, unreachable: 7, prohibit: 8 } as const;
export type RouteTypeName = keyof typeof RouteType;

const RTNH_F_ONLINK = 4;
const NLM_F_CREATE = 0x400;
const NLM_F_EXCL = 0x200;
const NLM_F_REPLACE = 0x100;

export interface RouteSpec {
  /** Destination CIDR ("0.0.0.0/0" or "::/0" for default). Host bits are cleared. */
  dst: string;
  gateway?: string;
  /** Output device index. */
  oif?: number;
  /** Default: 'link' for device routes without a gateway, 'universe' otherwise; blackholes need 'universe'. */
  scope?: number;
  /** Default: NETLET_PROTOCOL. */
  protocol?: number;
  /** Default: main (254). */
  table?: number;
  /** Default: 'unicast'. */
  type?: RouteTypeName;
  /** Preferred source address. */
  src?: string;
  /** Gateway is on-link even if no address covers it (RTNH_F_ONLINK). */
  onlink?: boolean;
  priority?: number;
  /** ECMP: several next hops instead of `gateway` (RTA_MULTIPATH). */
  multipath?: NextHop[];
}

export interface RouteInfo {
  dst: string;
  gateway?: string;
  oif?: number;
  scope: number;
  protocol: number;
  table: number;
  type: RouteTypeName | number;
  src?: string;
  priority?: number;
  family: Family;
  /** The next hops of an ECMP route. */
  multipath?: NextHop[];
}

function encode(spec: RouteSpec) {
  const { family, prefix } = parseCidr(spec.dst);
  const type = spec.type ?? 'unicast';
  const table = spec.table ?? RouteTable.main;
  const scope =
    spec.scope ?? (type === 'unicast' && !spec.gateway && !spec.multipath?.length ? RouteScope.link : RouteScope.universe);
  const data = {
    family: afOf(family),
    dstLen: prefix,
    table: table < 256 ? table : 252, // RT_TABLE_COMPAT; the real id goes in RTA_TABLE
    protocol: spec.protocol ?? NETLET_PROTOCOL,
    scope,
    type: RouteType[type],
    flags: {},
  };
  const attrs: Record<string, unknown> = { table };
  if (prefix > 0) attrs.dst = ipToBuffer(parseCidr(networkOf(spec.dst)).ip);
  if (spec.gateway) attrs.gateway = ipToBuffer(spec.gateway);
  if (spec.oif) attrs.oif = spec.oif;
  if (spec.src) attrs.prefsrc = ipToBuffer(spec.src);
  if (spec.priority !== undefined) attrs.priority = spec.priority;
  if (spec.multipath?.length) attrs.multipath = encodeMultipath(spec.multipath);
  return { data, attrs, family, onlink: spec.onlink };
}

async function send(sock: Rtnl, verb: 'new' | 'del', spec: RouteSpec, flags: number): Promise<void> {
  const { data, attrs, onlink } = encode(spec);
  const what = `${verb === 'new' ? 'add' : 'delete'} route ${spec.type ?? ''} ${spec.dst}${spec.gateway ? ` via ${spec.gateway}` : ''}${spec.oif ? ` dev #${spec.oif}` : ''}`;
  // rtm_flags is a plain u32 in struct rtmsg; RTNH_F_ONLINK is read from it (net/ipv4/fib_semantics.c).
  const rtm = onlink ? { ...data, flags: { __unknown: RTNH_F_ONLINK } } : data;
  await request(what, () =>
    verb === 'new'
      ? sock.newRoute(rtm as never, attrs as never, { flags })
      : sock.delRoute(rtm as never, attrs as never),
  );
}

/** Adds a route; fails with EEXIST if the same route exists. */
export async function addRoute(sock: Rtnl, spec: RouteSpec): Promise<void> {
  await send(sock, 'new', spec, NLM_F_CREATE | NLM_F_EXCL);
}

/** Adds or replaces the route for this destination (same table, tos, priority). */
export async function replaceRoute(sock: Rtnl, spec: RouteSpec): Promise<void> {
  await send(sock, 'new', spec, NLM_F_CREATE | NLM_F_REPLACE);
}

/** Deletes a route; returns false when no such route existed. */
export async function deleteRoute(sock: Rtnl, spec: RouteSpec): Promise<boolean> {
  try {
    await send(sock, 'del', { ...spec, protocol: spec.protocol ?? 0, scope: spec.scope ?? RouteScope.nowhere }, 0);
    return true;
  } catch (err) {
    if (isErrno(err, 'ESRCH', 'ENOENT')) return false;
    throw err;
  }
}

// The package decodes known enum values to their names ("BLACKHOLE"); back to numbers.
function enumNumber(e: object, v: number | string | undefined): number {
  if (typeof v === 'number') return v;
  if (v === undefined) return 0;
  return (e as Record<string, number>)[v] ?? Number(v);
}

const typeNames = Object.fromEntries(Object.entries(RouteType).map(([k, v]) => [v, k])) as Record<number, RouteTypeName>;

/** Routes of one family (or both) in one table (default main); pass `table: 0` for all tables. */
export async function listRoutes(sock: Rtnl, opts: { family?: Family; table?: number } = {}): Promise<RouteInfo[]> {
  const table = opts.table ?? RouteTable.main;
  const { rt } = netlinkPackage();
  const msgs = await sock.getRoutes(opts.family ? { family: afOf(opts.family) } : undefined);
  const out: RouteInfo[] = [];
  for (const m of msgs) {
    const d = m.data as { family?: number; dstLen?: number; table?: number; protocol?: number | string; scope?: number | string; type?: number | string };
    const a = m.attrs as { dst?: Buffer; gateway?: Buffer; oif?: number; prefsrc?: Buffer; table?: number; priority?: number; multipath?: Buffer };
    const family: Family = d.family === 10 ? 6 : 4;
    if (d.family !== 2 && d.family !== 10) continue;
    const rtTable = a.table ?? d.table ?? 0;
    if (table && rtTable !== table) continue;
    const zero = family === 4 ? '0.0.0.0' : '::';
    const typeNum = enumNumber(rt.RouteType, d.type);
    out.push({
      dst: `${a.dst ? bufferToIp(a.dst) : zero}/${d.dstLen ?? 0}`,
      gateway: a.gateway ? bufferToIp(a.gateway) : undefined,
      oif: a.oif,
      scope: enumNumber(rt.RouteScope, d.scope),
      protocol: enumNumber(rt.RouteProtocol, d.protocol),
      table: rtTable,
      type: typeNames[typeNum] ?? typeNum,
      src: a.prefsrc ? bufferToIp(a.prefsrc) : undefined,
      priority: a.priority,
      family,
      ...(a.multipath ? { multipath: decodeMultipath(a.multipath) } : {}),
    });
  }
  return out;
}

export { isErrno };
