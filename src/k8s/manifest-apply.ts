// Making the store hold exactly what the manifest files define (the last
// step of a scan in manifests.ts): which definition each key gets, the
// upserts in dependency order, and the removals.

import type { Logger } from '../agent/log.ts';
import { ALL_KINDS, objectKey } from './objects.ts';
import type { AnyObject, Kind } from './objects.ts';
import type { ObjectStore } from './store.ts';

/**
 * The objects one file defines and the document each came from, side by
 * side: a record per object cost ~50 bytes more each (3 MB at 60k objects).
 */
export interface FileDefinitions {
  objects: AnyObject[];
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
  applied: ReadonlyArray<readonly AnyObject[]>;
  /** Duplicate definitions warned about already. */
  warned: ReadonlySet<string>;
}

/** Namespaces and nodes first, so consumers see a service's namespace before the service. */
const APPLY_ORDER: readonly Kind[] = ['Namespace', 'Node', 'IPAMBlock', 'Service', 'EndpointSlice', 'Pod'];

export function applyDefinitions(input: ApplyInput): { duplicates: Set<string>; applied: Array<readonly AnyObject[]> } {
  const { store, log } = input;
  // Which definition each key gets (the last one wins), as indexes into flat
  // lists rather than a record per object: this runs at the load's peak.
  const objs: AnyObject[] = [];
  const fileOf: number[] = [];
  const documentOf: number[] = [];
  const desired = new Map<Kind, Map<string, number>>(ALL_KINDS.map((k) => [k, new Map()]));
  const duplicates = new Set<string>();
  input.files.forEach(([name, { objects, documents }], f) => {
    for (let i = 0; i < objects.length; i++) {
      const obj = objects[i];
      const byKey = desired.get(obj.kind)!;
      const key = objectKey(obj.meta);
      const n = objs.push(obj) - 1;
      fileOf.push(f);
      documentOf.push(documents[i]);
      const e = byKey.get(key);
      if (e !== undefined) {
        const earlier = input.files[fileOf[e]][0];
        const first = `${earlier}#${documentOf[e]}`;
        const second = `${name}#${documents[i]}`;
        const dup = `${obj.kind} ${key} ${first} ${second}`;
        duplicates.add(dup);
        if (!input.warned.has(dup)) {
          log.warn({ kind: obj.kind, object: key, first, second }, `${obj.kind} ${key} is defined in ${earlier} and again in ${name}; the last one wins`);
        }
      }
      byKey.set(key, n);
    }
  });
  for (const kind of APPLY_ORDER) {
    for (const [key, n] of desired.get(kind)!) {
      // An unchanged file's objects are the very ones the store holds.
      if (store.get(kind, key) !== objs[n]) store.upsert(objs[n]);
    }
  }
  // Keys the last apply put there that no file defines now. A list still
  // current defines only keys that are still desired.
  const current = new Set<readonly AnyObject[]>(input.files.map(([, defs]) => defs.objects));
  const gone = new Map<Kind, Set<string>>(ALL_KINDS.map((k) => [k, new Set()]));
  for (const objects of input.applied) {
    if (current.has(objects)) continue;
    for (const obj of objects) {
      const key = objectKey(obj.meta);
      if (!desired.get(obj.kind)!.has(key)) gone.get(obj.kind)!.add(key);
    }
  }
  for (const kind of [...APPLY_ORDER].reverse()) {
    for (const key of gone.get(kind)!) store.remove(kind, key);
  }
  return { duplicates, applied: [...current] };
}
