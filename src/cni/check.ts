// CNI CHECK: the pod's network is still as ADD left it, and as the
// runtime's cached result (prevResult) says.
import { closeSync } from 'node:fs';
import { closeRtnl, linkByName, openRtnl } from '../netlink/index.ts';
import type { Rtnl } from '../netlink/index.ts';
import type { Ipam } from '../ipam/types.ts';
import type { CniEnv } from './env.ts';
import type { NetConf } from './config.ts';
import { CniCode, CniError } from './errors.ts';
import { attachmentOf, hostVethName } from './attachment.ts';
import { modes, openNetns } from './add.ts';
import { ipOf } from './dataplane.ts';
import { podMtu } from './pod-mtu.ts';

export async function cmdCheck(env: CniEnv, conf: NetConf, ipam: Ipam): Promise<void> {
  const id = attachmentOf(env);
  const allocs = await ipam.lookup(id);
  if (allocs.length === 0) throw new CniError(CniCode.checkFailed, `no address is allocated to ${id.containerID}/${id.ifname}`);
  const prevIps = new Set((conf.prevResult?.ips ?? []).map((ip) => ipOf(ip.address)));
  for (const a of allocs) {
    if (!prevIps.has(ipOf(a.address))) throw new CniError(CniCode.checkFailed, `prevResult does not list ${a.address}`);
  }
  const fd = openNetns(env.netns);
  closeSync(fd);
  let host: Rtnl | undefined;
  let pod: Rtnl | undefined;
  try {
    host = openRtnl();
    pod = openRtnl(env.netns);
    const hostName = hostVethName(id);
    const hostVeth = await linkByName(host, hostName);
    if (!hostVeth) throw new CniError(CniCode.checkFailed, `host veth ${hostName} is missing`);
    if (!hostVeth.up) throw new CniError(CniCode.checkFailed, `host veth ${hostName} is down`);
    const podIf = await linkByName(pod, env.ifname);
    if (!podIf) throw new CniError(CniCode.checkFailed, `${env.ifname} is missing in the pod`);
    if (!podIf.up) throw new CniError(CniCode.checkFailed, `${env.ifname} is down in the pod`);
    const mtu = conf.mtu || (await podMtu(host));
    if (podIf.mtu !== mtu) throw new CniError(CniCode.checkFailed, `${env.ifname} has MTU ${podIf.mtu}, ${conf.mtu ? 'config says' : "the node's tunnel MTU is"} ${mtu}`);
    await modes[conf.mode].check({ conf, host, pod, netnsPath: env.netns, hostVeth, podIf, allocs });
  } finally {
    if (host) closeRtnl(host);
    if (pod) closeRtnl(pod);
  }
}
