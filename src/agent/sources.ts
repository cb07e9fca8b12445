import { Gauge } from 'prom-client';
import { ALL_KINDS } from '../k8s/objects.ts';
import type { Kind } from '../k8s/objects.ts';
import type { LeanKind } from '../k8s/convert/index.ts';
import type { AgentContext } from './component.ts';
import type { AgentSources, SourceAccess } from './agent-sources.ts';

export type { AgentSources };

/**
 * `kinds`: only these are watched and kept (`netlet dns` keeps no Pods
 * unless `pods verified` needs them); default: what the configured
 * components read. `lean`: kinds kept in their lean form (convert/lean.ts),
 * for a process whose consumers read only their names and addresses.
 */
/** `access`: the Corefile's API settings for `netlet dns` (agent-sources.ts). */
export async function createSources(ctx: AgentContext, kinds?: readonly Kind[], lean?: readonly LeanKind[], access: SourceAccess = {}): Promise<AgentSources> {
  registerObjectGauge(ctx);
  if (ctx.config.manifests) {
    const { createManifestSources } = await import('./manifest-sources.ts');
    return createManifestSources(ctx, kinds, lean, access.labelSelector);
  }
  // API server: --kubeconfig, or the default chain ($KUBECONFIG, in-cluster, ~/.kube/config).
  const { createApiSources } = await import('./api-sources.ts');
  return createApiSources(ctx, kinds, lean, access);
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
