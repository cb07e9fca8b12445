// CNI ADD: allocate, create the veth with its pod end born in the pod's
// namespace, wire it (bridge or routed), report the result. Every side effect
// is undone, newest first, if a later step fails, so a failed ADD leaves
// neither an address held nor a device behind.
import { closeSync, openSync } from 'node:fs';
import {
  closeRtnl,
  createVeth,
  errnoOf,
  deleteLink,
  ensureSysctl,
  linkByName,
  openRtnl,
} from '../netlink/index.ts';
import type { Rtnl } from '../netlink/index.ts';
import type { Ipam } from '../ipam/types.ts';
import type { CniEnv } from './env.ts';
import type { NetConf } from './config.ts';
import { CniCode, CniError } from './errors.ts';
import { UndoStack, attachmentOf, hostVethAlias, hostVethName, ownerOf } from './attachment.ts';
import { mergeResults } from './result.ts';
import { refuseOwnNetns } from './own-netns.ts';
import type { CniResult } from './result.ts';
import { bridgeMode } from './bridge-mode.ts';
import { podMtu } from './pod-mtu.ts';
import { routedMode } from './routed-mode.ts';
import type { Mode } from './dataplane.ts';

export const modes: Record<NetConf['mode'], Mode> = { bridge: bridgeMode, routed: routedMode };

/** Opens the pod's netns file, naming it in the error the runtime shows. */
export function openNetns(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (err) {
    throw new CniError(CniCode.ioFailure, `cannot open network namespace ${path}: ${(err as NodeJS.ErrnoException).code}`);
  }
}

export async function cmdAdd(env: CniEnv, given: NetConf, ipam: Ipam): Promise<CniResult> {
  const undo = new UndoStack();
  const id = attachmentOf(env);
  let netnsFd = -1;
  let host: Rtnl | undefined;
  let pod: Rtnl | undefined;
  try {
    netnsFd = openNetns(env.netns);
    // Before anything is allocated or created: the node's own namespace is never a pod's.
    refuseOwnNetns(netnsFd, env.netns);
    const allocs = await ipam.allocate(ownerOf(env));
    undo.push(() => ipam.release(id));
    if (allocs.length === 0) throw new CniError(CniCode.internal, 'IPAM returned no address');

    host = openRtnl();
    pod = openRtnl(env.netns);
    const conf = given.mtu ? given : { ...given, mtu: await podMtu(host) };
    const hostName = hostVethName(id);
    const veth = { name: hostName, peerName: env.ifname, peerNetnsFd: netnsFd, mtu: conf.mtu };
    try {
      await createVeth(host, veth);
    } catch (err) {
      // A veth left by an earlier ADD of this attachment that died half-way
      // (cleared only when found: one round trip less on every other ADD).
      if (errnoOf(err) !== 'EEXIST' || !(await deleteLink(host, hostName))) throw err;
      await createVeth(host, veth);
    }
    const hostSock = host;
    undo.push(() => deleteLink(hostSock, hostName));
    const hostVeth = await linkByName(host, hostName);
    const podIf = await linkByName(pod, env.ifname);
    if (!hostVeth || !podIf) throw new CniError(CniCode.internal, `veth ${hostName}/${env.ifname} vanished after creation`);
    const alias = hostVethAlias(conf.name, id);
    const wiring = await modes[conf.mode].attach({ conf, host, pod, netnsPath: env.netns, hostVeth, podIf, allocs, alias });
    // Forwarding is a node-wide setting: written once, read on every ADD after that.
    ensureSysctl('net.ipv4.ip_forward', '1');
    if (allocs.some((a) => a.family === 6)) ensureSysctl('net.ipv6.conf.all.forwarding', '1');

    const podIndex = wiring.hostInterfaces.length + 1;
    const mine: CniResult = {
      cniVersion: conf.cniVersion,
      interfaces: [
        ...wiring.hostInterfaces,
        { name: hostName, mac: hostVeth.mac },
        { name: env.ifname, mac: podIf.mac, sandbox: env.netns, mtu: podIf.mtu },
      ],
      ips: wiring.ips.map((ip) => ({ ...ip, interface: podIndex })),
      routes: wiring.routes,
      dns: conf.dns,
    };
    return mergeResults(given.prevResult, mine);
  } catch (err) {
    await undo.run();
    throw err;
  } finally {
    if (host) closeRtnl(host);
    if (pod) closeRtnl(pod);
    if (netnsFd >= 0) closeSync(netnsFd);
  }
}
