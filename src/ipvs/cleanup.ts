// `netlet cleanup` of the IPVS mode: the virtual servers, kube-ipvs0 and the
// ipsets. netlet's IPVS state has kube-proxy's names, so this removes what
// kube-proxy's IPVS mode left as well. A virtual server is ours when its
// address is on kube-ipvs0 (ClusterIPs, external and LB IPs) or it is a
// NodePort (a local address and a port in the NodePort sets); every other
// one (keepalived's, those ipvs.excludeCIDRs protects) is left alone. The
// iptables chains that match the sets go with the iptables mode's cleanup,
// which `netlet cleanup` runs first (a set in use cannot be destroyed).

import type { CleanupOptions, CleanupReport } from '../proxier/backend-kind.ts';
import { openIpvs, IpvsError } from '../netlink/ipvs.ts';
import type { IpvsChange } from '../netlink/ipvs.ts';
import { deleteDummyDevice, DUMMY_DEVICE, KubeIpvs0 } from './dummy-device.ts';
import { destroyOwnedSets, readSets, systemIpset } from './ipsets.ts';
import { SET, setName } from './ipset-names.ts';
import { nodeAddresses } from './node-addresses.ts';
import { linkByName, withRtnl } from '../netlink/index.ts';

export async function cleanupIpvs(_opts: CleanupOptions): Promise<CleanupReport[]> {
  const reports: CleanupReport[] = [];
  reports.push(await part('ipvs', 'virtual server', removeVirtualServers));
  reports.push(await part(DUMMY_DEVICE, 'device', async () => ((await deleteDummyDevice()) ? 1 : 0)));
  reports.push(await part('ipset', 'set', () => destroyOwnedSets()));
  return reports;
}

async function part(what: string, unit: string, run: () => Promise<number>): Promise<CleanupReport> {
  try {
    return { what, unit, removed: await run() };
  } catch (err) {
    return { what, unit, removed: 0, error: (err as Error).message };
  }
}

async function removeVirtualServers(): Promise<number> {
  let table;
  try {
    table = await openIpvs();
  } catch (err) {
    // No IPVS in this kernel: nothing of ours can be there.
    if (err instanceof IpvsError) return 0;
    throw err;
  }
  try {
    const bound = new Set<string>();
    const hasDevice = await withRtnl(undefined, async (sock) => (await linkByName(sock, DUMMY_DEVICE)) !== undefined);
    if (hasDevice) {
      const dev = new KubeIpvs0();
      for (const f of [4, 6] as const) for (const a of await dev.addresses(f)) bound.add(a);
    }
    const local = new Set([...nodeAddresses(4).local]);
    const sets = await readSets(systemIpset).catch(() => new Map<string, Set<string>>());
    const nodePorts = new Set<string>();
    for (const s of [SET.nodePortTCP, SET.nodePortLocalTCP, SET.nodePortUDP, SET.nodePortLocalUDP]) {
      for (const f of [4, 6] as const) for (const e of sets.get(setName(s, f)) ?? []) nodePorts.add(e);
    }
    const doomed: IpvsChange[] = [];
    for (const s of await table.listServices()) {
      const nodePort = local.has(s.address) && nodePorts.has(String(s.port));
      if (bound.has(s.address) || nodePort) doomed.push({ op: 'delete-service', service: s });
    }
    const failures = await table.apply(doomed);
    if (failures.length) throw new IpvsError(`${failures.length} virtual server(s) could not be deleted: ${failures[0].errno}`);
    return doomed.length;
  } finally {
    table.close();
  }
}
