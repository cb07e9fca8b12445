import { Registry } from 'prom-client';
import { ConfigError } from '../../base/errors.ts';
import { createLogger } from '../../base/log.ts';
import { ObjectStore } from '../../k8s/store.ts';
import { DnsComponent, kindsToWatch } from '../../dns/component.ts';
import { keepHeapCloseToLive } from '../../dns/heap-growth.ts';
import { parseCommandLine } from '../command.ts';
import type { Command } from '../command.ts';
import type { AgentContext } from '../component.ts';
import { buildConfig } from '../config.ts';
import { createSources } from '../sources.ts';
import type { SourceAccess } from '../agent-sources.ts';

const HELP = `usage: netlet dns [options]

Serve cluster DNS alone (what CoreDNS with the kubernetes plugin does).

  --corefile FILE        a Corefile; without one, kubeadm's default zones
                         (cluster.local, in-addr.arpa, ip6.arpa)
  --check FILE           read a Corefile and print what would run and what is
                         refused, without serving; exit 1 if anything is refused
  --kubeconfig FILE      watch the API server named in this kubeconfig
  --manifests DIR        serve the Kubernetes manifests in DIR instead
  --listen ADDR:PORT     UDP and TCP address(es), comma separated (default 0.0.0.0:53)
  --health ADDR:PORT     /health (default :8080, as CoreDNS); '' turns it off
  --ready ADDR:PORT      /ready, 200 once the store has synced (default :8181)
  --metrics ADDR:PORT    /metrics (default :9153)
  --workers N            threads answering queries on the same sockets (default 1)
  --log-level LEVEL      trace, debug, info, warn, error
  -h, --help             this help
`;

function parseWorkers(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new ConfigError('workers', `'${text}' is not a thread count from 1 to 64`);
  return n;
}

export const dnsCommand: Command = {
  summary: 'serve cluster DNS (CoreDNS kubernetes plugin compatible)',
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandLine(
      argv,
      {
        corefile: { type: 'string' },
        check: { type: 'string' },
        kubeconfig: { type: 'string' },
        manifests: { type: 'string' },
        listen: { type: 'string' },
        health: { type: 'string' },
        ready: { type: 'string' },
        metrics: { type: 'string' },
        workers: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      HELP,
    );
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (values.check !== undefined) {
      const { checkCorefile } = await import('../../dns/corefile-check.ts');
      const result = await checkCorefile(values.check);
      process.stdout.write(result.text);
      return result.ok ? 0 : 1;
    }
    keepHeapCloseToLive();
    const sourceOverrides = { kubeconfig: values.kubeconfig, manifests: values.manifests, logLevel: values['log-level'], proxyMode: 'none', dns: true } as const;
    let agentConfig = buildConfig({}, sourceOverrides);
    const log = createLogger({ level: agentConfig.logLevel });
    const metrics = new Registry();
    const store = new ObjectStore();
    // The agent's DNS component, with what a DNS-only process adds: CoreDNS's
    // ports without a Corefile, the command line's addresses, memory return.
    const dns = new DnsComponent(
      { log, metrics, store, nodeName: agentConfig.nodeName },
      {
        corefile: values.corefile,
        listen: values.listen,
        workers: values.workers === undefined ? undefined : parseWorkers(values.workers),
        endpoints: { health: values.health, ready: values.ready, prometheus: values.metrics },
        defaultEndpoints: true,
        returnMemory: true,
        ownSources: true,
      },
    );
    const dnsConfig = await dns.load();
    // The Corefile's `kubernetes { kubeconfig FILE [CONTEXT] }` or `{ endpoint URL; tls … }`, unless the command line names a source.
    const api = dnsConfig.api ?? {};
    const access: SourceAccess = {
      labelSelector: api.labels,
      // client-go's defaults (5 per second, bursts of 10) stand in for the one not given, as in CoreDNS.
      ...(api.qps !== undefined || api.burst !== undefined ? { limits: { qps: api.qps ?? 5, burst: api.burst ?? 10, maxInflight: api.maxInflight } } : {}),
      ...(api.maxInflight !== undefined && api.qps === undefined && api.burst === undefined ? { limits: { maxInflight: api.maxInflight } } : {}),
    };
    const commandLineSource = values.kubeconfig || values.manifests;
    if (dnsConfig.kubeconfig && !commandLineSource) {
      agentConfig = buildConfig({}, { ...sourceOverrides, kubeconfig: dnsConfig.kubeconfig });
      access.context = dnsConfig.kubeconfigContext;
    }
    if (api.endpoint && !commandLineSource) access.endpoint = { url: api.endpoint, tls: api.tls };
    const ctx: AgentContext = { config: agentConfig, log, store, metrics, nodeName: agentConfig.nodeName };

    // Only what the zones are built from (kindsToWatch). DNS reads a pod's
    // namespace and IPs only (ZoneIndex.podExists), so pods are kept lean
    // (docs/design/dns-memory.md#lean-pods).
    const sources = await createSources(ctx, kindsToWatch(dnsConfig), ['Pod'], access);
    // Sockets before sources: queries get SERVFAIL (not silence) until the store syncs.
    await dns.start();
    await sources.start();

    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    log.info({ signal }, 'shutting down');
    await dns.stop();
    await sources.stop();
    return 0;
  },
};
