import { Gauge } from 'prom-client';
import { ALL_KINDS } from '../k8s/objects.ts';
import type { Kind } from '../k8s/objects.ts';
import type { LeanKind } from '../k8s/convert/index.ts';
import type { AgentContext } from './component.ts';

/** Where the agent's store is filled from: API server, manifest folder, snapshot. */
export interface AgentSources {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** False when the store cannot be trusted (e.g. never synced). */
  healthy(): boolean;
  /** Extra health fields, e.g. { offline: true } when serving from a snapshot. */
  details(): Record<string, unknown>;
}

/**
 * `kinds`: only these are watched and kept (`netlet dns` keeps no Pods
 * unless `pods verified` needs them); default: what the configured
 * components read. `lean`: kinds kept in their lean form (convert/lean.ts),
 * for a process whose consumers read only their names and addresses.
 */
export async function createSources(ctx: AgentContext, kinds?: readonly Kind[], lean?: readonly LeanKind[]): Promise<AgentSources> {
  registerObjectGauge(ctx);
  if (ctx.config.manifests) {
    const { createManifestSources } = await import('./manifest-sources.ts');
    return createManifestSources(ctx, kinds, lean);
  }
  // API server: --kubeconfig, or the default chain ($KUBECONFIG, in-cluster, ~/.kube/config).
  const { createApiSources } = await import('./api-sources.ts');
  return createApiSources(ctx, kinds, lean);
}

/** Objects in the store by kind, whichever source filled it (the API branch also has netlet_api_objects). */
function registerObjectGauge(ctx: AgentContext): void {
  const { store } = ctx;
  new Gauge({
    name: 'netlet_objects',
    help: 'Objects held in the local store, by kind, from any source (API server, manifest folder, snapshot).',
    labelNames: ['kind'],
    registers: [ctx.metrics],
    collect() {
      for (const kind of ALL_KINDS) this.set({ kind }, store.count(kind));
    },
  });
}
