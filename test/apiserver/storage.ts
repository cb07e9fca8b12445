// Versioned object tables, the way etcd + the watch cache behave for clients:
// one global, monotonically increasing resourceVersion; per resource a map of
// current objects, a bounded history of change events (the watch window), and
// snapshots at an older resourceVersion rebuilt from that history so paged
// LISTs stay consistent. Each stored object is serialized once per version and
// the JSON string reused by every LIST and WATCH (encoding is the hot path at
// 10k objects).

import type { ResourceInfo } from './resources.ts';
import { apiVersionOf } from './resources.ts';

/**
 * A stand-in for metadata.resourceVersion while serializing: the JSON is made
 * once with the mark, compared with the stored version's to detect no-op
 * writes, and the mark replaced by the real resourceVersion.
 */
const RV_MARK = '\u0000rv\u0000';
const RV_MARK_JSON = JSON.stringify(RV_MARK);

/** JSON of an object without kind/apiVersion and with the resourceVersion mark. */
export function templateOf(obj: any): string {
  obj.metadata.resourceVersion = RV_MARK;
  const { kind: _k, apiVersion: _a, ...rest } = obj;
  return JSON.stringify(rest);
}

/** One version of one object. Never mutated after it is made. */
export class Stored {
  readonly obj: any;
  readonly rv: number;
  readonly key: string;
  /** JSON without kind/apiVersion: built-in list items omit them (real apiserver quirk). */
  readonly body: string;
  /** The body with the resourceVersion mark: equal templates mean an unchanged object. */
  readonly template: string;
  #full: string | undefined;
  readonly #typePrefix: string;
  /** JSON of everything but metadata/status, kept to compare generations (set by the registry). */
  specJSON: string | undefined;

  constructor(info: ResourceInfo, key: string, obj: any, rv: number, template = templateOf(obj)) {
    obj.metadata.resourceVersion = String(rv);
    obj.kind = info.kind;
    obj.apiVersion = apiVersionOf(info);
    this.obj = obj;
    this.rv = rv;
    this.key = key;
    this.template = template;
    this.body = template.replace(RV_MARK_JSON, () => `"${rv}"`);
    this.#typePrefix = `{"kind":${JSON.stringify(info.kind)},"apiVersion":${JSON.stringify(obj.apiVersion)},`;
  }

  /** JSON with kind/apiVersion, as GET and WATCH send it. */
  get json(): string {
    this.#full ??= this.#typePrefix + this.body.slice(1);
    return this.#full;
  }

  /** A deep copy the caller may change. */
  copy(): any {
    return JSON.parse(this.json);
  }
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ChangeEvent {
  type: EventType;
  rv: number;
  /** The new version; for DELETED the last version re-stamped with the deletion's resourceVersion. */
  cur: Stored;
  prev?: Stored;
}

export interface Snapshot {
  rv: number;
  objects: Map<string, Stored>;
  keys: string[];
}

export function keyOf(namespace: string, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export class ResourceTable {
  readonly info: ResourceInfo;
  readonly objects = new Map<string, Stored>();
  /** History events are retained for every rv > floorRV. */
  floorRV = 0;
  lastChangeRV = 0;
  readonly listeners = new Set<(ev: ChangeEvent) => void>();
  #sorted: string[] | null = null;
  #events: (ChangeEvent | undefined)[] = [];
  #start = 0;
  readonly #historyLimit: number;
  #snapshotCache: Snapshot | undefined;

  constructor(info: ResourceInfo, historyLimit: number) {
    this.info = info;
    this.#historyLimit = historyLimit;
  }

  /** Keys in etcd order (namespace then name, bytewise). */
  sortedKeys(): string[] {
    this.#sorted ??= [...this.objects.keys()].sort(compareBytes);
    return this.#sorted;
  }

  apply(ev: ChangeEvent): void {
    const key = ev.cur.key;
    if (ev.type === 'DELETED') {
      this.objects.delete(key);
      this.#sorted = null;
    } else {
      if (!this.objects.has(key)) this.#sorted = null;
      this.objects.set(key, ev.cur);
    }
    this.lastChangeRV = ev.rv;
    this.#events.push(ev);
    if (this.#events.length - this.#start > this.#historyLimit) this.#evictOldest();
    for (const l of this.listeners) l(ev);
  }

  #evictOldest(): void {
    const old = this.#events[this.#start];
    this.#events[this.#start++] = undefined;
    if (old) this.floorRV = old.rv;
    if (this.#start > 4096 && this.#start * 2 > this.#events.length) {
      this.#events = this.#events.slice(this.#start);
      this.#start = 0;
    }
  }

  /** Drops history so that every rv below `rv` is too old. */
  compact(rv: number): void {
    while (this.#start < this.#events.length && (this.#events[this.#start] as ChangeEvent).rv < rv) this.#evictOldest();
    if (this.floorRV < rv) this.floorRV = rv;
    this.#snapshotCache = undefined;
  }

  /** Retained events with rv > after, oldest first; undefined when that history is gone. */
  eventsSince(after: number): ChangeEvent[] | undefined {
    if (after < this.floorRV) return undefined;
    let lo = this.#start;
    let hi = this.#events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.#events[mid] as ChangeEvent).rv <= after) lo = mid + 1;
      else hi = mid;
    }
    return this.#events.slice(lo) as ChangeEvent[];
  }

  /** The table as it was at `rv`, or undefined when the history no longer covers it. */
  snapshotAt(rv: number): Snapshot | undefined {
    if (rv < this.floorRV) return undefined;
    if (rv >= this.lastChangeRV) return { rv, objects: this.objects, keys: this.sortedKeys() };
    const cached = this.#snapshotCache;
    if (cached && cached.rv === rv) return cached;
    const later = this.eventsSince(rv);
    if (!later) return undefined;
    const objects = new Map(this.objects);
    for (let i = later.length - 1; i >= 0; i--) {
      const ev = later[i];
      if (ev.type === 'ADDED') objects.delete(ev.cur.key);
      else if (ev.prev) objects.set(ev.cur.key, ev.prev);
    }
    const snap = { rv, objects, keys: [...objects.keys()].sort(compareBytes) };
    this.#snapshotCache = snap;
    return snap;
  }
}

export function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** All tables plus the global resourceVersion counter. */
export class Storage {
  #rv = 0;
  readonly tables = new Map<string, ResourceTable>();
  readonly historyLimit: number;

  /** `firstRV`: the resourceVersion of the first write (etcd revisions of a real cluster are large). */
  constructor(historyLimit: number, firstRV = 1) {
    this.historyLimit = historyLimit;
    this.#rv = firstRV - 1;
    this.#firstRV = firstRV;
  }

  readonly #firstRV: number;

  get currentRV(): number {
    return this.#rv;
  }

  nextRV(): number {
    return ++this.#rv;
  }

  table(info: ResourceInfo): ResourceTable {
    const id = `${info.group}/${info.plural}`;
    let t = this.tables.get(id);
    if (!t) {
      t = new ResourceTable(info, this.historyLimit);
      // Nothing before the first write exists: an older resourceVersion is too old (a server restored elsewhere).
      t.floorRV = this.#firstRV - 1;
      this.tables.set(id, t);
    }
    return t;
  }

  /** Every rv before `rv` becomes too old for watches and continue tokens (etcd compaction). */
  compact(rv: number): void {
    for (const t of this.tables.values()) t.compact(rv);
  }
}
