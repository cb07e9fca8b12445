// What both tunnel modes do to their device: find the underlay (the device
// holding this node's InternalIP, whose MTU the tunnel's is taken from and
// whose subnet cross-subnet encapsulation compares peers with), and keep the
// node's tunnel address as the device's only address.
import { NetletError } from '../base/errors.ts';
import type { Family } from '../base/family.ts';
import { addAddress, deleteAddress, linkByIndex, listAddresses } from '../netlink/index.ts';
import type { Rtnl } from '../netlink/index.ts';

export interface Underlay {
  index: number;
  name: string;
  mtu: number;
  /** The InternalIP with the prefix length it has on the device, e.g. "192.168.1.10/24". */
  subnet: string;
}

/** The device holding `address`; a clear error when none does (the Node's InternalIP is not this node's). */
export async function findUnderlay(sock: Rtnl, address: string): Promise<Underlay> {
  const held = (await listAddresses(sock)).find((a) => a.cidr.slice(0, a.cidr.indexOf('/')) === address);
  const link = held && (await linkByIndex(sock, held.index));
  if (!held || !link) {
    throw new NetletError('ERR_ROUTES_UNDERLAY', `this node's InternalIP ${address} is on no device here: a tunnel needs it to send from`);
  }
  return { index: link.index, name: link.name, mtu: link.mtu, subnet: held.cidr };
}

/** Makes `address` (a host address, /32 or /128) the device's only address of its family. */
export async function keepOnlyAddress(sock: Rtnl, index: number, family: Family, address: string | undefined): Promise<void> {
  const want = address && `${address}/${family === 4 ? 32 : 128}`;
  let present = false;
  for (const a of await listAddresses(sock, index)) {
    if (a.family !== family) continue;
    // fe80:: link-local addresses are the kernel's, made for every device: not ours to remove.
    if (family === 6 && a.cidr.startsWith('fe80:')) continue;
    if (a.cidr === want) present = true;
    else await deleteAddress(sock, index, a.cidr);
  }
  if (want && !present) await addAddress(sock, index, want, { noDad: family === 6 });
}
