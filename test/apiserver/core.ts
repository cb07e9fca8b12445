// The server's state without HTTP: tables, registry, open watches, faults and
// stats, plus the programmatic helpers tests use to seed and change objects
// fast (no HTTP round trip) and to inject faults.

import { Catalog } from './catalog.ts';
import { Registry } from './registry.ts';
import type { WriteOptions } from './registry.ts';
import type { ResourceInfo } from './resources.ts';
import { Storage, keyOf } from './storage.ts';
import type { ResourceTable } from './storage.ts';
import { Faults, RequestStats } from './faults.ts';
import type { FailOptions, StallOptions, StatsSnapshot, Verb } from './faults.ts';
import type { WatchStream } from './watch.ts';
import { tooOldResourceVersion, statusOf } from './status.ts';

export interface CoreOptions {
  /** Change events kept per resource for watches and paged lists (the watch window). Default 20000. */
  historySize?: number;
  /** Bookmark period for watches with allowWatchBookmarks (default 1000 ms; 0 disables). */
  bookmarkIntervalMs?: number;
  /** Watch timeout when the client sends no timeoutSeconds (default 0: none). */
  defaultWatchTimeoutSeconds?: number;
  /** Range for allocated ClusterIPs (default 10.96.0.0/16). */
  serviceCIDR?: string;
  /** Create default, kube-system, kube-public, kube-node-lease at start, as a cluster has (default true). */
  seedNamespaces?: boolean;
  /** How long a LIST at a future resourceVersion waits before 504 (default 3000 ms, as the watch cache). */
  tooLargeResourceVersionWaitMs?: number;
  /**
   * Reason of the 410 a watch gets for a too-old resourceVersion: 'Expired'
   * (the watch cache, today) or 'Gone' (older servers, the etcd path); clients
   * must treat both as "relist". Default 'Expired'; changeable at run time.
   */
  expiredReason?: 'Expired' | 'Gone';
  /** resourceVersion of the first write (default 1); e.g. lower than before to play an API server restored from a backup. */
  firstResourceVersion?: number;
  /** Gzip LIST responses above 128 KiB when the client sends Accept-Encoding: gzip, as kube-apiserver does (default true). */
  compression?: boolean;
  /** A deleted namespace stays Terminating this long before it and its contents go (default 100 ms). */
  namespaceDeletionDelayMs?: number;
}

/** Where a helper finds an object: resource (kind, plural or short name), namespace, name. */
export type ObjectRef = [resource: string, namespace: string, name: string];

export class ApiCore {
  readonly storage: Storage;
  readonly catalog: Catalog;
  readonly registry: Registry;
  readonly faults = new Faults();
  readonly stats = new RequestStats();
  readonly watches = new Set<WatchStream>();
  readonly options: Required<CoreOptions>;


  constructor(o: CoreOptions = {}) {
    this.options = {
      historySize: o.historySize ?? 20000,
      bookmarkIntervalMs: o.bookmarkIntervalMs ?? 1000,
      defaultWatchTimeoutSeconds: o.defaultWatchTimeoutSeconds ?? 0,
      serviceCIDR: o.serviceCIDR ?? '10.96.0.0/16',
      seedNamespaces: o.seedNamespaces ?? true,
      namespaceDeletionDelayMs: o.namespaceDeletionDelayMs ?? 100,
      compression: o.compression ?? true,
      firstResourceVersion: o.firstResourceVersion ?? 1,
      expiredReason: o.expiredReason ?? 'Expired',
      tooLargeResourceVersionWaitMs: o.tooLargeResourceVersionWaitMs ?? 3000,
    };
    this.storage = new Storage(this.options.historySize, this.options.firstResourceVersion);
    this.catalog = new Catalog(this.storage);
    this.registry = new Registry(this.storage, this.options.serviceCIDR);
    this.registry.onCRD = (rs) => rs.forEach((r) => this.catalog.add(r));
    this.registry.tablesOfNamespace = () => this.catalog.namespacedTables();
    this.registry.namespaceTable = () => this.tableFor('namespaces');
    this.registry.namespaceDeletionDelayMs = this.options.namespaceDeletionDelayMs;
    if (this.options.seedNamespaces) {
      for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
        this.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      }
    }
  }

  /** The resource a helper names: "Service", "services", "svc", "ipamblocks.netlet.io". */
  resource(name: string): ResourceInfo {
    const r = this.catalog.resolve(name);
    if (!r) throw new Error(`test apiserver: unknown resource ${name}`);
    return r;
  }

  tableFor(name: string): ResourceTable {
    return this.catalog.table(this.resource(name));
  }

  #resourceOfObject(obj: any): ResourceInfo {
    if (!obj?.kind) throw new Error('test apiserver: object needs a kind');
    const group = typeof obj.apiVersion === 'string' && obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0] : '';
    const r = this.catalog.all().find((x) => x.kind === obj.kind && x.group === group) ?? this.resource(obj.kind);
    return r;
  }

  get resourceVersion(): number {
    return this.storage.currentRV;
  }

  // ---- object helpers (no HTTP; same semantics as the API, status included) ----

  /** Creates an object (kind + apiVersion decide the resource); returns it as stored. */
  create(obj: any): any {
    const r = this.#resourceOfObject(obj);
    const ns = r.namespaced ? (obj.metadata?.namespace ?? 'default') : '';
    return this.registry.create(this.catalog.table(r), ns, obj, { wholeObject: true }).copy();
  }

  /** Replaces an object, status included; a metadata.resourceVersion in it is checked (409 otherwise). */
  update(obj: any, opts: WriteOptions = { wholeObject: true }): any {
    const r = this.#resourceOfObject(obj);
    const ns = r.namespaced ? (obj.metadata?.namespace ?? 'default') : '';
    return this.registry.update(this.catalog.table(r), ns, obj.metadata.name, obj, opts).copy();
  }

  /** Creates or replaces (ignoring resourceVersion). */
  apply(obj: any): any {
    const r = this.#resourceOfObject(obj);
    const ns = r.namespaced ? (obj.metadata?.namespace ?? 'default') : '';
    const exists = this.catalog.table(r).objects.has(keyOf(ns, obj.metadata.name));
    if (!exists) return this.create(obj);
    const copy = { ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } };
    return this.update(copy);
  }

  /** Deletes (honouring finalizers); returns the last version. */
  delete(resource: string, namespace: string, name: string): any {
    const r = this.resource(resource);
    return this.registry.delete(this.catalog.table(r), r.namespaced ? namespace : '', name).copy();
  }

  get(resource: string, namespace: string, name: string): any | undefined {
    const r = this.resource(resource);
    return this.catalog.table(r).objects.get(keyOf(r.namespaced ? namespace : '', name))?.copy();
  }

  /** Current objects of a resource (optionally one namespace), in etcd order. */
  list(resource: string, namespace = ''): any[] {
    const t = this.tableFor(resource);
    return t
      .sortedKeys()
      .map((k) => t.objects.get(k)!)
      .filter((s) => !namespace || s.obj.metadata.namespace === namespace)
      .map((s) => s.copy());
  }

  count(resource: string): number {
    return this.tableFor(resource).objects.size;
  }

  /**
   * Bulk create/replace without HTTP and without copies: the fast way to load
   * 10k objects. The server takes the objects over; do not reuse them.
   */
  seed(objects: any[]): void {
    for (const obj of objects) {
      const r = this.#resourceOfObject(obj);
      const ns = r.namespaced ? (obj.metadata?.namespace ?? 'default') : '';
      const table = this.catalog.table(r);
      if (table.objects.has(keyOf(ns, obj.metadata.name))) {
        if (obj.metadata) delete obj.metadata.resourceVersion;
        this.registry.update(table, ns, obj.metadata.name, obj, { wholeObject: true, owned: true });
      } else this.registry.create(table, ns, obj, { wholeObject: true, owned: true });
    }
  }

  // ---- faults ----

  /** The next `count` API requests matching `opts` get an error Status (default 500). */
  failNext(count: number, opts: FailOptions = {}): void {
    this.faults.failNext(count, opts);
  }

  /** Matching requests arriving in the next `ms` hang until the window ends; open watches pause too. */
  stall(ms: number, opts: StallOptions = {}): void {
    this.faults.stall(ms, opts);
  }

  /** Delay every watch event by `ms` (0 restores). */
  slowWatches(ms: number): void {
    this.faults.watchDelayMs = ms;
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Cuts open watch connections (of one resource, when given); `graceful` ends them cleanly instead. */
  dropWatches(opts: { resource?: string; graceful?: boolean } = {}): number {
    let n = 0;
    for (const w of [...this.watches]) {
      if (opts.resource && w.info.plural !== this.resource(opts.resource).plural) continue;
      if (opts.graceful) w.end();
      else w.drop();
      n++;
    }
    return n;
  }

  /** Sends an ERROR 410 Expired to open watches and ends them (the client must relist). */
  expireWatches(opts: { resource?: string } = {}): number {
    let n = 0;
    for (const w of [...this.watches]) {
      if (opts.resource && w.info.plural !== this.resource(opts.resource).plural) continue;
      w.error(tooOldResourceVersion(this.resourceVersion - 1, this.resourceVersion, this.options.expiredReason));
      n++;
    }
    return n;
  }

  /** Every resourceVersion before `rv` (default: the current one) becomes too old: watches from it and continue tokens get 410. */
  compact(rv = this.resourceVersion): number {
    this.storage.compact(rv);
    return rv;
  }

  /** Ends every watch with an arbitrary error Status (e.g. 500) in-stream. */
  errorWatches(code: number, message: string): number {
    const ws = [...this.watches];
    for (const w of ws) w.error(statusOf(code, message));
    return ws.length;
  }

  // ---- stats ----

  requestCount(verb: Verb, resource?: string): number {
    return this.stats.count(verb, resource ? this.resource(resource).plural : undefined);
  }

  statsSnapshot(): StatsSnapshot {
    return {
      requests: this.stats.counts(),
      total: Object.values(this.stats.counts()).reduce((a, b) => a + b, 0),
      openWatches: this.watches.size,
      resourceVersion: String(this.resourceVersion),
    };
  }

  resetStats(): void {
    this.stats.reset();
  }

  closeAllWatches(): void {
    for (const w of [...this.watches]) w.drop();
  }
}
