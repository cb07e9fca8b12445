import { ApiMetrics } from '../k8s/api-metrics.ts';
import { ApiSource } from '../k8s/api-source.ts';
import { ApiClient } from '../k8s/client.ts';
import { resolveConnection } from '../k8s/kubeconfig.ts';
import { ALL_KINDS } from '../k8s/objects.ts';
import type { Kind } from '../k8s/objects.ts';
import type { LeanKind } from '../k8s/convert/index.ts';
import { snapshotAccess } from '../k8s/snapshot-access.ts';
import type { AgentContext } from './component.ts';
import type { AgentConfig } from './config.ts';
import type { AgentSources, SourceAccess } from './agent-sources.ts';
import { endpointConnection } from '../k8s/endpoint-connection.ts';
import { publishIdentity } from './publish-identity.ts';

/**
 * The kinds the configured consumers read; each one costs a watch, memory and
 * RBAC. The proxier needs Services, EndpointSlices and Nodes (topology, its
 * own node); DNS needs Services, EndpointSlices, Namespaces and Pods; routes
 * need Nodes and IPAMBlocks; BGP those, Pods (addresses borrowed from another node's block),
 * BGPConfigurations and BGPPeers. `netlet dns` runs with the netlet-dns
 * ClusterRole, which grants no Nodes or IPAMBlocks: watching them would fail
 * with 403 forever and the store would never be synced. With no consumer at
 * all, everything is watched (the snapshot then holds the whole state).
 *
 * Pods are watched cluster-wide, not field-selected by spec.nodeName: DNS
 * answers pod records and headless-service hostnames for pods on every node,
 * and podsByIP must resolve any endpoint's pod.
 */
export function watchedKinds(config: AgentConfig): Kind[] {
  const kinds = new Set<Kind>();
  if (config.proxy.mode !== 'none') for (const k of ['Service', 'EndpointSlice', 'Node'] as const) kinds.add(k);
  if (config.dns.enabled) for (const k of ['Service', 'EndpointSlice', 'Namespace', 'Pod'] as const) kinds.add(k);
  if (config.routes.enabled) for (const k of ['Node', 'IPAMBlock'] as const) kinds.add(k);
  // BGP: the mesh and the blocks to announce; Pods for the addresses this node's pods borrowed from
  // another node's block; its cluster objects.
  if (config.bgp.enabled) for (const k of ['Node', 'IPAMBlock', 'Pod', 'BGPConfiguration', 'BGPPeer'] as const) kinds.add(k);
  // ServiceImport is read only by netlet dns's `kubernetes multicluster` (the agent refuses it), so never here.
  return kinds.size > 0 ? ALL_KINDS.filter((k) => kinds.has(k)) : ALL_KINDS.filter((k) => k !== 'ServiceImport');
}

/** The kinds a Corefile's `labels` selects, as CoreDNS lists them: Services, EndpointSlices and Pods, never Namespaces. */
export const LABEL_SELECTED_KINDS: readonly Kind[] = ['Service', 'EndpointSlice', 'Pod'];

function labelSelectors(kinds: readonly Kind[], labelSelector: string): Partial<Record<Kind, { labelSelector: string }>> {
  return Object.fromEntries(kinds.filter((k) => LABEL_SELECTED_KINDS.includes(k)).map((k) => [k, { labelSelector }]));
}

/**
 * The API branch of the agent's sources: the connection from --kubeconfig
 * (or the default chain), one reflector per watched kind, the API metrics,
 * and the snapshot fallback when --snapshot is set.
 */
export async function createApiSources(ctx: AgentContext, only?: readonly Kind[], lean?: readonly LeanKind[], access: SourceAccess = {}): Promise<AgentSources> {
  const conn = access.endpoint
    ? await endpointConnection(access.endpoint.url, access.endpoint.tls)
    : await resolveConnection({ kubeconfig: ctx.config.kubeconfig || undefined, context: access.context });
  const log = ctx.log.child({ source: 'api' });
  const client = ApiClient.fromConnection(conn, { limits: access.limits });
  const metrics = new ApiMetrics(ctx.metrics, ctx.store);
  const kinds = only ? [...only] : watchedKinds(ctx.config);
  const snapshot = ctx.config.snapshot ? snapshotAccess(ctx.config.snapshot, ctx.store, log, kinds) : undefined;
  const selectors = access.labelSelector ? labelSelectors(kinds, access.labelSelector) : undefined;
  const source = new ApiSource({ client, store: ctx.store, kinds, log, metrics, snapshot, lean, selectors });
  log.info({ server: conn.server, from: conn.source, kinds, ...(access.labelSelector ? { labelSelector: access.labelSelector } : {}), ...(access.limits ? { limits: access.limits } : {}) }, 'using the API server');
  let published: { stop(): void } | undefined;
  return {
    connection: conn,
    async start() {
      // Before the watches: netlet-cni may need it while the store still fills.
      if (ctx.config.cni.kubeconfig) published = await publishIdentity(conn, ctx.config.cni.kubeconfig, log);
      await source.start();
    },
    async stop() {
      published?.stop();
      await source.stop();
      await client.close();
    },
    healthy: () => source.healthy(),
    details: () => source.details(),
  };
}
