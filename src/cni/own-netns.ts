// The node's own network namespace is never a pod's: a CNI_NETNS that names
// it (by mistake, or on purpose through a bind mount or /proc/PID/ns/net of a
// host process) would put the pod's interface, addresses and routes on the
// node itself. A namespace is known by its nsfs inode and device, not its
// path, so the opened CNI_NETNS is compared with the plugin's own namespace.
// (The agent's CNI server runs in the node's namespace too: hostNetwork.)
import { fstatSync, statSync } from 'node:fs';
import { CniCode, CniError } from './errors.ts';

/** The namespace this process runs in. */
export const OWN_NETNS = '/proc/self/ns/net';

/** Throws CniError 4 (invalid CNI_NETNS) when `netnsFd` is this process's own network namespace. */
export function refuseOwnNetns(netnsFd: number, path: string, own = OWN_NETNS): void {
  const target = fstatSync(netnsFd);
  const self = statSync(own);
  if (target.ino === self.ino && target.dev === self.dev) {
    throw new CniError(
      CniCode.invalidEnvironment,
      `CNI_NETNS ${path} is the plugin's own network namespace (the node's); refusing to configure it as a pod's`,
      `netns inode ${target.ino} on device ${target.dev}, the same as ${own}`,
    );
  }
}
