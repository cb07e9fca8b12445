import type { Kind } from './objects.ts';
import { resourcePath } from './client.ts';

/** How one kind is listed and watched. */
export interface ResourceSpec {
  kind: Kind;
  /** '' for the core group. */
  group: string;
  version: string;
  /** Plural resource name; also the `resource` label of the API metrics. */
  resource: string;
  /** e.g. 'spec.nodeName=node-1' (Pods are field-selectable by spec.nodeName). */
  fieldSelector?: string;
  labelSelector?: string;
}

/** The API types netlet reads, by kind. IPAMBlock, BGPConfiguration and BGPPeer are netlet's cluster-scoped CRDs; ServiceImport the MCS API's (read by `kubernetes multicluster`). */
export const RESOURCES: { readonly [K in Kind]: ResourceSpec } = {
  Service: { kind: 'Service', group: '', version: 'v1', resource: 'services' },
  EndpointSlice: { kind: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' },
  Node: { kind: 'Node', group: '', version: 'v1', resource: 'nodes' },
  Pod: { kind: 'Pod', group: '', version: 'v1', resource: 'pods' },
  Namespace: { kind: 'Namespace', group: '', version: 'v1', resource: 'namespaces' },
  IPAMBlock: { kind: 'IPAMBlock', group: 'netlet.io', version: 'v1', resource: 'ipamblocks' },
  BGPConfiguration: { kind: 'BGPConfiguration', group: 'netlet.io', version: 'v1', resource: 'bgpconfigurations' },
  BGPPeer: { kind: 'BGPPeer', group: 'netlet.io', version: 'v1', resource: 'bgppeers' },
  ServiceImport: { kind: 'ServiceImport', group: 'multicluster.x-k8s.io', version: 'v1alpha1', resource: 'serviceimports' },
};

/** The spec of `kind` with selectors added. */
export function resourceSpec(kind: Kind, selectors: { fieldSelector?: string; labelSelector?: string } = {}): ResourceSpec {
  return { ...RESOURCES[kind], ...selectors };
}

/** The collection across all namespaces (namespaced kinds) or the cluster-scoped collection. */
export function collectionPath(spec: ResourceSpec): string {
  return resourcePath({ group: spec.group, version: spec.version, resource: spec.resource });
}

/** The selector parameters of LIST and WATCH for this spec. */
export function selectorQuery(spec: ResourceSpec): { fieldSelector?: string; labelSelector?: string } {
  return { fieldSelector: spec.fieldSelector, labelSelector: spec.labelSelector };
}
