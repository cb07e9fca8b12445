import type { StoreChange } from '../k8s/store.ts';
import type { ObjectStore } from '../k8s/store.ts';
import type { Kind } from '../k8s/objects.ts';
import { canonicalIPv6 } from './reverse-names.ts';
import { serviceRecords } from './service-records.ts';
import type { NameRecords, ServiceRecordOptions } from './service-records.ts';

/**
 * The cluster zone's names, built from the store once and then kept current
 * change by change: a Service or EndpointSlice event recomputes only that
 * service's names (CoreDNS's controller indexes the same way). Names are
 * relative to the cluster zone ("web.default.svc"); the resolver adds the
 * zone the query came in on.
 */
export class ZoneIndex {
  readonly #store: ObjectStore;
  readonly #opts: ServiceRecordOptions & { podsVerified: boolean };
  /** Relative name → records; each service owns the names under its own. */
  readonly #names = new Map<string, NameRecords>();
  /** Service key → the names and PTRs it put in, to take them out again. */
  readonly #owned = new Map<string, { names: string[]; ptrs: Array<[string, string]> }>();
  /** IP → (service key → relative PTR targets); an endpoint may back several services. */
  readonly #ptrs = new Map<string, Map<string, string[]>>();
  /** Namespace → number of services in it (a namespace with a service exists even without its Namespace object). */
  readonly #servicesPerNamespace = new Map<string, number>();
  readonly #listeners = new Set<() => void>();
  #unsubscribe: (() => void) | null = null;
  #serial = Math.floor(Date.now() / 1000);
  #generation = 0;

  constructor(store: ObjectStore, opts: ServiceRecordOptions & { podsVerified: boolean }) {
    this.#store = store;
    this.#opts = opts;
  }

  /** Builds from what the store holds and follows its changes. */
  start(): void {
    if (this.#unsubscribe) return;
    this.#unsubscribe = this.#store.subscribe((c) => this.#onChange(c));
    for (const svc of this.#store.list('Service')) this.#recompute(`${svc.meta.namespace}/${svc.meta.name}`);
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

  get size(): number {
    return this.#names.size;
  }

  name(relative: string): NameRecords | undefined {
    return this.#names.get(relative);
  }

  /** Relative names pointing at `ip` (ClusterIPs and ready endpoint addresses). */
  ptr(ip: string): string[] {
    const owners = this.#ptrs.get(ip);
    if (!owners) return [];
    const out: string[] = [];
    for (const targets of owners.values()) for (const t of targets) if (!out.includes(t)) out.push(t);
    return out;
  }

  namespaceExists(ns: string): boolean {
    return this.#store.get('Namespace', ns) !== undefined || (this.#servicesPerNamespace.get(ns) ?? 0) > 0;
  }

  /** `pods verified`: a pod with this IP lives in this namespace. */
  podExists(ip: string, ns: string): boolean {
    return this.#store.podsByIP(ip).some((p) => p.meta.namespace === ns);
  }

  /** Cluster IPs of kube-system/kube-dns: the address of `ns.dns.<zone>`. */
  dnsServiceAddresses(): string[] {
    return this.#store.get('Service', 'kube-system/kube-dns')?.clusterIPs ?? [];
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
      if (keys.size) this.#changed();
    } else if (kind === 'Namespace' || (kind === 'Pod' && this.#opts.podsVerified)) {
      this.#changed();
    }
  }

  #recompute(serviceKey: string): void {
    this.#drop(serviceKey);
    const svc = this.#store.get('Service', serviceKey);
    if (!svc) return;
    const ns = svc.meta.namespace;
    this.#servicesPerNamespace.set(ns, (this.#servicesPerNamespace.get(ns) ?? 0) + 1);
    const recs = serviceRecords(svc, this.#store.endpointSlicesFor(serviceKey), this.#opts);
    for (const [name, records] of recs.names) this.#names.set(name, records);
    recs.ptrs = recs.ptrs.map(([ip, target]) => [ip.includes(':') ? (canonicalIPv6(ip) ?? ip) : ip, target]);
    for (const [ip, target] of recs.ptrs) {
      let owners = this.#ptrs.get(ip);
      if (!owners) this.#ptrs.set(ip, (owners = new Map()));
      const list = owners.get(serviceKey);
      if (list) {
        if (!list.includes(target)) list.push(target);
      } else owners.set(serviceKey, [target]);
    }
    this.#owned.set(serviceKey, { names: [...recs.names.keys()], ptrs: recs.ptrs });
  }

  #drop(serviceKey: string): void {
    const owned = this.#owned.get(serviceKey);
    if (!owned) return;
    this.#owned.delete(serviceKey);
    const ns = serviceKey.slice(0, serviceKey.indexOf('/'));
    const n = (this.#servicesPerNamespace.get(ns) ?? 1) - 1;
    if (n > 0) this.#servicesPerNamespace.set(ns, n);
    else this.#servicesPerNamespace.delete(ns);
    for (const name of owned.names) this.#names.delete(name);
    for (const [ip] of owned.ptrs) {
      const owners = this.#ptrs.get(ip);
      owners?.delete(serviceKey);
      if (owners && owners.size === 0) this.#ptrs.delete(ip);
    }
  }

  #changed(): void {
    this.#generation++;
    this.#serial = Math.max(this.#serial, Math.floor(Date.now() / 1000));
    for (const l of this.#listeners) l();
  }
}
