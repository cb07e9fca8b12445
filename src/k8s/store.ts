import { ALL_KINDS, objectKey } from './objects.ts';
import type { AnyObject, EndpointSlice, IPAMBlock, Kind, KindMap, Pod } from './objects.ts';
import { isPackablePod, isPacked, packPod, samePacked, unpackPod } from './packed-pod.ts';
import type { PackedPod } from './packed-pod.ts';

/** What the store holds per key: the object, or a lean pod's IPs (packed-pod.ts). */
type Held = AnyObject | PackedPod;

/**
 * One change to the store. `previous` is absent for an addition, `current`
 * for a deletion. Consumers derive kernel state from these; they never write
 * back (docs/design/layout.md#data-flows-one-way).
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
 * string rather than a Set (docs/design/dns-memory.md#store-indexes).
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

const objectOf = (key: string, held: Held): AnyObject => (isPacked(held) ? unpackPod(key, held) : held);

const sliceServiceKey = (s: EndpointSlice): string | undefined =>
  s.serviceName ? `${s.meta.namespace}/${s.serviceName}` : undefined;

/**
 * The local view of the cluster: slim objects by kind and key, the indexes
 * consumers need, change events and per-kind "synced" state. Every source
 * (API reflector, manifest folder, snapshot) writes through `upsert`,
 * `remove` and `replaceAll`.
 */
export class ObjectStore {
  readonly #objects = new Map<Kind, Map<string, Held>>(ALL_KINDS.map((k) => [k, new Map()]));
  readonly #synced = new Set<Kind>();
  readonly #listeners = new Set<StoreListener>();
  readonly #syncListeners = new Set<SyncListener>();
  readonly #slicesByService = new MultiIndex();
  readonly #podsByIP = new MultiIndex();
  readonly #blocksByNode = new MultiIndex();

  get<K extends Kind>(kind: K, key: string): KindMap[K] | undefined {
    const held = this.#byKind(kind).get(key);
    return held === undefined ? undefined : (objectOf(key, held) as KindMap[K]);
  }

  list<K extends Kind>(kind: K): IterableIterator<KindMap[K]> {
    const map = this.#byKind(kind);
    if (kind !== 'Pod') return map.values() as IterableIterator<KindMap[K]>;
    return (function* () {
      for (const [key, held] of map) yield objectOf(key, held);
    })() as IterableIterator<KindMap[K]>;
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

  /** True when the pod under `key` is held packed with exactly these IPs (packed-pod.ts). */
  holdsPackedPod(key: string, ips: PackedPod): boolean {
    const held = this.#byKind('Pod').get(key);
    return held !== undefined && isPacked(held) && samePacked(held, ips);
  }

  /**
   * Add or replace one object; emits a change unless nothing changed.
   * `key` is objectKey(obj.meta), given by a caller that keeps the same
   * string (the manifest source), so a new entry shares it.
   */
  upsert(obj: AnyObject, key: string = objectKey(obj.meta)): void {
    const map = this.#byKind(obj.kind);
    const had = map.get(key);
    // Objects are never changed in place (data flows one way), so the very
    // object held is no change; a source keeps it for an unchanged lean
    // object, which has no resourceVersion (convert/lean.ts).
    if (had === obj) return;
    const packed = isPackablePod(obj) ? packPod(obj) : undefined;
    if (had !== undefined && isPacked(had)) {
      // A lean pod is unchanged when its IPs are: it has no resourceVersion.
      if (packed !== undefined && samePacked(had, packed)) return;
    } else if (had && had.meta.resourceVersion === obj.meta.resourceVersion && had.meta.resourceVersion !== '') {
      return;
    }
    const previous = had === undefined ? undefined : objectOf(key, had);
    if (previous) this.#unindex(previous, key);
    map.set(key, packed ?? obj);
    this.#index(obj, key);
    this.#emit({ kind: obj.kind, key, previous, current: obj });
  }

  /** Remove one object by kind and key; emits a change if it was there. */
  remove(kind: Kind, key: string): void {
    const map = this.#byKind(kind);
    const had = map.get(key);
    if (had === undefined) return;
    const previous = objectOf(key, had);
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

  #byKind(kind: Kind): Map<string, Held> {
    const map = this.#objects.get(kind);
    if (!map) throw new TypeError(`unknown kind ${kind}`);
    return map;
  }

  #resolve<K extends Kind>(kind: K, keys: Iterable<string>): KindMap[K][] {
    const map = this.#byKind(kind);
    const out: KindMap[K][] = [];
    for (const k of keys) {
      const held = map.get(k);
      if (held !== undefined) out.push(objectOf(k, held) as KindMap[K]);
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
