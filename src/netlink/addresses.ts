// Interface addresses over rtnetlink.
import type { Rtnl } from './socket.ts';
import { isErrno, request } from './errors.ts';
import { afOf, bufferToIp, ipToBuffer, parseCidr } from './ip.ts';
import { encodeAttrs } from './attrs.ts';
import { nlmsg } from './ctnetlink-codec.ts';

export interface AddressInfo {
  /** CIDR, e.g. "10.244.0.5/24". */
  cidr: string;
  index: number;
  family: 4 | 6;
}

const NLM_F_CREATE = 0x400;
const NLM_F_EXCL = 0x200;

/**
 * Adds `cidr` to the device. `exclusive: false` (the default) makes an
 * address that is already there a success, which is what "ensure the
 * gateway is on the bridge" wants. `noPrefixRoute` leaves out the connected
 * route (routed mode puts a /32 on the pod and routes itself).
 */
export async function addAddress(
  sock: Rtnl,
  index: number,
  cidr: string,
  opts: { exclusive?: boolean; noDad?: boolean } = {},
): Promise<void> {
  const { ip, prefix, family } = parseCidr(cidr);
  const addr = ipToBuffer(ip);
  try {
    await request(`add address ${cidr} on link ${index}`, () =>
      sock.newAddress(
        { family: afOf(family), prefixlen: prefix, index, flags: opts.noDad ? { nodad: true } : {} },
        { local: addr, address: addr },
        { flags: NLM_F_CREATE | NLM_F_EXCL },
      ),
    );
  } catch (err) {
    if (!opts.exclusive && isErrno(err, 'EEXIST')) return;
    throw err;
  }
}

export async function deleteAddress(sock: Rtnl, index: number, cidr: string): Promise<boolean> {
  const { ip, prefix, family } = parseCidr(cidr);
  const addr = ipToBuffer(ip);
  try {
    await sock.delAddress({ family: afOf(family), prefixlen: prefix, index }, { local: addr, address: addr });
    return true;
  } catch (err) {
    if (isErrno(err, 'EADDRNOTAVAIL', 'ENODEV')) return false;
    throw err;
  }
}

/** Addresses of one device (or of all when `index` is omitted). */
export async function listAddresses(sock: Rtnl, index?: number): Promise<AddressInfo[]> {
  const msgs = await sock.getAddresses();
  const out: AddressInfo[] = [];
  for (const m of msgs) {
    if (index !== undefined && m.data.index !== index) continue;
    const raw = m.attrs.local ?? m.attrs.address;
    if (!raw) continue;
    out.push({ cidr: `${bufferToIp(raw)}/${m.data.prefixlen}`, index: m.data.index ?? 0, family: raw.length === 4 ? 4 : 6 });
  }
  return out;
}

const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_FLAGS = 8;
const IFA_F_NODAD = 0x02;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;

/**
 * One RTM_NEWADDR or RTM_DELADDR message for a batch (netlink/batch-socket.ts),
 * where many addresses go in one datagram: kube-ipvs0 takes thousands at a
 * node's first sync, which one request each would make thousands of round
 * trips. IPv6 addresses skip duplicate address detection (nothing else can
 * answer for them).
 */
export function encodeAddressMessage(op: 'add' | 'delete', seq: number, index: number, cidr: string): Buffer {
  const { ip, prefix, family } = parseCidr(cidr);
  const addr = ipToBuffer(ip);
  const head = Buffer.alloc(8);
  head.writeUInt8(afOf(family), 0);
  head.writeUInt8(prefix, 1);
  head.writeUInt32LE(index, 4);
  const attrs = [[IFA_LOCAL, addr], [IFA_ADDRESS, addr]] as Array<[number, Buffer]>;
  if (family === 6 && op === 'add') {
    const f = Buffer.alloc(4);
    f.writeUInt32LE(IFA_F_NODAD, 0);
    attrs.push([IFA_FLAGS, f]);
  }
  const flags = NLM_F_REQUEST | NLM_F_ACK | (op === 'add' ? NLM_F_CREATE | NLM_F_EXCL : 0);
  return nlmsg(op === 'add' ? RTM_NEWADDR : RTM_DELADDR, flags, seq, Buffer.concat([head, encodeAttrs(attrs)]));
}
