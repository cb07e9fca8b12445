// The store's compact form of a lean pod (convert/lean.ts): its IPs alone.
//
// A lean pod carries namespace, name and podIPs; every other field holds an
// empty value. Namespace and name are the store key, so the IPs are all
// there is left to keep, a fraction of the Pod's objects
// (docs/design/dns-memory.md#packed-pods). Readers still get a Pod: it is
// rebuilt on read (`pods verified` asks for a few per query at most).
//
// Packing is lossless by construction: only a pod whose other fields are all
// empty is packed, so any pod (lean or full) reads back exactly as stored.

import type { AnyObject, Pod } from './objects.ts';
import { internNamespace } from './convert/lean.ts';

/** One IP as the bare string, several as an array, none as an empty array. */
export type PackedPod = string | readonly string[];

/** True when `obj` is a Pod that reads back the same from its key and IPs. */
export function isPackablePod(obj: AnyObject): obj is Pod {
  return (
    obj.kind === 'Pod' &&
    obj.meta.uid === '' &&
    obj.meta.resourceVersion === '' &&
    obj.nodeName === '' &&
    !obj.hostNetwork &&
    obj.phase === '' &&
    obj.hostname === '' &&
    obj.subdomain === ''
  );
}

export function packPod(pod: Pod): PackedPod {
  return pod.podIPs.length === 1 ? pod.podIPs[0] : [...pod.podIPs];
}

export function isPacked(held: AnyObject | PackedPod): held is PackedPod {
  return typeof held === 'string' || Array.isArray(held);
}

/** The pod stored under `key` ("namespace/name") as `packed`. */
export function unpackPod(key: string, packed: PackedPod): Pod {
  const slash = key.indexOf('/');
  const meta = { namespace: internNamespace(key.slice(0, slash)), name: key.slice(slash + 1), uid: '', resourceVersion: '' };
  const podIPs = typeof packed === 'string' ? [packed] : [...packed];
  return { kind: 'Pod', meta, nodeName: '', podIPs, hostNetwork: false, phase: '', hostname: '', subdomain: '' };
}

export function samePacked(a: PackedPod, b: PackedPod): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.length === b.length && a.every((ip, i) => ip === b[i]);
}
