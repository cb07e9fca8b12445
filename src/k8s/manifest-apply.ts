// Making the store hold exactly what the manifest files define (the last
// step of a scan in manifests.ts): which definition each key gets, the
// upserts in dependency order, and the removals.

import type { Logger } from '../base/log.ts';
import { ALL_KINDS, objectKey } from './objects.ts';
import type { AnyObject, Kind } from './objects.ts';
import type { ObjectStore } from './store.ts';
import { isPackablePod, packPod, unpackPod } from './packed-pod.ts';
import type { PackedPod } from './packed-pod.ts';

/**
 * A lean pod as a file keeps it once applied: its key and IPs, the packed
 * form the store holds too (packed-pod.ts), far smaller than the Pod
 * (docs/design/dns-memory.md#manifest-definitions).
 */
export class PackedPodDefinition {
  readonly key: string;
  readonly ips: PackedPod;

  constructor(key: string, ips: PackedPod) {
    this.key = key;
    this.ips = ips;
  }
}

/**
 * What a file defines, per document: the object; or a lean pod, once
 * applied, as its bare key when it is the definition the store holds (the
 * store has its IPs, under this very string), else packed with its own IPs
 * (a duplicate that lost, which may take over later). The bare key saves an
 * object and a second copy of the key per pod (docs/design/dns-memory.md#manifest-definitions).
 */
export type Definition = AnyObject | PackedPodDefinition | string;

export const kindOfDefinition = (d: Definition): Kind => (typeof d === 'string' || d instanceof PackedPodDefinition ? 'Pod' : d.kind);
export const keyOfDefinition = (d: Definition): string => (typeof d === 'string' ? d : d instanceof PackedPodDefinition ? d.key : objectKey(d.meta));

/**
 * The objects one file defines and the document each came from, side by
 * side rather than a record per object (docs/design/dns-memory.md#manifest-definitions).
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
   * the lists rather than kept as a set of keys, which costs an entry per
   * object (docs/design/dns-memory.md#manifest-definitions).
   */
  applied: ReadonlyArray<readonly Definition[]>;
  /** Duplicate definitions warned about already. */
  warned: ReadonlySet<string>;
}

/** Namespaces and nodes first, so consumers see a service's namespace before the service. */
const APPLY_ORDER: readonly Kind[] = ['Namespace', 'Node', 'IPAMBlock', 'BGPConfiguration', 'BGPPeer', 'Service', 'ServiceImport', 'EndpointSlice', 'Pod'];

export function applyDefinitions(input: ApplyInput): { duplicates: Set<string>; applied: Array<readonly Definition[]> } {
  const { store, log } = input;
  // Which definition each key gets (the last one wins), as indexes into flat
  // lists rather than a record per object: this runs at the load's peak.
  const objs: Definition[] = [];
  const keys: string[] = [];
  const fileOf: number[] = [];
  const indexOf: number[] = [];
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
      keys.push(key);
      fileOf.push(f);
      indexOf.push(i);
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
  const podWinners = desired.get('Pod')!;
  const replace = (n: number, d: Definition) => {
    objs[n] = d;
    input.files[fileOf[n]][1].objects[indexOf[n]] = d;
  };
  // A bare key was the last apply's winner, so the store still holds its
  // IPs: one that another definition beats now keeps them with it.
  for (let n = 0; n < objs.length; n++) {
    const d = objs[n];
    if (typeof d !== 'string' || podWinners.get(d) === n) continue;
    const held = store.get('Pod', d);
    if (held) replace(n, new PackedPodDefinition(d, packPod(held)));
  }
  for (const kind of APPLY_ORDER) {
    for (const n of desired.get(kind)!.values()) {
      // An unchanged file's objects are the very ones the store holds.
      const d = objs[n];
      if (typeof d === 'string') continue;
      if (d instanceof PackedPodDefinition) {
        if (!store.holdsPackedPod(d.key, d.ips)) store.upsert(unpackPod(d.key, d.ips), d.key);
      } else if (store.get(kind, keys[n]) !== d) store.upsert(d, keys[n]);
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
  // Applied lean pods are kept packed from now on, as the store keeps them.
  for (let n = 0; n < objs.length; n++) {
    const d = objs[n];
    if (typeof d === 'string') continue;
    const ips = d instanceof PackedPodDefinition ? d.ips : isPackablePod(d) ? packPod(d) : undefined;
    if (ips === undefined) continue;
    if (podWinners.get(keys[n]) === n && store.holdsPackedPod(keys[n], ips)) replace(n, keys[n]);
    else if (!(d instanceof PackedPodDefinition)) replace(n, new PackedPodDefinition(keys[n], ips));
  }
  return { duplicates, applied: [...current] };
}
