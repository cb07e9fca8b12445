// Neighbour (ARP/NDP) entries and bridge/VXLAN forwarding entries over
// rtnetlink: what a VXLAN overlay needs (a permanent neighbour for each
// remote VTEP's inner gateway, an FDB entry to its outer address), and
// proxy entries. Proxy ARP for a whole interface is a sysctl (sysctl.ts,
// used by routed mode); these are the per-address tools.
import type { Rtnl } from './socket.ts';
import { isErrno, request } from './errors.ts';
import { familyOfAddress } from '../base/family.ts';
import { afOf, bufferToIp, formatMac, ipToBuffer, macToBuffer } from './ip.ts';

const NLM_F_CREATE = 0x400;
const NLM_F_REPLACE = 0x100;
const NLM_F_APPEND = 0x800;
const AF_BRIDGE = 7;

export interface NeighbourInfo {
  ip: string;
  mac: string;
  ifindex: number;
  permanent: boolean;
  proxy: boolean;
}


/** A forwarding entry of a VXLAN device: frames for `mac` go to the remote VTEP `dst`. */
export interface FdbEntry {
  mac: string;
  /** The remote VTEP's underlay address; '' for an entry without one. */
  dst: string;
  permanent: boolean;
}

/** Adds or replaces a permanent neighbour entry: `ip` is at `mac` on the device. */
export async function replaceNeighbour(sock: Rtnl, ifindex: number, ip: string, mac: string): Promise<void> {
  await request(`neighbour ${ip} lladdr ${mac} dev #${ifindex}`, () =>
    sock.newNeighbor(
      { family: afOf(familyOfAddress(ip)), ifindex, state: { permanent: true } },
      { dst: ipToBuffer(ip), lladdr: macToBuffer(mac) },
      { flags: NLM_F_CREATE | NLM_F_REPLACE },
    ),
  );
}

/** Answers ARP/NDP for `ip` on the device (a proxy entry, `ip neigh add proxy`). */
export async function addProxyNeighbour(sock: Rtnl, ifindex: number, ip: string): Promise<void> {
  await request(`proxy neighbour ${ip} dev #${ifindex}`, () =>
    sock.newNeighbor({ family: afOf(familyOfAddress(ip)), ifindex, flags: { proxy: true } }, { dst: ipToBuffer(ip) }, { flags: NLM_F_CREATE | NLM_F_REPLACE }),
  );
}

export async function deleteNeighbour(sock: Rtnl, ifindex: number, ip: string, opts: { proxy?: boolean } = {}): Promise<boolean> {
  try {
    await sock.delNeighbor({ family: afOf(familyOfAddress(ip)), ifindex, flags: opts.proxy ? { proxy: true } : {} }, { dst: ipToBuffer(ip) });
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ESRCH', 'ENODEV')) return false;
    throw err;
  }
}

/**
 * A forwarding entry on a VXLAN (or bridge port) device: frames for `mac`
 * go to the remote VTEP `dst` (`bridge fdb append MAC dev DEV dst DST self
 * permanent`). An all-zero MAC makes a default (flooding) entry.
 */
export async function appendFdb(sock: Rtnl, ifindex: number, mac: string, dst: string): Promise<void> {
  await request(`fdb ${mac} dst ${dst} dev #${ifindex}`, () =>
    sock.newNeighbor(
      { family: AF_BRIDGE, ifindex, state: { permanent: true }, flags: { self: true } },
      { lladdr: macToBuffer(mac), dst: ipToBuffer(dst) },
      { flags: NLM_F_CREATE | NLM_F_APPEND },
    ),
  );
}

export async function deleteFdb(sock: Rtnl, ifindex: number, mac: string, dst: string): Promise<boolean> {
  try {
    await sock.delNeighbor({ family: AF_BRIDGE, ifindex, flags: { self: true } }, { lladdr: macToBuffer(mac), dst: ipToBuffer(dst) });
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ESRCH', 'ENODEV')) return false;
    throw err;
  }
}

/** Neighbour entries (IPv4 and IPv6), optionally of one device. */
export async function listNeighbours(sock: Rtnl, ifindex?: number): Promise<NeighbourInfo[]> {
  const out: NeighbourInfo[] = [];
  for (const m of await sock.getNeighbors()) {
    if (m.data.family !== 2 && m.data.family !== 10) continue;
    if (ifindex !== undefined && m.data.ifindex !== ifindex) continue;
    if (!m.attrs.dst) continue;
    out.push({
      ip: bufferToIp(m.attrs.dst),
      mac: formatMac(m.attrs.lladdr),
      ifindex: m.data.ifindex ?? 0,
      permanent: Boolean(m.data.state?.permanent),
      proxy: Boolean(m.data.flags?.proxy),
    });
  }
  return out;
}

/** The forwarding (FDB) entries of one device, as `bridge fdb show dev DEV` lists them. */
export async function listFdb(sock: Rtnl, ifindex: number): Promise<FdbEntry[]> {
  const out: FdbEntry[] = [];
  for (const m of await sock.getNeighbors({ family: AF_BRIDGE })) {
    if (m.data.family !== AF_BRIDGE || m.data.ifindex !== ifindex || !m.attrs.lladdr) continue;
    out.push({ mac: formatMac(m.attrs.lladdr), dst: m.attrs.dst ? bufferToIp(m.attrs.dst) : '', permanent: Boolean(m.data.state?.permanent) });
  }
  return out;
}
