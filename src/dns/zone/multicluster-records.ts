import { isIP } from 'node:net';
import type { EndpointSlice, ServiceImport } from '../../k8s/objects.ts';
import { endpointLabel } from './service-records.ts';
import type { NameRecords, ServiceRecordOptions } from './service-records.ts';

// What one ServiceImport contributes to a clusterset zone (KEP-1645, the
// MCS API's DNS specification), computed from the import and the
// EndpointSlices labelled multicluster.kubernetes.io/service-name for it.
// Names are relative to the zone ("web.default.svc"):
//   ClusterSetIP: the name and its named ports carry spec.ips; no endpoint names;
//   Headless: the name and its named ports carry the ready endpoints of every
//   cluster, each endpoint named "<hostname>.<clusterid>.<service>.<ns>.svc".

function entry(names: Map<string, NameRecords>, name: string): NameRecords {
  let e = names.get(name);
  if (!e) names.set(name, (e = { addresses: [], srv: [] }));
  return e;
}

function addOnce<T>(list: T[], value: T, same: (a: T, b: T) => boolean = (a, b) => a === b): void {
  if (!list.some((x) => same(x, value))) list.push(value);
}

const sameSrv = (a: { port: number; target: string }, b: { port: number; target: string }) => a.port === b.port && a.target === b.target;

export function importRecords(imp: ServiceImport, slices: readonly EndpointSlice[], opts: ServiceRecordOptions): Map<string, NameRecords> {
  const names = new Map<string, NameRecords>();
  const base = `${imp.meta.name}.${imp.meta.namespace}.svc`.toLowerCase();

  if (imp.type === 'ClusterSetIP') {
    const ips = imp.ips.filter((ip) => isIP(ip));
    if (ips.length === 0) return names;
    const main = entry(names, base);
    for (const ip of ips) addOnce(main.addresses, ip);
    for (const p of imp.ports) {
      addOnce(main.srv, { port: p.port, target: base }, sameSrv);
      if (!p.name) continue;
      const pe = entry(names, `_${p.name}._${p.protocol}.${base}`.toLowerCase());
      for (const ip of ips) addOnce(pe.addresses, ip);
      addOnce(pe.srv, { port: p.port, target: base }, sameSrv);
    }
    return names;
  }

  if (opts.noEndpoints) return names;
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue;
    // The cluster id is a DNS label (KEP-2149); a slice without one cannot name its endpoints.
    const cluster = (slice.sourceCluster ?? '').toLowerCase();
    if (!cluster) continue;
    for (const ep of slice.endpoints) {
      if (!ep.ready) continue;
      for (const ip of ep.addresses) {
        if (!isIP(ip)) continue;
        const target = `${endpointLabel(ep.hostname, ep.targetPod?.name, ip, opts)}.${cluster}.${base}`;
        const own = entry(names, target);
        addOnce(own.addresses, ip);
        const main = entry(names, base);
        addOnce(main.addresses, ip);
        for (const p of slice.ports) {
          addOnce(own.srv, { port: p.port, target }, sameSrv);
          addOnce(main.srv, { port: p.port, target }, sameSrv);
          if (!p.name) continue;
          const pe = entry(names, `_${p.name}._${p.protocol}.${base}`.toLowerCase());
          addOnce(pe.addresses, ip);
          addOnce(pe.srv, { port: p.port, target }, sameSrv);
        }
      }
    }
  }
  return names;
}
