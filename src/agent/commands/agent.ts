import type { Server } from 'node:http';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { ObjectStore } from '../../k8s/store.ts';
import { parseCommandLine } from '../command.ts';
import type { Command } from '../command.ts';
import type { AgentContext, Component } from '../component.ts';
import { loadConfig } from '../config.ts';
import { createHealthServer, createMetricsServer, listen } from '../../base/http-servers.ts';
import type { HealthState } from '../../base/http-servers.ts';
import { createLogger } from '../../base/log.ts';
import { createComponents } from '../components.ts';
import { createSources } from '../sources.ts';

const HELP = `usage: netlet agent [options]

  --config FILE          agent config (YAML); a KubeProxyConfiguration file also works
  --kubeconfig FILE      watch the API server named in this kubeconfig
  --manifests DIR        serve the Kubernetes manifests in DIR instead (followed live)
  --snapshot FILE        keep the last known state here; serve it when the API is down at start
  --node-name NAME       this node's name (default: the hostname)
  --proxy-mode MODE      iptables (default), nftables, ipvs (deprecated upstream: prefer nftables) or none
  --dns                  also serve cluster DNS
  --log-level LEVEL      trace, debug, info, warn, error
  -h, --help             this help
`;

export const agentCommand: Command = {
  summary: 'run the node agent (service proxy, DNS, routes)',
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandLine(
      argv,
      {
        config: { type: 'string' },
        kubeconfig: { type: 'string' },
        manifests: { type: 'string' },
        snapshot: { type: 'string' },
        'node-name': { type: 'string' },
        'proxy-mode': { type: 'string' },
        dns: { type: 'boolean' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      HELP,
    );
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const warnings: string[] = [];
    const config = await loadConfig(
      values.config,
      {
        kubeconfig: values.kubeconfig,
        manifests: values.manifests,
        snapshot: values.snapshot,
        nodeName: values['node-name'],
        proxyMode: values['proxy-mode'],
        dns: values.dns,
        logLevel: values['log-level'],
      },
      (key) => warnings.push(key),
    );
    const log = createLogger({ level: config.logLevel });
    for (const key of warnings) log.warn({ key }, 'config key does not apply to netlet and is ignored');

    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    const ctx: AgentContext = { config, log, store: new ObjectStore(), metrics, nodeName: config.nodeName };
    return runAgent(ctx);
  },
};

/** Runs until SIGTERM/SIGINT; then stops everything and leaves kernel state in place. */
export async function runAgent(ctx: AgentContext): Promise<number> {
  const { config, log } = ctx;
  const sources = await createSources(ctx);
  const components: Component[] = await createComponents(ctx, { connection: sources.connection });
  let lastHealthy = Date.now();
  const health: HealthState = {
    healthy: () => {
      const ok = components.every((c) => c.healthy()) && sources.healthy();
      if (ok) lastHealthy = Date.now();
      return ok;
    },
    lastUpdated: () => lastHealthy,
    details: () => Object.assign({}, sources.details(), ...components.map((c) => c.details?.() ?? {})),
  };

  // Listen for the stop signal first: a SIGTERM during start-up (a pod deleted
  // while its API server is unreachable) must still end the agent cleanly.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const servers: Server[] = [];
  const started: Component[] = [];
  const shutdown = async (): Promise<void> => {
    for (const c of [...started].reverse()) {
      await c.stop().catch((err: unknown) => log.error({ err, component: c.name }, 'stop failed'));
    }
    await sources.stop().catch((err: unknown) => log.error({ err }, 'stopping the sources failed'));
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  };

  let signal: NodeJS.Signals | undefined;
  try {
    servers.push(await listen(createHealthServer(health), 'healthzBindAddress', config.healthzBindAddress));
    servers.push(await listen(createMetricsServer(ctx.metrics, health), 'metricsBindAddress', config.metricsBindAddress));
    signal = await Promise.race([sources.start().then(() => undefined), stopSignal]);
    for (const c of signal ? [] : components) {
      await c.start();
      started.push(c);
      log.info({ component: c.name }, 'started');
    }
  } catch (err) {
    // Without this the open servers would keep the process alive after the error is printed.
    await shutdown();
    throw err;
  }
  if (!signal) {
    log.info({ node: ctx.nodeName, proxyMode: config.proxy.mode, dns: config.dns.enabled }, 'netlet agent running');
    signal = await stopSignal;
  }
  log.info({ signal }, 'shutting down; kernel state is left in place');
  await shutdown();
  return 0;
}
