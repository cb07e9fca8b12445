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
import { createComponents, needsWriterLease } from '../components.ts';
import { acquireWriterLease } from '../writer-lease.ts';
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

/**
 * Runs until SIGTERM/SIGINT; then stops everything and leaves kernel state
 * in place. Built to overlap the agent it replaces (a DaemonSet with
 * maxSurge, deploy/30-daemonset.yaml): its health and metrics ports and
 * DNS bind beside the old agent's (SO_REUSEPORT), its kernel writers wait
 * for the writer lease (writer-lease.ts), and on SIGTERM it stops its
 * writers and drops the lease at once, then keeps answering DNS for
 * dns.lameduck with /healthz saying it is going.
 */
export async function runAgent(ctx: AgentContext): Promise<number> {
  const { config, log } = ctx;
  const sources = await createSources(ctx);
  const components: Component[] = await createComponents(ctx, { connection: sources.connection });
  const writers = components.filter(needsWriterLease);
  const others = components.filter((c) => !needsWriterLease(c));
  const started: Component[] = [];
  let waitingForLease = false;
  let going = false;
  let lastHealthy = Date.now();
  const health: HealthState = {
    // Only started components count: one waiting for the lease does no job yet, and the agent before it does that job meanwhile.
    healthy: () => {
      const ok = !going && started.every((c) => c.healthy()) && sources.healthy();
      if (ok) lastHealthy = Date.now();
      return ok;
    },
    lastUpdated: () => lastHealthy,
    details: () =>
      Object.assign(
        {},
        sources.details(),
        ...started.map((c) => c.details?.() ?? {}),
        going ? { stopping: true } : {},
        waitingForLease ? { waitingFor: 'the agent before this one to stop writing kernel state' } : {},
      ),
  };

  // Listen for the stop signal first: a SIGTERM during start-up (a pod deleted
  // while its API server is unreachable) must still end the agent cleanly.
  let signalled = false;
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      signalled = true;
      resolve(signal);
    };
    process.once('SIGTERM', on);
    process.once('SIGINT', on);
  });
  const servers: Server[] = [];
  let unlock: (() => Promise<void>) | undefined;
  const stopAll = async (list: Component[]): Promise<void> => {
    for (const c of [...list].reverse()) {
      if (!started.includes(c)) continue;
      await c.stop().catch((err: unknown) => log.error({ err, component: c.name }, 'stop failed'));
      started.splice(started.indexOf(c), 1);
    }
  };
  const stopWriting = async (): Promise<void> => {
    await stopAll(writers);
    await unlock?.().catch((err: unknown) => log.error({ err }, 'dropping the writer lease failed'));
    if (unlock) log.info('kernel writers stopped; the writer lease is free for the next agent');
    unlock = undefined;
  };
  const shutdown = async (): Promise<void> => {
    await stopWriting();
    await stopAll(others);
    await sources.stop().catch((err: unknown) => log.error({ err }, 'stopping the sources failed'));
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  };

  let signal: NodeJS.Signals | undefined;
  try {
    servers.push(await listen(createHealthServer(health), 'healthzBindAddress', config.healthzBindAddress, { reusePort: true }));
    servers.push(await listen(createMetricsServer(ctx.metrics, health), 'metricsBindAddress', config.metricsBindAddress, { reusePort: true }));
    signal = await Promise.race([sources.start().then(() => undefined), stopSignal]);
    // DNS first: it writes no kernel state, so it needs no lease and serves beside an agent that still holds it.
    for (const c of signal ? [] : others) await startComponent(c, started, log);
    if (!signal && writers.length > 0) {
      waitingForLease = true;
      unlock = await acquireWriterLease(log, () => signalled);
      waitingForLease = false;
    }
    for (const c of signalled ? [] : writers) await startComponent(c, started, log);
    if (signalled) signal ??= await stopSignal;
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
  going = true;
  await stopWriting();
  const lameduckMs = config.dns.lameduck;
  if (lameduckMs > 0 && started.some((c) => c.name === 'dns')) {
    log.info({ lameduckMs }, 'lameduck: still answering DNS while the agent after this one takes over');
    await new Promise((r) => setTimeout(r, lameduckMs));
  }
  await shutdown();
  return 0;
}

async function startComponent(c: Component, started: Component[], log: AgentContext['log']): Promise<void> {
  await c.start();
  started.push(c);
  log.info({ component: c.name }, 'started');
}
