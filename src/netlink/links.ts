// Network devices over rtnetlink: veth pairs (the peer created directly in
// another namespace), bridges, up/down, MTU, bridge membership, hairpin,
// delete, lookup. Attribute numbers are from include/uapi/linux/if_link.h.
import type { Rtnl } from './socket.ts';
import type { rt } from 'netlink';
import { encodeAttrs, decodeAttrs, u8, u32 } from './attrs.ts';
import { isErrno, request } from './errors.ts';
import { formatMac } from './ip.ts';

const RTM_NEWLINK = 16;
const RTM_SETLINK = 19;
const NLM_F_CREATE = 0x400;
const NLM_F_EXCL = 0x200;
const AF_BRIDGE = 7;
const IFF_UP = 0x1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_PROTINFO = 12;
const IFLA_LINKINFO = 18;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const IFLA_BRPORT_MODE = 4; // hairpin

export interface LinkInfo {
  index: number;
  name: string;
  mtu: number;
  mac: string;
  up: boolean;
  /** Index of the bridge (or other master) it belongs to, 0 when none. */
  master: number;
  /** rtnl kind: 'veth', 'bridge', … ('' for physical or unknown). */
  kind: string;
  /** IFLA_IFALIAS, '' when none. */
  alias: string;
}

/** struct ifinfomsg: family, pad, type, index, flags, change. */
function ifinfomsg(opts: { family?: number; index?: number; up?: boolean } = {}): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(opts.family ?? 0, 0);
  b.writeInt32LE(opts.index ?? 0, 4);
  if (opts.up) {
    b.writeUInt32LE(IFF_UP, 8);
    b.writeUInt32LE(IFF_UP, 12);
  }
  return b;
}

function toLinkInfo(msg: rt.LinkMessage): LinkInfo {
  const a = msg.attrs;
  const kind = a.linkinfo ? decodeAttrs(a.linkinfo).get(IFLA_INFO_KIND)?.toString().replace(/\0+$/, '') : '';
  return {
    index: msg.data.index ?? 0,
    name: a.ifname ?? '',
    mtu: a.mtu ?? 0,
    mac: formatMac(a.address),
    up: Boolean(msg.data.flags?.up),
    master: a.master ?? 0,
    kind: kind ?? '',
    alias: a.ifalias ?? '',
  };
}

/** The device called `name`, or undefined when there is none. */
export async function linkByName(sock: Rtnl, name: string): Promise<LinkInfo | undefined> {
  try {
    const [msg] = await sock.getLink({}, { ifname: name });
    return msg ? toLinkInfo(msg) : undefined;
  } catch (err) {
    if (isErrno(err, 'ENODEV')) return undefined;
    throw err;
  }
}

export async function linkByIndex(sock: Rtnl, index: number): Promise<LinkInfo | undefined> {
  try {
    const [msg] = await sock.getLink({ index });
    return msg ? toLinkInfo(msg) : undefined;
  } catch (err) {
    if (isErrno(err, 'ENODEV')) return undefined;
    throw err;
  }
}

export async function listLinks(sock: Rtnl): Promise<LinkInfo[]> {
  return (await sock.getLinks()).map(toLinkInfo);
}

export interface VethSpec {
  /** This end's name, in the socket's namespace. */
  name: string;
  /** The other end's name, inside the namespace `peerNetnsFd` refers to. */
  peerName: string;
  /** An open fd of the peer's network namespace (IFLA_NET_NS_FD). */
  peerNetnsFd: number;
  mtu?: number;
}

/**
 * Creates a veth pair in one request with its peer born directly in the
 * target namespace (veth's VETH_INFO_PEER carries its own ifinfomsg and
 * attributes, including IFLA_NET_NS_FD), so there is no rename-and-move step
 * and no moment where the pod's interface name exists on the host. Fails
 * with EEXIST if either name is taken.
 */
export async function createVeth(sock: Rtnl, spec: VethSpec): Promise<void> {
  const peerAttrs: Array<[number, Buffer | string]> = [
    [IFLA_IFNAME, spec.peerName],
    [IFLA_NET_NS_FD, u32(spec.peerNetnsFd)],
  ];
  if (spec.mtu) peerAttrs.push([IFLA_MTU, u32(spec.mtu)]);
  const peer = Buffer.concat([ifinfomsg(), encodeAttrs(peerAttrs)]);
  const attrs: Array<[number, Buffer | string | Array<[number, Buffer | string | Array<[number, Buffer]>]>]> = [
    [IFLA_IFNAME, spec.name],
    [IFLA_LINKINFO, [[IFLA_INFO_KIND, 'veth'], [IFLA_INFO_DATA, [[VETH_INFO_PEER, peer]]]]],
  ];
  if (spec.mtu) attrs.push([IFLA_MTU, u32(spec.mtu)]);
  // Both ends are created down: asking for IFF_UP in the same request was
  // refused (ENOTCONN) on this kernel; callers bring them up afterwards.
  const body = Buffer.concat([ifinfomsg(), encodeAttrs(attrs)]);
  await request(`create veth ${spec.name} (peer ${spec.peerName})`, () =>
    sock.request(RTM_NEWLINK, body, { flags: NLM_F_CREATE | NLM_F_EXCL }),
  );
}

/** Creates a Linux bridge `name` (up) unless one exists; returns it. */
export async function ensureBridge(sock: Rtnl, name: string, mtu?: number): Promise<LinkInfo> {
  const existing = await linkByName(sock, name);
  if (existing) {
    if (existing.kind && existing.kind !== 'bridge') throw new Error(`${name} exists and is a ${existing.kind}, not a bridge`);
    if (!existing.up) await setLinkUp(sock, existing.index, true);
    return existing;
  }
  const attrs: Array<[number, Buffer | string | Array<[number, string]>]> = [
    [IFLA_IFNAME, name],
    [IFLA_LINKINFO, [[IFLA_INFO_KIND, 'bridge']]],
  ];
  if (mtu) attrs.push([IFLA_MTU, u32(mtu)]);
  try {
    await request(`create bridge ${name}`, () =>
      sock.request(RTM_NEWLINK, Buffer.concat([ifinfomsg({ up: true }), encodeAttrs(attrs)]), {
        flags: NLM_F_CREATE | NLM_F_EXCL,
      }),
    );
  } catch (err) {
    // Another ADD running at the same moment created it first: use theirs.
    if (!isErrno(err, 'EEXIST')) throw err;
  }
  const created = await linkByName(sock, name);
  if (!created) throw new Error(`bridge ${name} vanished right after creation`);
  return created;
}

/**
 * Creates a dummy device `name`, left down, unless one exists; returns it.
 * A dummy device holds addresses the node must treat as its own (IPVS's
 * kube-ipvs0) without answering ARP for them or routing anything out of it.
 */
export async function ensureDummy(sock: Rtnl, name: string): Promise<LinkInfo> {
  const existing = await linkByName(sock, name);
  if (existing) {
    if (existing.kind && existing.kind !== 'dummy') throw new Error(`${name} exists and is a ${existing.kind}, not a dummy device`);
    return existing;
  }
  try {
    await request(`create dummy ${name}`, () =>
      sock.request(RTM_NEWLINK, Buffer.concat([ifinfomsg(), encodeAttrs([[IFLA_IFNAME, name], [IFLA_LINKINFO, [[IFLA_INFO_KIND, 'dummy']]]])]), {
        flags: NLM_F_CREATE | NLM_F_EXCL,
      }),
    );
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  }
  const created = await linkByName(sock, name);
  if (!created) throw new Error(`dummy device ${name} vanished right after creation`);
  return created;
}

export async function setLinkUp(sock: Rtnl, index: number, up: boolean): Promise<void> {
  await request(`set link ${index} ${up ? 'up' : 'down'}`, () =>
    sock.setLink({ index, change: { up: true }, flags: up ? { up: true } : {} }),
  );
}

export async function setMtu(sock: Rtnl, index: number, mtu: number): Promise<void> {
  await request(`set link ${index} mtu ${mtu}`, () => sock.setLink({ index }, { mtu }));
}

/** Enslaves the device to a bridge (master index), or frees it with 0. */
export async function setMaster(sock: Rtnl, index: number, masterIndex: number): Promise<void> {
  await request(`set link ${index} master ${masterIndex}`, () => sock.setLink({ index }, { master: masterIndex }));
}

/**
 * Hairpin mode on a bridge port: frames may leave by the port they came in,
 * so a pod reaches itself through a Service VIP. An AF_BRIDGE RTM_SETLINK with
 * a nested IFLA_PROTINFO (net/bridge/br_netlink.c br_setlink: without
 * NLA_F_NESTED the kernel reads it as the legacy STP state byte instead).
 */
export async function setHairpin(sock: Rtnl, index: number, on: boolean): Promise<void> {
  const body = Buffer.concat([
    ifinfomsg({ family: AF_BRIDGE, index }),
    encodeAttrs([[IFLA_PROTINFO, [[IFLA_BRPORT_MODE, u8(on ? 1 : 0)]]]]),
  ]);
  await request(`set hairpin on link ${index}`, () => sock.request(RTM_SETLINK, body));
}

/** Deletes a device by name; returns false when it did not exist. */
export async function deleteLink(sock: Rtnl, name: string): Promise<boolean> {
  try {
    await sock.delLink({}, { ifname: name });
    return true;
  } catch (err) {
    if (isErrno(err, 'ENODEV')) return false;
    throw err;
  }
}

/** Sets the device's alias (IFLA_IFALIAS, shown by `ip link`); '' clears it. */
export async function setAlias(sock: Rtnl, index: number, alias: string): Promise<void> {
  await request(`set alias on link ${index}`, () => sock.setLink({ index }, { ifalias: alias }));
}

/** Devices whose alias starts with `prefix`. */
export async function linksByAliasPrefix(sock: Rtnl, prefix: string): Promise<LinkInfo[]> {
  const out: LinkInfo[] = [];
  for (const m of await sock.getLinks()) {
    const alias = m.attrs.ifalias;
    if (alias && alias.startsWith(prefix)) out.push(toLinkInfo(m));
  }
  return out;
}

/**
 * Several link settings in one RTM_SETLINK (one round trip instead of one
 * per setting): bridge master, alias, up.
 */
export async function configureLink(sock: Rtnl, index: number, opts: { master?: number; alias?: string; up?: boolean }): Promise<void> {
  const attrs: { master?: number; ifalias?: string } = {};
  if (opts.master !== undefined) attrs.master = opts.master;
  if (opts.alias !== undefined) attrs.ifalias = opts.alias;
  const data = opts.up === undefined ? { index } : { index, change: { up: true as const }, flags: opts.up ? { up: true as const } : {} };
  await request(`configure link ${index}`, () => sock.setLink(data, attrs));
}
