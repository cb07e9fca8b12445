import { readFile } from 'node:fs/promises';
import { ConfigError } from '../base/errors.ts';
import { allBlocks } from './corefile/config.ts';
import type { DnsConfig } from './corefile/config.ts';
import { parseCorefile } from './corefile/parse.ts';
import type { CorefileReport } from './corefile/parse.ts';
import { inQueryOrder } from './corefile/plugin-order.ts';
import { buildSteps } from './plugins/steps.ts';

/**
 * `netlet dns --check FILE`: what netlet would run for this Corefile,
 * block by block with its plugins in the order a query meets them, the
 * warnings about old spellings, and every directive it refuses, without
 * serving anything. `ok` is false when anything is refused.
 */
export async function checkCorefile(path: string): Promise<{ ok: boolean; text: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { ok: false, text: `cannot read ${path}: ${(err as Error).message}\n` };
  }
  const report: CorefileReport = { blocks: [], refused: [] };
  let config: DnsConfig | null = null;
  let fatal = '';
  try {
    config = parseCorefile(text, path, report);
  } catch (err) {
    // Syntax, server keys and block overlaps stop the reading: nothing else can be said.
    if (!(err instanceof ConfigError)) throw err;
    fatal = err.message;
  }
  const out: string[] = [];
  const blocks = config ? allBlocks(config) : [];
  report.blocks.forEach((b, i) => {
    const c = blocks[i];
    const listen = c ? c.listen.map((l) => `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`).join(' ') : '?';
    out.push(`server block ${b.keys.join(' ')} (${b.where}): zones ${c?.serverZones?.join(' ') ?? '?'} on ${listen}`);
    const order = inQueryOrder(b.ran.map((r) => r.plugin));
    out.push(order.length ? `  runs, in this order: ${order.join(', ')}` : '  runs no plugin: every query gets REFUSED');
  });
  if (config) {
    const api = config.api ?? {};
    const access = [
      ...(config.kubeconfig ? [`kubeconfig ${config.kubeconfig}${config.kubeconfigContext ? ` (context ${config.kubeconfigContext})` : ''}`] : []),
      ...(api.endpoint ? [`endpoint ${api.endpoint}${api.tls ? ` (client certificate ${api.tls.cert})` : ''}`] : []),
      ...(api.labels ? [`labels ${api.labels}`] : []),
      ...(api.qps !== undefined || api.burst !== undefined ? [`at most ${api.qps ?? 5} requests/s, bursts of ${api.burst ?? 10}`] : []),
      ...(api.maxInflight !== undefined ? [`at most ${api.maxInflight} requests in flight`] : []),
    ];
    if (access.length) out.push(`API access (netlet dns only; refused in the agent): ${access.join('; ')}`);
    const clustersets = [...new Set(blocks.flatMap((b) => b.multicluster ?? []))];
    if (clustersets.length) {
      // The operator must grant and install what these watches need before migrating: say what they are.
      out.push(`clusterset zones (kubernetes multicluster; netlet dns only, refused in the agent): ${clustersets.join(' ')} from ServiceImports (multicluster.x-k8s.io/v1alpha1, CRD and RBAC needed) and EndpointSlices labelled multicluster.kubernetes.io/service-name`);
    }
    for (const w of config.warnings ?? []) out.push(`warning: ${w}`);
    // What is only read when a block is built (zone files): build each block's plugins once, and stop them.
    for (const b of blocks) {
      try {
        for (const step of buildSteps(b.front ?? [], { othersTake: () => true })) step.stop?.();
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        report.refused.push({ where: '', message: err.message });
      }
    }
  }
  // ConfigError's "config: KEY: " prefix says nothing a reader of this list needs.
  const reason = (message: string) => message.replace(/^config: [^:]+: /, '');
  for (const r of report.refused) out.push(`refused: ${reason(r.message)}`);
  if (fatal) out.push(`refused: ${reason(fatal)}`);
  const ok = report.refused.length === 0 && !fatal;
  out.push(ok ? 'netlet serves this Corefile.' : 'netlet refuses this Corefile: fix or remove what is refused above.');
  return { ok, text: `${out.join('\n')}\n` };
}
