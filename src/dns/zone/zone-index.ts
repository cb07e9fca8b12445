import type { StoreChange } from '../../k8s/store.ts';
import type { ObjectStore } from '../../k8s/store.ts';
import type { AnyObject, Kind } from '../../k8s/objects.ts';
import { canonicalIPv6 } from './reverse-names.ts';
import { RecentCache } from './recent-cache.ts';
import { serviceRecords } from './service-records.ts';
import { importRecords } from './multicluster-records.ts';
import type { NameRecords, ServiceRecordOptions, ServiceRecords } from './service-records.ts';

export interface ZoneIndexOptions extends ServiceRecordOptions {
  podsVerified: boolean;
  /** Services whose names are kept computed (the oldest computed first out); default 32. */
  recordCacheSize?: number;
}

/** A value of the PTR and owned-address maps: one item as itself, several as an array (most services and IPs have one). */
type OneOrMore = string | string[];

const items = (v: OneOrMore | undefined): readonly string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : v);

/**
 * The cluster zone's names. Names are relative to the cluster zone
 * ("web.default.svc"); the resolver adds the zone the query came in on.
 *
 * Every name of a service ends in "<service>.<namespace>.svc", so a name
 * leads straight to its Service and EndpointSlices in the store: a
 * service's names are computed from them when asked and the last few kept
 * (recent-cache.ts; hot answers are kept encoded by the handler), not stored
 * for every service up front (docs/design/dns-memory.md#zone-index-ring).
 * What cannot be found from a name is kept
 * for every service: which services an IP belongs to (for PTR) and the IPs
 * each service put there (to take them out again). A Service or
 * EndpointSlice event recomputes only that service (CoreDNS's controller
 * indexes the same way), so updates stay incremental.
 */
export class ZoneIndex {
  readonly #store: ObjectStore;
  readonly #opts: ZoneIndexOptions;
  /** Service key → its computed names and PTRs, for the last few services asked for. */
  readonly #records: RecentCache<ServiceRecords>;
  /** Service key → the (canonical) IPs it has PTRs for; present for every service in the index. */
  readonly #owned = new Map<string, OneOrMore>();
  /** IP → keys of the services with a PTR for it, in the order they were (re)computed. */
  readonly #ptrOwners = new Map<string, OneOrMore>();
  /** Lowercased key → store key, only for the rare service whose key has capitals (DNS names are matched lowercase). */
  readonly #mixedCase = new Map<string, string>();
  /** Namespace → number of services in it (a namespace with a service exists even without its Namespace object). */
  readonly #servicesPerNamespace = new Map<string, number>();
  /** ServiceImport key → keys of the EndpointSlices labelled for it (multicluster.kubernetes.io/service-name). */
  readonly #importSlices = new Map<string, Set<string>>();
  readonly #listeners = new Set<() => void>();
  #unsubscribe: (() => void) | null = null;
  #serial = Math.floor(Date.now() / 1000);
  #generation = 0;

  constructor(store: ObjectStore, opts: ZoneIndexOptions) {
    this.#store = store;
    this.#opts = opts;
    this.#records = new RecentCache(opts.recordCacheSize ?? 32);
  }

  /** Builds from what the store holds and follows its changes. */
  start(): void {
    if (this.#unsubscribe) return;
    this.#unsubscribe = this.#store.subscribe((c) => this.#onChange(c));
    for (const svc of this.#store.list('Service')) this.#recompute(`${svc.meta.namespace}/${svc.meta.name}`);
    for (const slice of this.#store.list('EndpointSlice')) this.#trackImportSlice(undefined, slice);
    this.#changed();
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  /** Called after every change that can alter an answer (encoded answers are dropped then). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** SOA serial: the time of the last change, in seconds, as CoreDNS's kubernetes plugin uses. */
  get serial(): number {
    return this.#serial;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Services in the index. */
  get services(): number {
    return this.#owned.size;
  }

  /** Services whose names are computed and kept right now (bounded by recordCacheSize). */
  get cachedServices(): number {
    return this.#records.size;
  }

  /** The records of a relative name ("web.default.svc", "_http._tcp.web.default.svc", "host.web.default.svc"). */
  name(relative: string): NameRecords | undefined {
    // The last three labels name the service: "<service>.<namespace>.svc".
    if (!relative.endsWith('.svc')) return undefined;
    const nsDot = relative.lastIndexOf('.', relative.length - 5);
    if (nsDot <= 0) return undefined;
    const svcDot = relative.lastIndexOf('.', nsDot - 1);
    const key = `${relative.slice(nsDot + 1, -4)}/${relative.slice(svcDot + 1, nsDot)}`;
    const records = this.#recordsOf(this.#mixedCase.get(key) ?? key);
    return records?.names.get(relative);
  }

  /**
   * The records of a relative name in a clusterset zone, from the
   * ServiceImport it names (multicluster-records.ts). Computed when asked:
   * imports are few, and the handler keeps hot answers encoded.
   */
  importName(relative: string): NameRecords | undefined {
    if (!relative.endsWith('.svc')) return undefined;
    const nsDot = relative.lastIndexOf('.', relative.length - 5);
    if (nsDot <= 0) return undefined;
    const svcDot = relative.lastIndexOf('.', nsDot - 1);
    const key = `${relative.slice(nsDot + 1, -4)}/${relative.slice(svcDot + 1, nsDot)}`;
    const imp = this.#store.get('ServiceImport', key);
    if (!imp) return undefined;
    const slices = [...(this.#importSlices.get(key) ?? [])].flatMap((k) => this.#store.get('EndpointSlice', k) ?? []);
    return importRecords(imp, slices, this.#opts).get(relative);
  }

  /** Relative names pointing at `ip` (ClusterIPs and ready endpoint addresses). */
  ptr(ip: string): string[] {
    const out: string[] = [];
    for (const key of items(this.#ptrOwners.get(ip))) {
      for (const [pip, target] of this.#recordsOf(key)?.ptrs ?? []) if (pip === ip && !out.includes(target)) out.push(target);
    }
    return out;
  }

  /**
   * The names that stand for a server whose own address is `ip`, as
   * CoreDNS's nsAddrs finds them: each Service with a ready endpoint at
   * `ip` gives its name and ClusterIPs, or, when headless, the endpoint's
   * name and `ip`. Names relative ("kube-dns.kube-system.svc").
   */
  servicesServedFrom(ip: string): Array<{ name: string; addresses: string[] }> {
    const out: Array<{ name: string; addresses: string[] }> = [];
    for (const key of items(this.#ptrOwners.get(ip))) {
      const svc = this.#store.get('Service', key);
      const recs = this.#recordsOf(key);
      if (!svc || !recs) continue;
      const base = `${svc.meta.name}.${svc.meta.namespace}.svc`.toLowerCase();
      for (const [pip, target] of recs.ptrs) {
        if (pip !== ip || target === base) continue;
        if (svc.headless) out.push({ name: target, addresses: [ip] });
        else out.push({ name: base, addresses: recs.names.get(base)?.addresses ?? [] });
        break;
      }
    }
    return out;
  }

  namespaceExists(ns: string): boolean {
    return this.#store.get('Namespace', ns) !== undefined || (this.#servicesPerNamespace.get(ns) ?? 0) > 0;
  }

  /** The labels of the Namespace object `ns`; undefined when the store has none (a namespace known only from its services). */
  namespaceLabels(ns: string): Readonly<Record<string, string>> | undefined {
    const obj = this.#store.get('Namespace', ns);
    return obj ? (obj.labels ?? {}) : undefined;
  }

  /** `pods verified`: a pod with this IP lives in this namespace. */
  podExists(ip: string, ns: string): boolean {
    return this.#store.podsByIP(ip).some((p) => p.meta.namespace === ns);
  }

  #onChange(c: StoreChange): void {
    const kind: Kind = c.kind;
    if (kind === 'Service') {
      this.#recompute(c.key);
      this.#changed();
    } else if (kind === 'EndpointSlice') {
      const keys = new Set<string>();
      for (const s of [c.previous, c.current]) {
        if (s?.kind === 'EndpointSlice' && s.serviceName) keys.add(`${s.meta.namespace}/${s.serviceName}`);
      }
      for (const k of keys) this.#recompute(k);
      const imported = this.#trackImportSlice(c.previous, c.current);
      if (keys.size || imported) this.#changed();
    } else if (kind === 'ServiceImport' || kind === 'Namespace' || (kind === 'Pod' && this.#opts.podsVerified)) {
      this.#changed();
    }
  }

  /** Files an MCS EndpointSlice under its ServiceImport; whether the slice is one. */
  #trackImportSlice(previous: AnyObject | undefined, current: AnyObject | undefined): boolean {
    let touched = false;
    for (const [slice, add] of [[previous, false], [current, true]] as const) {
      if (slice?.kind !== 'EndpointSlice' || !slice.importName) continue;
      touched = true;
      const key = `${slice.meta.namespace}/${slice.importName}`;
      const own = `${slice.meta.namespace}/${slice.meta.name}`;
      const set = this.#importSlices.get(key);
      if (add) {
        if (set) set.add(own);
        else this.#importSlices.set(key, new Set([own]));
      } else if (set) {
        set.delete(own);
        if (set.size === 0) this.#importSlices.delete(key);
      }
    }
    return touched;
  }

  /** A service's records: kept from a recent query, else computed from the store (undefined when the service is not in the index). */
  #recordsOf(key: string): ServiceRecords | undefined {
    const hit = this.#records.get(key);
    if (hit) return hit;
    if (!this.#owned.has(key)) return undefined;
    return this.#compute(key);
  }

  #compute(key: string): ServiceRecords | undefined {
    const svc = this.#store.get('Service', key);
    if (!svc) return undefined;
    const recs = serviceRecords(svc, this.#store.endpointSlicesFor(key), this.#opts);
    recs.ptrs = recs.ptrs.map(([ip, target]) => [ip.includes(':') ? (canonicalIPv6(ip) ?? ip) : ip, target]);
    this.#records.set(key, recs);
    return recs;
  }

  #recompute(serviceKey: string): void {
    this.#drop(serviceKey);
    const recs = this.#compute(serviceKey);
    if (!recs) return;
    const svc = this.#store.get('Service', serviceKey)!;
    const ns = svc.meta.namespace;
    this.#servicesPerNamespace.set(ns, (this.#servicesPerNamespace.get(ns) ?? 0) + 1);
    const lower = serviceKey.toLowerCase();
    if (lower !== serviceKey) this.#mixedCase.set(lower, serviceKey);
    const ips: string[] = [];
    for (const [ip] of recs.ptrs) {
      if (ips.includes(ip)) continue;
      ips.push(ip);
      const owners = this.#ptrOwners.get(ip);
      if (owners === undefined) this.#ptrOwners.set(ip, serviceKey);
      else if (typeof owners === 'string') this.#ptrOwners.set(ip, [owners, serviceKey]);
      else owners.push(serviceKey);
    }
    this.#owned.set(serviceKey, ips.length === 1 ? ips[0] : ips);
  }

  #drop(serviceKey: string): void {
    this.#records.delete(serviceKey);
    const owned = this.#owned.get(serviceKey);
    if (owned === undefined) return;
    this.#owned.delete(serviceKey);
    const lower = serviceKey.toLowerCase();
    if (this.#mixedCase.get(lower) === serviceKey) this.#mixedCase.delete(lower);
    const ns = serviceKey.slice(0, serviceKey.indexOf('/'));
    const n = (this.#servicesPerNamespace.get(ns) ?? 1) - 1;
    if (n > 0) this.#servicesPerNamespace.set(ns, n);
    else this.#servicesPerNamespace.delete(ns);
    for (const ip of items(owned)) {
      const owners = this.#ptrOwners.get(ip);
      if (owners === undefined) continue;
      if (typeof owners === 'string') {
        if (owners === serviceKey) this.#ptrOwners.delete(ip);
        continue;
      }
      const rest = owners.filter((k) => k !== serviceKey);
      this.#ptrOwners.set(ip, rest.length === 1 ? rest[0] : rest);
      if (rest.length === 0) this.#ptrOwners.delete(ip);
    }
  }

  #changed(): void {
    this.#generation++;
    this.#serial = Math.max(this.#serial, Math.floor(Date.now() / 1000));
    for (const l of this.#listeners) l();
  }
}
