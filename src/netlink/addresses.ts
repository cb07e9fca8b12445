// Interface addresses over rtnetlink.
import type { Rtnl } from './socket.ts';
import { isErrno, request } from './errors.ts';
import { afOf, bufferToIp, ipToBuffer, parseCidr } from './ip.ts';

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
