// The IPVS generic-netlink codec (include/uapi/linux/ip_vs.h): virtual
// services and their real servers (destinations) to and from the bytes of
// the `IPVS` genl family. Pure functions over buffers, so the unit tests pin
// every byte; ipvs.ts sends them over a socket.

import { AF_INET, AF_INET6, bufferToIp, ipToBuffer } from './ip.ts';
import { nlmsg } from './ctnetlink-codec.ts';
import { attr, nested } from './attrs.ts';
import type { Family } from '../base/family.ts';

export const NETLINK_GENERIC = 16;
export const GENL_ID_CTRL = 16;
export const CTRL_CMD_GETFAMILY = 3;
const CTRL_ATTR_FAMILY_ID = 1;
const CTRL_ATTR_FAMILY_NAME = 2;
export const IPVS_GENL_NAME = 'IPVS';
const IPVS_GENL_VERSION = 1;

export const IPVS_CMD = {
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  GET_DEST: 8,
  SET_CONFIG: 12,
  GET_CONFIG: 13,
  FLUSH: 17,
} as const;
export type IpvsCommand = (typeof IPVS_CMD)[keyof typeof IPVS_CMD];

const CMD_ATTR_SERVICE = 1;
const CMD_ATTR_DEST = 2;
const CMD_ATTR_TIMEOUT_TCP = 4;
const CMD_ATTR_TIMEOUT_TCP_FIN = 5;
const CMD_ATTR_TIMEOUT_UDP = 6;

const SVC_AF = 1;
const SVC_PROTOCOL = 2;
const SVC_ADDR = 3;
const SVC_PORT = 4;
const SVC_FWMARK = 5;
const SVC_SCHED_NAME = 6;
const SVC_FLAGS = 7;
const SVC_TIMEOUT = 8;
const SVC_NETMASK = 9;

const DEST_ADDR = 1;
const DEST_PORT = 2;
const DEST_FWD_METHOD = 3;
const DEST_WEIGHT = 4;
const DEST_U_THRESH = 5;
const DEST_L_THRESH = 6;
const DEST_ACTIVE_CONNS = 7;
const DEST_INACT_CONNS = 8;
const DEST_ADDR_FAMILY = 11;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;

/** Service flags (IP_VS_SVC_F_*). */
export const SVC_F = {
  PERSISTENT: 0x1,
  /** Set by the kernel on every service in its hash table: never compared, never sent. */
  HASHED: 0x2,
  ONEPACKET: 0x4,
  SCHED1: 0x8,
  SCHED2: 0x10,
  SCHED3: 0x20,
} as const;

/** Forwarding methods (IP_VS_CONN_F_FWD_MASK values); netlet only uses masquerading. */
export const FWD_MASQ = 0;

/** The schedulers the kernel ships (ip_vs_*.ko), for config validation. */
export const IPVS_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos'] as const;

export const IPPROTO_NUM = { tcp: 6, udp: 17, sctp: 132 } as const;
export type IpvsProtocol = keyof typeof IPPROTO_NUM;

/** A virtual service addressed by family, protocol, address and port (netlet never uses fwmark services). */
export interface IpvsServiceId {
  family: Family;
  protocol: IpvsProtocol;
  address: string;
  port: number;
}

export interface IpvsService extends IpvsServiceId {
  scheduler: string;
  /** IP_VS_SVC_F_* without HASHED. */
  flags: number;
  /** Persistence timeout in seconds (with SVC_F.PERSISTENT). */
  timeout: number;
}

export interface IpvsDest {
  address: string;
  port: number;
  weight: number;
  /** Read back from the kernel; ignored when sending. */
  activeConns?: number;
  inactiveConns?: number;
}

export interface IpvsTimeouts {
  /** Seconds; 0 leaves the kernel's value. */
  tcp: number;
  tcpFin: number;
  udp: number;
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v, 0);
  return b;
}
function be16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v, 0);
  return b;
}
function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}
const str = (s: string): Buffer => Buffer.from(s + '\0');

/** nlmsghdr + genlmsghdr (cmd, version, reserved) + attributes. */
export function genlMessage(familyId: number, cmd: number, flags: number, seq: number, attrs: Buffer[], version = IPVS_GENL_VERSION): Buffer {
  return nlmsg(familyId, flags, seq, Buffer.concat([Buffer.from([cmd, version, 0, 0]), ...attrs]));
}

/** Asks the genl controller for a family's id by name. */
export function encodeGetFamily(seq: number, name = IPVS_GENL_NAME): Buffer {
  return genlMessage(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_REQUEST, seq, [attr(CTRL_ATTR_FAMILY_NAME, str(name))], 1);
}

/** The family id in the controller's answer (payload after the nlmsghdr). */
export function decodeFamilyId(payload: Buffer): number | undefined {
  let id: number | undefined;
  walk(payload, 4, payload.length, (type, from) => {
    if (type === CTRL_ATTR_FAMILY_ID) id = payload.readUInt16LE(from);
  });
  return id;
}

const afOf = (family: Family): number => (family === 4 ? AF_INET : AF_INET6);

function serviceIdAttrs(s: IpvsServiceId): Buffer[] {
  return [attr(SVC_AF, u16(afOf(s.family))), attr(SVC_PROTOCOL, u16(IPPROTO_NUM[s.protocol])), attr(SVC_ADDR, ipToBuffer(s.address)), attr(SVC_PORT, be16(s.port))];
}

function serviceAttr(s: IpvsServiceId, full?: IpvsService): Buffer {
  const parts = serviceIdAttrs(s);
  if (full) {
    // NEW and SET need these four together (ip_vs_genl_parse_service's full_entry).
    const flags = Buffer.concat([u32(full.flags & ~SVC_F.HASHED), u32(0xffffffff)]);
    // The netmask is a prefix length for IPv6 and a mask for IPv4 (kernel and ipvsadm alike).
    const netmask = s.family === 4 ? 0xffffffff : 128;
    parts.push(attr(SVC_SCHED_NAME, str(full.scheduler)), attr(SVC_FLAGS, flags), attr(SVC_TIMEOUT, u32(full.timeout)), attr(SVC_NETMASK, u32(netmask)));
  }
  return nested(CMD_ATTR_SERVICE, parts);
}

function destAttr(family: Family, d: IpvsDest, full: boolean): Buffer {
  const parts = [attr(DEST_ADDR, ipToBuffer(d.address)), attr(DEST_PORT, be16(d.port))];
  if (full) {
    parts.push(attr(DEST_FWD_METHOD, u32(FWD_MASQ)), attr(DEST_WEIGHT, u32(d.weight)), attr(DEST_U_THRESH, u32(0)), attr(DEST_L_THRESH, u32(0)));
  }
  parts.push(attr(DEST_ADDR_FAMILY, u16(afOf(family))));
  return nested(CMD_ATTR_DEST, parts);
}

const ACKED = NLM_F_REQUEST | NLM_F_ACK;

export const encodeNewService = (fam: number, seq: number, s: IpvsService): Buffer => genlMessage(fam, IPVS_CMD.NEW_SERVICE, ACKED, seq, [serviceAttr(s, s)]);
export const encodeSetService = (fam: number, seq: number, s: IpvsService): Buffer => genlMessage(fam, IPVS_CMD.SET_SERVICE, ACKED, seq, [serviceAttr(s, s)]);
export const encodeDelService = (fam: number, seq: number, s: IpvsServiceId): Buffer => genlMessage(fam, IPVS_CMD.DEL_SERVICE, ACKED, seq, [serviceAttr(s)]);
export const encodeNewDest = (fam: number, seq: number, s: IpvsServiceId, d: IpvsDest): Buffer =>
  genlMessage(fam, IPVS_CMD.NEW_DEST, ACKED, seq, [serviceAttr(s), destAttr(s.family, d, true)]);
export const encodeSetDest = (fam: number, seq: number, s: IpvsServiceId, d: IpvsDest): Buffer =>
  genlMessage(fam, IPVS_CMD.SET_DEST, ACKED, seq, [serviceAttr(s), destAttr(s.family, d, true)]);
export const encodeDelDest = (fam: number, seq: number, s: IpvsServiceId, d: Pick<IpvsDest, 'address' | 'port'>): Buffer =>
  genlMessage(fam, IPVS_CMD.DEL_DEST, ACKED, seq, [serviceAttr(s), destAttr(s.family, { ...d, weight: 0 }, false)]);
export const encodeDumpServices = (fam: number, seq: number): Buffer => genlMessage(fam, IPVS_CMD.GET_SERVICE, NLM_F_REQUEST | NLM_F_DUMP, seq, []);
/** A destination dump must name its service (the kernel has no "every destination" dump). */
export const encodeDumpDests = (fam: number, seq: number, s: IpvsServiceId): Buffer => genlMessage(fam, IPVS_CMD.GET_DEST, NLM_F_REQUEST | NLM_F_DUMP, seq, [serviceAttr(s)]);
export const encodeFlush = (fam: number, seq: number): Buffer => genlMessage(fam, IPVS_CMD.FLUSH, ACKED, seq, []);
export const encodeGetConfig = (fam: number, seq: number): Buffer => genlMessage(fam, IPVS_CMD.GET_CONFIG, NLM_F_REQUEST, seq, []);
/** The kernel keeps a timeout it is sent as 0 (ip_vs_set_timeout), so a 0 here means "leave it". */
export const encodeSetTimeouts = (fam: number, seq: number, t: IpvsTimeouts): Buffer =>
  genlMessage(fam, IPVS_CMD.SET_CONFIG, ACKED, seq, [attr(CMD_ATTR_TIMEOUT_TCP, u32(t.tcp)), attr(CMD_ATTR_TIMEOUT_TCP_FIN, u32(t.tcpFin)), attr(CMD_ATTR_TIMEOUT_UDP, u32(t.udp))]);

function walk(buf: Buffer, start: number, end: number, visit: (type: number, from: number, to: number) => void): void {
  let off = start;
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > end) break;
    visit(buf.readUInt16LE(off + 2) & 0x3fff, off + 4, off + len);
    off += (len + 3) & ~3;
  }
}

/** The genl command of a message payload (after the nlmsghdr). */
export const genlCommand = (payload: Buffer): number => payload[0];

const PROTOCOL_NAME = new Map<number, IpvsProtocol>(Object.entries(IPPROTO_NUM).map(([k, v]) => [v, k as IpvsProtocol]));

/** One service of a GET_SERVICE dump; undefined for a fwmark service or a protocol netlet does not use. */
export function decodeService(payload: Buffer): IpvsService | undefined {
  let out: IpvsService | undefined;
  walk(payload, 4, payload.length, (type, from, to) => {
    if (type !== CMD_ATTR_SERVICE) return;
    let af = 0;
    let proto = 0;
    let addr: Buffer | undefined;
    let port = 0;
    let fwmark = 0;
    let scheduler = '';
    let flags = 0;
    let timeout = 0;
    walk(payload, from, to, (t, f, e) => {
      if (t === SVC_AF) af = payload.readUInt16LE(f);
      else if (t === SVC_PROTOCOL) proto = payload.readUInt16LE(f);
      else if (t === SVC_ADDR) addr = payload.subarray(f, e);
      else if (t === SVC_PORT) port = payload.readUInt16BE(f);
      else if (t === SVC_FWMARK) fwmark = payload.readUInt32LE(f);
      else if (t === SVC_SCHED_NAME) scheduler = payload.toString('latin1', f, e).replace(/\0.*$/s, '');
      else if (t === SVC_FLAGS) flags = payload.readUInt32LE(f);
      else if (t === SVC_TIMEOUT) timeout = payload.readUInt32LE(f);
    });
    const protocol = PROTOCOL_NAME.get(proto);
    if (fwmark || !protocol || !addr || (af !== AF_INET && af !== AF_INET6)) return;
    const family: Family = af === AF_INET ? 4 : 6;
    // The kernel sends the whole union nf_inet_addr (16 bytes) for both families.
    const address = bufferToIp(addr.subarray(0, family === 4 ? 4 : 16));
    out = { family, protocol, address, port, scheduler, flags: flags & ~SVC_F.HASHED, timeout };
  });
  return out;
}

/** One destination of a GET_DEST dump. */
export function decodeDest(payload: Buffer, family: Family): IpvsDest | undefined {
  let out: IpvsDest | undefined;
  walk(payload, 4, payload.length, (type, from, to) => {
    if (type !== CMD_ATTR_DEST) return;
    let addr: Buffer | undefined;
    let af = family === 4 ? AF_INET : AF_INET6;
    const d: IpvsDest = { address: '', port: 0, weight: 0, activeConns: 0, inactiveConns: 0 };
    walk(payload, from, to, (t, f, e) => {
      if (t === DEST_ADDR) addr = payload.subarray(f, e);
      else if (t === DEST_PORT) d.port = payload.readUInt16BE(f);
      else if (t === DEST_WEIGHT) d.weight = payload.readInt32LE(f);
      else if (t === DEST_ACTIVE_CONNS) d.activeConns = payload.readUInt32LE(f);
      else if (t === DEST_INACT_CONNS) d.inactiveConns = payload.readUInt32LE(f);
      else if (t === DEST_ADDR_FAMILY) af = payload.readUInt16LE(f);
    });
    if (!addr) return;
    d.address = bufferToIp(addr.subarray(0, af === AF_INET ? 4 : 16));
    out = d;
  });
  return out;
}

/** The timeouts of a GET_CONFIG answer. */
export function decodeTimeouts(payload: Buffer): IpvsTimeouts {
  const t: IpvsTimeouts = { tcp: 0, tcpFin: 0, udp: 0 };
  walk(payload, 4, payload.length, (type, from) => {
    if (type === CMD_ATTR_TIMEOUT_TCP) t.tcp = payload.readUInt32LE(from);
    else if (type === CMD_ATTR_TIMEOUT_TCP_FIN) t.tcpFin = payload.readUInt32LE(from);
    else if (type === CMD_ATTR_TIMEOUT_UDP) t.udp = payload.readUInt32LE(from);
  });
  return t;
}

/** Stable text id of a service, "tcp/10.0.0.1/80" ("tcp/[fd00::1]/80" for IPv6). */
export function serviceKey(s: IpvsServiceId): string {
  return s.family === 4 ? `${s.protocol}/${s.address}/${s.port}` : `${s.protocol}/[${s.address}]/${s.port}`;
}

/** Stable text id of a destination within its service. */
export const destKey = (d: Pick<IpvsDest, 'address' | 'port'>): string => (d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`);

/** The flags a scheduler needs (kube-proxy sets mh's port hashing, so one client's connections still spread). */
export function schedulerFlags(scheduler: string): number {
  return scheduler === 'mh' ? SVC_F.SCHED2 : 0;
}
