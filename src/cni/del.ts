// CNI DEL: remove the veth (its pod end and the routed-mode host route go
// with it), then release the addresses.
//
// DEL must succeed when there is nothing left to delete (SPEC.md: "Plugins
// should generally complete a DEL action without error even if some
// resources are missing"). Runtimes depend on it: containerd calls DEL on
// StopPodSandbox and again on RemovePodSandbox, retries it after a failure,
// and after a node reboot calls it for sandboxes whose netns no longer
// exists; the kubelet keeps a pod stuck Terminating until DEL succeeds.
import { closeRtnl, deleteLink, linkByName, openRtnl } from '../netlink/index.ts';
import type { Ipam } from '../ipam/types.ts';
import type { CniEnv } from './env.ts';
import { attachmentOf, hostVethName } from './attachment.ts';

export async function cmdDel(env: CniEnv, ipam: Ipam): Promise<void> {
  const id = attachmentOf(env);
  const host = openRtnl();
  try {
    const removed = await deleteLink(host, hostVethName(id));
    if (!removed && env.netns) await deletePodEnd(env.netns, env.ifname);
  } finally {
    closeRtnl(host);
  }
  // Released last: the address must not go to a new pod while still configured.
  await ipam.release(id);
}

/** The host end was gone; remove a pod end that survived (e.g. the host end was deleted by hand). */
async function deletePodEnd(netnsPath: string, ifname: string): Promise<void> {
  let pod;
  try {
    pod = openRtnl(netnsPath);
  } catch {
    return; // the netns is gone, and with it the pod end
  }
  try {
    const link = await linkByName(pod, ifname);
    if (link?.kind === 'veth') await deleteLink(pod, ifname);
  } finally {
    closeRtnl(pod);
  }
}
