import { ApiMetrics } from '../k8s/api-metrics.ts';
import { ApiSource } from '../k8s/api-source.ts';
import { ApiClient } from '../k8s/client.ts';
import { resolveConnection } from '../k8s/kubeconfig.ts';
import { ALL_KINDS } from '../k8s/objects.ts';
import { snapshotAccess } from '../k8s/snapshot-access.ts';
import type { AgentContext } from './component.ts';
import type { AgentSources } from './sources.ts';

/**
 * The API branch of the agent's sources: the connection from --kubeconfig
 * (or the default chain), one reflector per kind, the API metrics, and the
 * snapshot fallback when --snapshot is set.
 *
 * All kinds are watched cluster-wide, Pods included: a node-local field
 * selector (spec.nodeName) would suit the proxier, but DNS answers pod
 * records and headless-service hostnames for pods on every node, and
 * podsByIP must resolve any endpoint's pod.
 */
export async function createApiSources(ctx: AgentContext): Promise<AgentSources> {
  const conn = await resolveConnection({ kubeconfig: ctx.config.kubeconfig || undefined });
  const log = ctx.log.child({ source: 'api' });
  log.info({ server: conn.server, from: conn.source }, 'using the API server');
  const client = ApiClient.fromConnection(conn);
  const metrics = new ApiMetrics(ctx.metrics, ctx.store);
  const snapshot = ctx.config.snapshot ? snapshotAccess(ctx.config.snapshot, ctx.store, log, ALL_KINDS) : undefined;
  const source = new ApiSource({ client, store: ctx.store, kinds: ALL_KINDS, log, metrics, snapshot });
  return {
    start: () => source.start(),
    async stop() {
      await source.stop();
      await client.close();
    },
    healthy: () => source.healthy(),
    details: () => source.details(),
  };
}
