import { ALL_KINDS, objectKey } from './objects.ts';
import type { AnyObject, EndpointSlice, IPAMBlock, Kind, KindMap, Pod } from './objects.ts';

/**
 * One change to the store. `previous` is absent for an addition, `current`
 * for a deletion. Consumers derive kernel state from these; they never write
 * back (ARCHITECTURE.md: data flows one way).
 */
export interface StoreChange<K extends Kind = Kind> {
  kind: K;
  key: string;
  previous?: KindMap[K];
  current?: KindMap[K];
}

export type StoreListener = (change: StoreChange) => void;
export type SyncListener = (kind: Kind) => void;

/**
 * Secondary indexes: one key of an object → the store keys that have it.
 * Most index keys have one object (a pod IP, mostly), kept as the bare
 * string: a Set per key cost ~180 bytes each, 9 MB at 50k pods.
 */
class MultiIndex {
  readonly #map = new Map<string, string | Set<string>>();

  add(indexKey: string, objKey: string): void {
    const had = this.#map.get(indexKey);
    if (had === undefined) this.#map.set(indexKey, objKey);
    else if (typeof had !== 'string') had.add(objKey);
    else if (had !== objKey) this.#map.set(indexKey, new Set([had, objKey]));
  }

  remove(indexKey: string, objKey: string): void {
    const had = this.#map.get(indexKey);
    if (had === undefined) return;
    if (typeof had === 'string') {
      if (had === objKey) this.#map.delete(indexKey);
      return;
    }
    had.delete(objKey);
    if (had.size === 1) this.#map.set(indexKey, had.values().next().value!);
  }

  get(indexKey: string): Iterable<string> {
    const had = this.#map.get(indexKey);
    return had === undefined ? [] : typeof had === 'string' ? [had] : had;
  }
}

const sliceServiceKey = (s: EndpointSlice): string | undefined =>
  s.serviceName ? `${s.meta.namespace}/${s.serviceName}` : undefined;

/**
 * The local view of the cluster: slim objects by kind and key, the indexes
 * consumers need, change events and per-kind "synced" state. Every source
 * (API reflector, manifest folder, snapshot) writes through `upsert`,
 * `remove` and `replaceAll`.
 */
export class ObjectStore {
  readonly #objects = new Map<Kind, Map<string, AnyObject>>(ALL_KINDS.map((k) => [k, new Map()]));
  readonly #synced = new Set<Kind>();
  readonly #listeners = new Set<StoreListener>();
  readonly #syncListeners = new Set<SyncListener>();
  readonly #slicesByService = new MultiIndex();
  readonly #podsByIP = new MultiIndex();
  readonly #blocksByNode = new MultiIndex();

  get<K extends Kind>(kind: K, key: string): KindMap[K] | undefined {
    return this.#byKind(kind).get(key) as KindMap[K] | undefined;
  }

  list<K extends Kind>(kind: K): IterableIterator<KindMap[K]> {
    return this.#byKind(kind).values() as IterableIterator<KindMap[K]>;
  }

  count(kind: Kind): number {
    return this.#byKind(kind).size;
  }

  /** EndpointSlices labelled for the service "namespace/name". */
  endpointSlicesFor(serviceKey: string): EndpointSlice[] {
    return this.#resolve('EndpointSlice', this.#slicesByService.get(serviceKey));
  }

  podsByIP(ip: string): Pod[] {
    return this.#resolve('Pod', this.#podsByIP.get(ip));
  }

  blocksOfNode(node: string): IPAMBlock[] {
    return this.#resolve('IPAMBlock', this.#blocksByNode.get(node));
  }

  /** Add or replace one object; emits a change unless nothing changed. */
  upsert(obj: AnyObject): void {
    const key = objectKey(obj.meta);
    const map = this.#byKind(obj.kind);
    const previous = map.get(key);
    // Objects are never changed in place (data flows one way), so the very
    // object held is no change; a source keeps it for an unchanged lean
    // object, which has no resourceVersion (convert/lean.ts).
    if (previous === obj) return;
    if (previous && previous.meta.resourceVersion === obj.meta.resourceVersion && previous.meta.resourceVersion !== '') {
      return;
    }
    if (previous) this.#unindex(previous, key);
    map.set(key, obj);
    this.#index(obj, key);
    this.#emit({ kind: obj.kind, key, previous, current: obj });
  }

  /** Remove one object by kind and key; emits a change if it was there. */
  remove(kind: Kind, key: string): void {
    const map = this.#byKind(kind);
    const previous = map.get(key);
    if (!previous) return;
    map.delete(key);
    this.#unindex(previous, key);
    this.#emit({ kind, key, previous });
  }

  /**
   * Make the store's objects of `kind` exactly `objects` (after a relist, or
   * when another source takes over), emitting only the real differences:
   * unchanged objects (same resourceVersion) produce no event, so a relist
   * after 410 Gone does not flap.
   */
  replaceAll<K extends Kind>(kind: K, objects: Iterable<KindMap[K]>): void {
    const seen = new Set<string>();
    for (const obj of objects) {
      seen.add(objectKey(obj.meta));
      this.upsert(obj);
    }
    for (const key of [...this.#byKind(kind).keys()]) {
      if (!seen.has(key)) this.remove(kind, key);
    }
  }

  markSynced(kind: Kind): void {
    if (this.#synced.has(kind)) return;
    this.#synced.add(kind);
    for (const l of this.#syncListeners) l(kind);
  }

  isSynced(...kinds: Kind[]): boolean {
    return kinds.every((k) => this.#synced.has(k));
  }

  /** Resolves once every kind given has been synced at least once. */
  whenSynced(...kinds: Kind[]): Promise<void> {
    if (this.isSynced(...kinds)) return Promise.resolve();
    return new Promise((resolve) => {
      const check: SyncListener = () => {
        if (!this.isSynced(...kinds)) return;
        this.#syncListeners.delete(check);
        resolve();
      };
      this.#syncListeners.add(check);
    });
  }

  onSynced(listener: SyncListener): () => void {
    this.#syncListeners.add(listener);
    return () => this.#syncListeners.delete(listener);
  }

  subscribe(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #byKind(kind: Kind): Map<string, AnyObject> {
    const map = this.#objects.get(kind);
    if (!map) throw new TypeError(`unknown kind ${kind}`);
    return map;
  }

  #resolve<K extends Kind>(kind: K, keys: Iterable<string>): KindMap[K][] {
    const map = this.#byKind(kind);
    const out: KindMap[K][] = [];
    for (const k of keys) {
      const o = map.get(k);
      if (o) out.push(o as KindMap[K]);
    }
    return out;
  }

  #index(obj: AnyObject, key: string): void {
    if (obj.kind === 'EndpointSlice') {
      const svc = sliceServiceKey(obj);
      if (svc) this.#slicesByService.add(svc, key);
    } else if (obj.kind === 'Pod') {
      for (const ip of obj.podIPs) this.#podsByIP.add(ip, key);
    } else if (obj.kind === 'IPAMBlock') {
      this.#blocksByNode.add(obj.node, key);
    }
  }

  #unindex(obj: AnyObject, key: string): void {
    if (obj.kind === 'EndpointSlice') {
      const svc = sliceServiceKey(obj);
      if (svc) this.#slicesByService.remove(svc, key);
    } else if (obj.kind === 'Pod') {
      for (const ip of obj.podIPs) this.#podsByIP.remove(ip, key);
    } else if (obj.kind === 'IPAMBlock') {
      this.#blocksByNode.remove(obj.node, key);
    }
  }

  #emit(change: StoreChange): void {
    for (const l of this.#listeners) l(change);
  }
}
