// Raw API JSON → slim objects, once, on arrival. Every converter throws only
// InvalidObjectError (naming the kind, "ns/name" and the field); callers log
// it and keep the rest of what they were reading.

import type { AnyObject, Kind, KindMap } from '../objects.ts';
import { convertBGPConfiguration, convertBGPPeer } from './bgp.ts';
import { convertEndpointSlice } from './endpointslice.ts';
import { convertIPAMBlock } from './ipamblock.ts';
import { convertNamespace } from './namespace.ts';
import { convertNode } from './node.ts';
import { leanConverters } from './lean.ts';
import type { LeanKind } from './lean.ts';
import { convertPod } from './pod.ts';
import { convertService } from './service.ts';
import { convertServiceImport } from './serviceimport.ts';

export { convertBGPConfiguration, convertBGPPeer, convertEndpointSlice, convertIPAMBlock, convertNamespace, convertNode, convertPod, convertService, convertServiceImport };
export { convertLeanPod, sameLeanObject } from './lean.ts';
export type { LeanKind } from './lean.ts';

export const converters: { readonly [K in Kind]: (raw: unknown) => KindMap[K] } = {
  Service: convertService,
  EndpointSlice: convertEndpointSlice,
  Node: convertNode,
  Pod: convertPod,
  Namespace: convertNamespace,
  IPAMBlock: convertIPAMBlock,
  BGPConfiguration: convertBGPConfiguration,
  BGPPeer: convertBGPPeer,
  ServiceImport: convertServiceImport,
};

export function convertObject<K extends Kind>(kind: K, raw: unknown): KindMap[K];
export function convertObject(kind: Kind, raw: unknown): AnyObject;
export function convertObject(kind: Kind, raw: unknown): AnyObject {
  return converters[kind](raw);
}

/** The converter a source uses for `kind`: the lean one (lean.ts) when `lean` names the kind. */
export function converterFor<K extends Kind>(kind: K, lean?: readonly LeanKind[]): (raw: unknown) => KindMap[K] {
  if (lean?.includes(kind as LeanKind)) return leanConverters[kind as LeanKind] as unknown as (raw: unknown) => KindMap[K];
  return converters[kind];
}

/** "apiVersion/kind" of the API types netlet reads → our Kind. */
const KINDS: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  ['v1/Service', 'Service'],
  ['discovery.k8s.io/v1/EndpointSlice', 'EndpointSlice'],
  ['v1/Node', 'Node'],
  ['v1/Pod', 'Pod'],
  ['v1/Namespace', 'Namespace'],
  ['netlet.io/v1/IPAMBlock', 'IPAMBlock'],
  ['netlet.io/v1/BGPConfiguration', 'BGPConfiguration'],
  ['netlet.io/v1/BGPPeer', 'BGPPeer'],
  ['multicluster.x-k8s.io/v1alpha1/ServiceImport', 'ServiceImport'],
]);

/** The Kind for an object's apiVersion and kind, or undefined when netlet does not use it. */
export function kindOf(apiVersion: unknown, kind: unknown): Kind | undefined {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined;
  return KINDS.get(`${apiVersion}/${kind}`);
}

/** The apiVersion each Kind is read and written with. */
export const API_VERSIONS: { readonly [K in Kind]: string } = {
  Service: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  Node: 'v1',
  Pod: 'v1',
  Namespace: 'v1',
  IPAMBlock: 'netlet.io/v1',
  BGPConfiguration: 'netlet.io/v1',
  BGPPeer: 'netlet.io/v1',
  ServiceImport: 'multicluster.x-k8s.io/v1alpha1',
};
