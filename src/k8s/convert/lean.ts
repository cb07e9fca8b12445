// Lean conversions, for a process whose consumers read only the names and
// addresses of a kind. `netlet dns` with `pods verified` asks one thing of
// pods: "has a pod in namespace N the IP A?" (CoreDNS plugin/kubernetes
// README, `pods verified`), so a lean pod costs about half a full slim one
// (docs/design/dns-memory.md#lean-pods). The lean one
// keeps namespace, name and podIPs, and the other fields hold shared empty
// values, so it is still a valid Pod for any reader of those fields. Which
// kinds a source converts lean is the caller's choice (sources take `lean`);
// the agent keeps full pods.
//
// A lean object has no resourceVersion (or uid): what tells a source that it
// is unchanged is its content (sameLeanObject), and the source then keeps
// the object the store holds, which the store takes as no change. So a pod's
// status updates that move neither its name nor its IPs (most of a cluster's
// pod events) reach no consumer, and DNS keeps its encoded answers.

import type { AnyObject, KindMap, Pod } from '../objects.ts';
import { meta, record } from './fields.ts';
import type { Raw } from './fields.ts';
import { podIPsOf } from './pod.ts';

/** Kinds with a lean form. */
export type LeanKind = 'Pod';

/**
 * Namespace names, one string each: JSON.parse would make a string per pod
 * (docs/design/v8-heap.md#strings-from-the-json-parser). Bounded: past the
 * cap (a cluster has hundreds of namespaces) names are kept as they come.
 */
const namespaces = new Map<string, string>();
const MAX_NAMESPACES = 10_000;

export function internNamespace(ns: string): string {
  const had = namespaces.get(ns);
  if (had !== undefined) return had;
  if (namespaces.size < MAX_NAMESPACES) namespaces.set(ns, ns);
  return ns;
}

/**
 * v1 Pod → a Pod with only meta (namespace, name; uid and resourceVersion
 * '') and podIPs filled: nodeName, phase, hostname, subdomain are '' and
 * hostNetwork false. Only the fields kept are validated.
 */
export function convertLeanPod(raw: unknown): Pod {
  const { meta: m, ctx } = meta('Pod', raw, true);
  const status = record(ctx, (raw as Raw).status, 'status');
  m.namespace = internNamespace(m.namespace);
  m.uid = '';
  m.resourceVersion = '';
  return { kind: 'Pod', meta: m, nodeName: '', podIPs: podIPsOf(ctx, status), hostNetwork: false, phase: '', hostname: '', subdomain: '' };
}

/** Two lean objects of one kind and key hold the same (cheap: a lean object is a few fields). */
export function sameLeanObject(a: AnyObject, b: AnyObject): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export const leanConverters: { readonly [K in LeanKind]: (raw: unknown) => KindMap[K] } = {
  Pod: convertLeanPod,
};
