import { isIP } from 'node:net';
import type { EndpointSlice, Service } from '../../k8s/objects.ts';

// What one Service contributes to the zone, computed from the Service and
// its EndpointSlices alone, so a change to one service recomputes only its
// own names (the zone index swaps the result in). Names here are relative
// to the cluster zone: "web.default.svc".

/** An SRV answer before its weight is known: CoreDNS gives every target of one answer the weight floor(100/n). */
export interface SrvTarget {
  port: number;
  /** Relative name of the target. */
  target: string;
}

export interface NameRecords {
  /** A and AAAA addresses of this name. */
  addresses: string[];
  srv: SrvTarget[];
  /** ExternalName services: the absolute target, lowercase, with the trailing dot. */
  cname?: string;
}

export interface ServiceRecords {
  names: Map<string, NameRecords>;
  /** IP → relative names for PTR. */
  ptrs: Array<[ip: string, target: string]>;
}

export interface ServiceRecordOptions {
  /** CoreDNS `endpoint_pod_names`: name endpoints after their pod when they have no hostname. */
  endpointPodNames: boolean;
  /** CoreDNS `noendpoints`: endpoints are not read at all, so only ClusterIP and ExternalName names exist. */
  noEndpoints?: boolean;
  /** CoreDNS `ignore empty_service`: a ClusterIP service with no ready endpoint has no names (NXDOMAIN); its PTRs stay, as CoreDNS's reverse lookup does not check. */
  ignoreEmptyService?: boolean;
}

/** The endpoint label CoreDNS uses: the hostname, else (optionally) the pod name, else the IP with '.' or ':' as '-'. */
export function endpointLabel(hostname: string, podName: string | undefined, ip: string, opts: ServiceRecordOptions): string {
  if (hostname) return hostname.toLowerCase();
  if (opts.endpointPodNames && podName) return podName.toLowerCase();
  return ip.replace(/[.:]/g, '-').toLowerCase();
}

function entry(names: Map<string, NameRecords>, name: string): NameRecords {
  let e = names.get(name);
  if (!e) names.set(name, (e = { addresses: [], srv: [] }));
  return e;
}

function pushUnique<T>(list: T[], value: T, same: (a: T, b: T) => boolean): void {
  if (!list.some((x) => same(x, value))) list.push(value);
}
const sameSrv = (a: SrvTarget, b: SrvTarget) => a.port === b.port && a.target === b.target;
const sameAddr = (a: string, b: string) => a === b;

interface ReadyAddress {
  ip: string;
  label: string;
  ports: EndpointSlice['ports'];
}

/** Ready endpoint addresses (publishNotReadyAddresses counts every endpoint as ready, as the spec says). */
function readyAddresses(svc: Service, slices: EndpointSlice[], opts: ServiceRecordOptions): ReadyAddress[] {
  const out: ReadyAddress[] = [];
  if (opts.noEndpoints) return out;
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue;
    for (const ep of slice.endpoints) {
      if (!ep.ready && !svc.publishNotReadyAddresses) continue;
      for (const ip of ep.addresses) {
        // The store is not trusted to hold only addresses: a bad one is left out, never encoded.
        if (!isIP(ip)) continue;
        out.push({ ip, label: endpointLabel(ep.hostname, ep.targetPod?.name, ip, opts), ports: slice.ports });
      }
    }
  }
  return out;
}

export function serviceRecords(svc: Service, slices: EndpointSlice[], opts: ServiceRecordOptions): ServiceRecords {
  const names = new Map<string, NameRecords>();
  const ptrs: Array<[string, string]> = [];
  const base = `${svc.meta.name}.${svc.meta.namespace}.svc`.toLowerCase();

  if (svc.type === 'ExternalName') {
    // CoreDNS: an ExternalName service has no endpoint names or ports, and
    // one whose externalName is an IP address answers nothing (NXDOMAIN).
    if (svc.externalName && !isIP(svc.externalName)) names.set(base, { addresses: [], srv: [], cname: svc.externalName.toLowerCase().replace(/\.?$/, '.') });
    return { names, ptrs };
  }

  const ready = readyAddresses(svc, slices, opts);
  // Endpoint names exist for every service with endpoints, as CoreDNS
  // answers `endpoint.svc.ns.svc.zone` for ClusterIP services too.
  for (const a of ready) {
    const name = `${a.label}.${base}`;
    const e = entry(names, name);
    pushUnique(e.addresses, a.ip, sameAddr);
    for (const p of a.ports) pushUnique(e.srv, { port: p.port, target: name }, sameSrv);
    ptrs.push([a.ip, name]);
  }

  if (svc.headless) {
    // Spec: a headless service with no ready endpoint has no records (NXDOMAIN).
    if (ready.length === 0) return { names, ptrs };
    const main = entry(names, base);
    for (const a of ready) {
      pushUnique(main.addresses, a.ip, sameAddr);
      for (const p of a.ports) {
        const srv = { port: p.port, target: `${a.label}.${base}` };
        main.srv.push(srv);
        if (!p.name) continue;
        const portName = `_${p.name}._${p.protocol}.${base}`.toLowerCase();
        const pe = entry(names, portName);
        pushUnique(pe.addresses, a.ip, sameAddr);
        pe.srv.push(srv);
      }
    }
    return { names, ptrs };
  }

  const clusterIPs = svc.clusterIPs.filter((ip) => isIP(ip));
  if (opts.ignoreEmptyService && ready.length === 0) {
    for (const ip of clusterIPs) ptrs.push([ip, base]);
    return { names, ptrs };
  }
  const main = entry(names, base);
  for (const ip of clusterIPs) {
    pushUnique(main.addresses, ip, sameAddr);
    ptrs.push([ip, base]);
  }
  for (const p of svc.ports) {
    for (const _ of clusterIPs) main.srv.push({ port: p.port, target: base });
    if (!p.name) continue;
    const pe = entry(names, `_${p.name}._${p.protocol}.${base}`.toLowerCase());
    for (const ip of clusterIPs) {
      pushUnique(pe.addresses, ip, sameAddr);
      pe.srv.push({ port: p.port, target: base });
    }
  }
  return { names, ptrs };
}
