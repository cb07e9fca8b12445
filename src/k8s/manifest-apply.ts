// Making the store hold exactly what the manifest files define (the last
// step of a scan in manifests.ts): which definition each key gets, the
// upserts in dependency order, and the removals.

import type { Logger } from '../agent/log.ts';
import { ALL_KINDS, objectKey } from './objects.ts';
import type { AnyObject, Kind } from './objects.ts';
import type { ObjectStore } from './store.ts';
import { isPackablePod, packPod, unpackPod } from './packed-pod.ts';
import type { PackedPod } from './packed-pod.ts';

/**
 * A lean pod as a file keeps it once applied: its key and IPs, 40 bytes
 * against ~230 for the Pod (its meta, IP list and name). The store holds
 * the same packed form (packed-pod.ts); at 50k pods in a folder the files'
 * Pod objects were ~12 MB of `netlet dns`'s heap.
 */
export class PackedPodDefinition {
  readonly key: string;
  readonly ips: PackedPod;

  constructor(key: string, ips: PackedPod) {
    this.key = key;
    this.ips = ips;
  }
}

/** What a file defines, per document: the object, or a lean pod packed. */
export type Definition = AnyObject | PackedPodDefinition;

export const kindOfDefinition = (d: Definition): Kind => (d instanceof PackedPodDefinition ? 'Pod' : d.kind);
export const keyOfDefinition = (d: Definition): string => (d instanceof PackedPodDefinition ? d.key : objectKey(d.meta));

/** Replaces, in place, each packable pod of `defs` with its packed definition (after it was applied). */
export function packDefinitions(defs: Definition[]): void {
  for (let i = 0; i < defs.length; i++) {
    const d = defs[i];
    if (!(d instanceof PackedPodDefinition) && isPackablePod(d)) defs[i] = new PackedPodDefinition(objectKey(d.meta), packPod(d));
  }
}

/**
 * The objects one file defines and the document each came from, side by
 * side: a record per object cost ~50 bytes more each (3 MB at 60k objects).
 */
export interface FileDefinitions {
  objects: Definition[];
  documents: number[];
}

export interface ApplyInput {
  store: ObjectStore;
  log: Logger;
  /** Every file's definitions, by the name used in logs, in "last one wins" order. */
  files: ReadonlyArray<readonly [name: string, defs: FileDefinitions]>;
  /**
   * The files' object lists as of the last apply: their keys are what the
   * source put in the store, and only those are ever removed. Derived from
   * the lists rather than kept as a set of keys (a string and an entry per
   * object, ~70 bytes each); a list still current needs no look at all.
   */
  applied: ReadonlyArray<readonly Definition[]>;
  /** Duplicate definitions warned about already. */
  warned: ReadonlySet<string>;
}

/** Namespaces and nodes first, so consumers see a service's namespace before the service. */
const APPLY_ORDER: readonly Kind[] = ['Namespace', 'Node', 'IPAMBlock', 'Service', 'EndpointSlice', 'Pod'];

export function applyDefinitions(input: ApplyInput): { duplicates: Set<string>; applied: Array<readonly Definition[]> } {
  const { store, log } = input;
  // Which definition each key gets (the last one wins), as indexes into flat
  // lists rather than a record per object: this runs at the load's peak.
  const objs: Definition[] = [];
  const fileOf: number[] = [];
  const documentOf: number[] = [];
  const desired = new Map<Kind, Map<string, number>>(ALL_KINDS.map((k) => [k, new Map()]));
  const duplicates = new Set<string>();
  input.files.forEach(([name, { objects, documents }], f) => {
    for (let i = 0; i < objects.length; i++) {
      const obj = objects[i];
      const kind = kindOfDefinition(obj);
      const byKey = desired.get(kind)!;
      const key = keyOfDefinition(obj);
      const n = objs.push(obj) - 1;
      fileOf.push(f);
      documentOf.push(documents[i]);
      const e = byKey.get(key);
      if (e !== undefined) {
        const earlier = input.files[fileOf[e]][0];
        const first = `${earlier}#${documentOf[e]}`;
        const second = `${name}#${documents[i]}`;
        const dup = `${kind} ${key} ${first} ${second}`;
        duplicates.add(dup);
        if (!input.warned.has(dup)) {
          log.warn({ kind, object: key, first, second }, `${kind} ${key} is defined in ${earlier} and again in ${name}; the last one wins`);
        }
      }
      byKey.set(key, n);
    }
  });
  for (const kind of APPLY_ORDER) {
    for (const [key, n] of desired.get(kind)!) {
      // An unchanged file's objects are the very ones the store holds.
      const d = objs[n];
      if (d instanceof PackedPodDefinition) {
        if (!store.holdsPackedPod(key, d.ips)) store.upsert(unpackPod(key, d.ips));
      } else if (store.get(kind, key) !== d) store.upsert(d);
    }
  }
  // Keys the last apply put there that no file defines now. A list still
  // current defines only keys that are still desired.
  const current = new Set<readonly Definition[]>(input.files.map(([, defs]) => defs.objects));
  const gone = new Map<Kind, Set<string>>(ALL_KINDS.map((k) => [k, new Set()]));
  for (const objects of input.applied) {
    if (current.has(objects)) continue;
    for (const obj of objects) {
      const key = keyOfDefinition(obj);
      const kind = kindOfDefinition(obj);
      if (!desired.get(kind)!.has(key)) gone.get(kind)!.add(key);
    }
  }
  for (const kind of [...APPLY_ORDER].reverse()) {
    for (const key of gone.get(kind)!) store.remove(kind, key);
  }
  return { duplicates, applied: [...current] };
}
