import { Registry } from 'prom-client';
import { ConfigError } from '../../base/errors.ts';
import { ObjectStore } from '../../k8s/store.ts';
import { ClusterDns, kindsNeeded } from '../../dns/cluster-dns.ts';
import { loadDnsConfig, loadForwarder, loadMetrics } from '../../dns/load-parts.ts';
import { parseCommandLine } from '../command.ts';
import type { Command } from '../command.ts';
import type { AgentContext } from '../component.ts';
import { buildConfig } from '../config.ts';
import { createLogger } from '../../base/log.ts';
import { createSources } from '../sources.ts';
import { startDnsHttp, stopDnsHttp } from '../../dns/http-endpoints.ts';
import { parseCorefile } from '../../dns/corefile.ts';
import { CorefileWatcher } from '../../dns/corefile-reload.ts';
import { keepHeapCloseToLive } from '../../dns/heap-growth.ts';
import { collectAndReturnMemory, trimMallocEvery } from '../../base/return-memory.ts';

const HELP = `usage: netlet dns [options]

Serve cluster DNS alone (what CoreDNS with the kubernetes plugin does).

  --corefile FILE        a Corefile; without one, kubeadm's default zones
                         (cluster.local, in-addr.arpa, ip6.arpa)
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
    keepHeapCloseToLive();
    let agentConfig = buildConfig(
      {},
      { kubeconfig: values.kubeconfig, manifests: values.manifests, logLevel: values['log-level'], proxyMode: 'none', dns: true },
    );
    const dnsListen = values.listen ?? (values.corefile ? undefined : agentConfig.dns.listen);
    let dnsConfig = await loadDnsConfig({ corefile: values.corefile, listen: dnsListen });
    if (values.workers !== undefined) dnsConfig.workers = parseWorkers(values.workers);
    // The Corefile's `kubernetes { kubeconfig FILE }`, unless the command line names a source.
    if (dnsConfig.kubeconfig && !values.kubeconfig && !values.manifests) {
      agentConfig = buildConfig({}, { kubeconfig: dnsConfig.kubeconfig, logLevel: values['log-level'], proxyMode: 'none', dns: true });
    }
    const log = createLogger({ level: agentConfig.logLevel });
    const metrics = new Registry();
    const ctx: AgentContext = { config: agentConfig, log, store: new ObjectStore(), metrics, nodeName: agentConfig.nodeName };

    // Only what the zones are built from: Pods only for `pods verified`. With `reload`
    // the mode may change at any time, so Pods are watched then. DNS reads a pod's
    // namespace and IPs only (ZoneIndex.podExists), so pods are kept lean: at 10k
    // services / 50k pods (bench/dnsperf.ts) RSS after load 123 → 108 MB from
    // manifests, 131 → 118 MB from the API; V8 heap live ~390 bytes a pod.
    const kinds = kindsNeeded(dnsConfig);
    if (dnsConfig.reload && !kinds.includes('Pod')) kinds.push('Pod');
    const sources = await createSources(ctx, kinds, ['Pod']);
    const observe = await loadMetrics(metrics);
    const newDns = async (config: typeof dnsConfig) => new ClusterDns({
      store: ctx.store,
      config,
      forwarder: await loadForwarder(config, log, metrics),
      registry: metrics,
      observe,
      onError: (err, where) => log.warn({ err, where }, 'dns error'),
      log,
    });
    let dns = await newDns(dnsConfig);
    let lameduck = false;
    // Sockets first: queries get SERVFAIL (not silence) until the store syncs.
    await dns.start();
    log.info({ listen: dns.server.addresses(), zones: dnsConfig.zones }, 'cluster DNS serving');
    const http = await startDnsHttp({
      health: values.health ?? dnsConfig.health,
      ready: values.ready ?? dnsConfig.ready,
      prometheus: values.metrics ?? dnsConfig.prometheus,
      isReady: () => !lameduck && dns.ready(),
      registry: metrics,
    }).catch(async (err: unknown) => {
      await dns.stop();
      throw err;
    });
    log.info({ http: http.map((s) => s.address()) }, 'health, ready and metrics endpoints up');
    await sources.start();
    // Once the zones are built from a synced store, the load's garbage is gone: give its pages back.
    void ctx.store.whenSynced(...kindsNeeded(dnsConfig)).then(() => collectAndReturnMemory());
    // And what serving frees, as it goes (return-memory.ts).
    const stopTrimming = trimMallocEvery(10_000);
    // `reload`: a changed Corefile that parses replaces the DNS server (sockets rebound); one that does not is logged and ignored.
    const watcher = values.corefile && dnsConfig.reload ? new CorefileWatcher(values.corefile, dnsConfig.reload, async (text) => {
      let next: typeof dnsConfig;
      try {
        next = parseCorefile(text, values.corefile!);
        // --listen wins over the Corefile; its port 0 stays the port already bound.
        if (dnsListen) next.listen = dns.server.addresses().map((a) => ({ host: a.address, port: a.port }));
      } catch (err) {
        log.error({ err }, 'Corefile changed but does not parse; keeping the running configuration');
        return;
      }
      await dns.stop();
      dnsConfig = next;
      dns = await newDns(next);
      await dns.start();
      collectAndReturnMemory();
      log.info({ listen: dns.server.addresses(), zones: next.zones }, 'Corefile reloaded');
    }) : null;
    await watcher?.start();

    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    log.info({ signal }, 'shutting down');
    stopTrimming();
    watcher?.stop();
    if (dnsConfig.lameduckMs) {
      // health's lameduck: keep answering (and /health OK, /ready not) for a while (plugin/health README).
      lameduck = true;
      log.info({ lameduckMs: dnsConfig.lameduckMs }, 'lameduck');
      await new Promise((r) => setTimeout(r, dnsConfig.lameduckMs));
    }
    await stopDnsHttp(http);
    await dns.stop();
    await sources.stop();
    return 0;
  },
};
