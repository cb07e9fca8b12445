// Tunnel devices over rtnetlink: VXLAN devices (created with their settings,
// read back to tell whether an existing one still matches) and the IPIP
// fallback device tunl0. Attribute numbers: include/uapi/linux/if_link.h
// (IFLA_VXLAN_*, IFLA_INFO_*).
import type { Rtnl } from './socket.ts';
import { decodeAttrs, encodeAttrs, u8, u32 } from './attrs.ts';
import type { AttrList } from './attrs.ts';
import { isErrno, request } from './errors.ts';
import { bufferToIp, ipToBuffer, macToBuffer } from './ip.ts';
import { familyOfAddress } from '../base/family.ts';

const RTM_NEWLINK = 16;
const NLM_F_CREATE = 0x400;
const NLM_F_EXCL = 0x200;
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_LINKINFO = 18;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_VXLAN_ID = 1;
const IFLA_VXLAN_LINK = 3;
const IFLA_VXLAN_LOCAL = 4;
const IFLA_VXLAN_LEARNING = 7;
const IFLA_VXLAN_PORT = 15;
const IFLA_VXLAN_LOCAL6 = 17;

export interface VxlanSpec {
  name: string;
  vni: number;
  /** UDP destination port (and the port the device listens on). */
  port: number;
  /** The underlay address the device sends from (IPv4 or IPv6: decides the outer family). */
  local: string;
  /** Index of the underlay device the outer packets leave by. */
  link: number;
  mtu: number;
  /** The device's MAC (its VTEP address on the overlay). */
  mac: string;
}

/** What an existing VXLAN device was made with, to compare with a VxlanSpec. */
export interface VxlanSettings {
  vni: number;
  port: number;
  local: string;
  link: number;
  learning: boolean;
}

const be16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v, 0);
  return b;
};

/**
 * Creates a VXLAN device with learning off (every remote VTEP comes from a
 * permanent FDB entry; learning would let any packet reaching the port
 * teach the device a new MAC → address mapping). Created down; fails with
 * EEXIST when the name is taken.
 */
export async function createVxlan(sock: Rtnl, spec: VxlanSpec): Promise<void> {
  const v6 = familyOfAddress(spec.local) === 6;
  const data: AttrList = [
    [IFLA_VXLAN_ID, u32(spec.vni)],
    [IFLA_VXLAN_LINK, u32(spec.link)],
    [v6 ? IFLA_VXLAN_LOCAL6 : IFLA_VXLAN_LOCAL, ipToBuffer(spec.local)],
    [IFLA_VXLAN_LEARNING, u8(0)],
    [IFLA_VXLAN_PORT, be16(spec.port)],
  ];
  const attrs: AttrList = [
    [IFLA_IFNAME, spec.name],
    [IFLA_MTU, u32(spec.mtu)],
    [IFLA_ADDRESS, macToBuffer(spec.mac)],
    [IFLA_LINKINFO, [[IFLA_INFO_KIND, 'vxlan'], [IFLA_INFO_DATA, data]]],
  ];
  await request(`create vxlan ${spec.name} (vni ${spec.vni}, port ${spec.port}, local ${spec.local})`, () =>
    sock.request(RTM_NEWLINK, Buffer.concat([Buffer.alloc(16), encodeAttrs(attrs)]), { flags: NLM_F_CREATE | NLM_F_EXCL }),
  );
}

/** The settings of the VXLAN device `name`; undefined when there is no such device, or it is not a VXLAN one. */
export async function vxlanSettings(sock: Rtnl, name: string): Promise<VxlanSettings | undefined> {
  let msgs;
  try {
    msgs = await sock.getLink({}, { ifname: name });
  } catch (err) {
    if (isErrno(err, 'ENODEV')) return undefined;
    throw err;
  }
  const info = msgs[0]?.attrs.linkinfo;
  if (!info) return undefined;
  const top = decodeAttrs(info);
  if (top.get(IFLA_INFO_KIND)?.toString().replace(/\0+$/, '') !== 'vxlan') return undefined;
  const d = decodeAttrs(top.get(IFLA_INFO_DATA) ?? Buffer.alloc(0));
  const local = d.get(IFLA_VXLAN_LOCAL) ?? d.get(IFLA_VXLAN_LOCAL6);
  return {
    vni: d.get(IFLA_VXLAN_ID)?.readUInt32LE(0) ?? 0,
    port: d.get(IFLA_VXLAN_PORT)?.readUInt16BE(0) ?? 0,
    local: local ? bufferToIp(local) : '',
    link: d.get(IFLA_VXLAN_LINK)?.readUInt32LE(0) ?? 0,
    learning: (d.get(IFLA_VXLAN_LEARNING)?.readUInt8(0) ?? 1) !== 0,
  };
}

/**
 * Makes sure the IPIP fallback device tunl0 exists. It belongs to the ipip
 * module (net/ipv4/ipip.c creates it in every namespace once the module is
 * loaded, and it cannot be deleted); asking to create an ipip link named
 * tunl0 loads the module, which makes the device, so the request itself
 * then ends in EEXIST: that only means it is there. Its settings stay the
 * module's (any remote, any local), which is what a tunnel to every peer needs.
 */
export async function ensureTunl0(sock: Rtnl): Promise<void> {
  const attrs: AttrList = [
    [IFLA_IFNAME, 'tunl0'],
    [IFLA_LINKINFO, [[IFLA_INFO_KIND, 'ipip']]],
  ];
  try {
    await request('create ipip device tunl0', () =>
      sock.request(RTM_NEWLINK, Buffer.concat([Buffer.alloc(16), encodeAttrs(attrs)]), { flags: NLM_F_CREATE | NLM_F_EXCL }),
    );
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  }
}

/** Sets the device's MAC address. */
export async function setLinkMac(sock: Rtnl, index: number, mac: string): Promise<void> {
  await request(`set link ${index} address ${mac}`, () => sock.setLink({ index }, { address: macToBuffer(mac) }));
}
