// CNI STATUS (SPEC.md 1.1): can this plugin service an ADD right now?
// It can when the kernel answers on rtnetlink and the IPAM's state can be read.
import { closeRtnl, linkByName, openRtnl } from '../netlink/index.ts';
import type { Ipam } from '../ipam/types.ts';
import { CniCode, CniError } from './errors.ts';

export async function cmdStatus(ipam: Ipam): Promise<void> {
  try {
    const host = openRtnl();
    try {
      await linkByName(host, 'lo');
    } finally {
      closeRtnl(host);
    }
  } catch (err) {
    throw new CniError(CniCode.notAvailable, `rtnetlink is not usable: ${(err as Error).message}`);
  }
  try {
    await ipam.lookup({ containerID: '', ifname: '' });
  } catch (err) {
    throw new CniError(CniCode.notAvailable, `IPAM is not available: ${(err as Error).message}`);
  }
}
