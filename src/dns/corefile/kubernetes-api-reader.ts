import type { DnsConfig } from './config.ts';
import type { Directive } from './syntax.ts';
import { argCount, fail, integer, labelSelector } from './directive-args.ts';
import type { PluginContext } from './directive-args.ts';

// The `kubernetes` properties about reaching the API server rather than
// answering: where (`endpoint`, `tls`), how fast (`apiserver_qps`,
// `apiserver_burst`, `apiserver_max_inflight`) and what to list (`labels`).

/** Reads `s` into config.api when it is one of these properties; false when it is not. */
export function readApiAccess(s: Directive, config: DnsConfig, ctx: PluginContext): boolean {
  const key = `kubernetes ${s.name}`;
  const api = (config.api ??= {});
  switch (s.name) {
    case 'endpoint': {
      // CoreDNS once took several URLs and now uses only the first: one is asked for, so none is dropped unseen.
      argCount(s, ctx, 1, 1, key);
      let url: URL | undefined;
      try {
        url = new URL(s.args[0]);
      } catch {
        // reported below
      }
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) fail(s, ctx, key, `'${s.args[0]}' is not an http:// or https:// URL`);
      api.endpoint = s.args[0];
      return true;
    }
    case 'tls':
      argCount(s, ctx, 3, 3, key);
      api.tls = { cert: s.args[0], key: s.args[1], ca: s.args[2] };
      return true;
    case 'apiserver_qps': {
      argCount(s, ctx, 1, 1, key);
      const qps = Number(s.args[0]);
      if (!Number.isFinite(qps) || qps <= 0) fail(s, ctx, key, `'${s.args[0]}' is not a positive number of requests per second`);
      api.qps = qps;
      return true;
    }
    case 'apiserver_burst':
      argCount(s, ctx, 1, 1, key);
      api.burst = integer(s, ctx, key, s.args[0], 1, 1_000_000);
      return true;
    case 'apiserver_max_inflight':
      argCount(s, ctx, 1, 1, key);
      api.maxInflight = integer(s, ctx, key, s.args[0], 1, 1_000_000);
      return true;
    case 'labels':
      api.labels = labelSelector(s, ctx, key);
      return true;
    default:
      if (Object.keys(api).length === 0) delete config.api;
      return false;
  }
}

/** After the whole `kubernetes` block: what its properties mean together. */
export function checkApiAccess(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  const api = config.api;
  if (!api) return;
  if (api.endpoint && config.kubeconfig) fail(d, ctx, 'kubernetes endpoint', `'endpoint' and 'kubeconfig' both name an API server: keep one`);
  if (api.tls && !api.endpoint) {
    // As CoreDNS: the client certificates are for a named endpoint; in-cluster and kubeconfig access bring their own.
    config.warnings?.push(`${ctx.file} line ${d.line}: 'kubernetes tls' is ignored without 'endpoint', as in CoreDNS`);
    delete api.tls;
  }
  if (Object.keys(api).length === 0) delete config.api;
}
