import type { Server } from 'node:http';
import type { Component, ComponentContext } from '../base/component.ts';
import type { Logger } from '../base/log.ts';
import { ConfigError } from '../base/errors.ts';
import { collectAndReturnMemory, trimMallocEvery } from '../base/return-memory.ts';
import type { Kind } from '../k8s/objects.ts';
import type { ObjectStore } from '../k8s/store.ts';
import { ClusterDns, kindsNeeded } from './cluster-dns.ts';
import { allBlocks } from './corefile/config.ts';
import type { DnsConfig } from './corefile/config.ts';
import { parseCorefile } from './corefile/parse.ts';
import { CorefileWatcher } from './corefile/reload.ts';
import { startDnsHttp, stopDnsHttp } from './http-endpoints.ts';
import { loadBlockForwarders, loadDnsConfig, loadForwarder, loadMetrics, withOverrides } from './load-parts.ts';
import { servedElsewhere } from './transport/served-elsewhere.ts';
import { forgetCacheSizes } from './metrics/coredns-metrics.ts';

/**
 * Cluster DNS as one component, run by the agent (`--dns`, or dns.enabled in
 * the config file) and by `netlet dns` alike: the server over the store, the
 * health/ready/prometheus endpoints, `reload` and `health { lameduck }`.
 * What only a DNS-only process wants (giving memory back, CoreDNS's ports
 * without a Corefile) is an option; signals, sources and exit stay with the
 * caller.
 */
export type DnsContext = ComponentContext & { store: ObjectStore };

export interface DnsComponentOptions {
  /** A Corefile to read; undefined or '' means the built-in default. */
  corefile?: string;
  /**
   * UDP and TCP address(es) to answer on, comma separated; wins over the
   * Corefile. A reload keeps the addresses already bound (port 0 stays the
   * port clients were given).
   */
  listen?: string;
  /** The cluster zone when no Corefile is given (default cluster.local). */
  clusterDomain?: string;
  /** Threads answering queries (workers/dns-workers.ts), at start and after every reload; default 1. */
  workers?: number;
  /** Addresses that win over the Corefile's health, ready and prometheus ('' turns one off). */
  endpoints?: { health?: string; ready?: string; prometheus?: string };
  /**
   * Without a Corefile, still open the default Corefile's endpoints (:8080,
   * :8181, :9153), as CoreDNS would. The agent says no: its own /healthz and
   * /metrics cover DNS there and it opens no extra port.
   */
  defaultEndpoints?: boolean;
  /**
   * Give the load's memory back once the zones are built, after each reload,
   * and malloc's free memory every 10 s (docs/design/dns-memory.md#returning-memory).
   * For a process that serves DNS alone; the agent's other parts have their own.
   */
  returnMemory?: boolean;
  /**
   * The caller fills the store by the Corefile's API settings (`kubernetes {
   * kubeconfig; endpoint; tls; apiserver_*; labels }`), as `netlet dns` does.
   * Otherwise (the agent, whose store is shared with the proxy and filled
   * from its own --kubeconfig) a Corefile that sets them is refused.
   */
  ownSources?: boolean;
}

/** The Corefile's settings that shape how the store is filled, not how it is answered from. */
function apiSettings(config: DnsConfig): string {
  // multicluster adds the ServiceImport watch, which only a restart brings.
  return JSON.stringify([config.kubeconfig, config.kubeconfigContext, config.api, kindsNeeded(config).includes('ServiceImport')]);
}

/** In the agent: the API settings a Corefile names cannot apply to the shared store, so they are refused by name. */
function refuseApiSettings(config: DnsConfig, corefile: string | undefined): void {
  const named = [
    ...(config.kubeconfig ? ['kubeconfig'] : []),
    // The shared store holds no ServiceImports: the agent's watches are fixed by its own consumers.
    ...(kindsNeeded(config).includes('ServiceImport') ? ['multicluster'] : []),
    ...Object.keys(config.api ?? {}).map((k) => ({ tls: 'tls', endpoint: 'endpoint', qps: 'apiserver_qps', burst: 'apiserver_burst', maxInflight: 'apiserver_max_inflight', labels: 'labels' })[k] ?? k),
  ];
  if (named.length === 0) return;
  throw new ConfigError(
    'dns.corefile',
    `${corefile ?? 'Corefile'}: 'kubernetes' ${named.map((n) => `'${n}'`).join(', ')} cannot apply in the agent: its DNS answers from the store it shares with the service proxy, filled through the agent's own --kubeconfig; remove ${named.length > 1 ? 'them' : 'it'}, or run 'netlet dns' to serve DNS with its own API access`,
  );
}

/** How often malloc's free memory is returned while serving (returnMemory). */
const TRIM_EVERY_MS = 10_000;

/**
 * The kinds a store must hold for `config`: what the zones are built from,
 * and Pods when `reload` is on (the next Corefile may turn on `pods verified`).
 */
export function kindsToWatch(config: DnsConfig): Kind[] {
  const kinds = kindsNeeded(config);
  if (config.reload && !kinds.includes('Pod')) kinds.push('Pod');
  return kinds;
}

export class DnsComponent implements Component {
  readonly name = 'dns';
  readonly #ctx: DnsContext;
  readonly #options: DnsComponentOptions;
  readonly #log: Logger;
  readonly #corefile: string | undefined;
  #config: DnsConfig | null = null;
  #dns: ClusterDns | null = null;
  #http: Server[] = [];
  #watcher: CorefileWatcher | null = null;
  #reloading: Promise<void> = Promise.resolve();
  #stopTrimming: (() => void) | null = null;
  #lameduck = false;
  #observe: Awaited<ReturnType<typeof loadMetrics>> | undefined;
  /** A start waiting to join another process (#joinOnceSynced); stop waits for it once synced. */
  #serving: Promise<void> | null = null;
  #keepAlive: NodeJS.Timeout | null = null;
  #stopping = false;

  constructor(ctx: DnsContext, options: DnsComponentOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#log = ctx.log.child({ component: 'dns' });
    this.#corefile = options.corefile || undefined;
  }

  /**
   * Reads the Corefile (or the defaults) with the options applied. `start`
   * serves what this read; a caller calls it first to pick its sources
   * (`kindsToWatch`, the Corefile's kubeconfig).
   */
  async load(): Promise<DnsConfig> {
    const { listen, clusterDomain, workers } = this.#options;
    if (!this.#config) {
      const config = await loadDnsConfig({ corefile: this.#corefile, listen, clusterDomain, workers });
      if (!this.#options.ownSources) refuseApiSettings(config, this.#corefile);
      this.#config = config;
      for (const w of this.#config.warnings ?? []) this.#log.warn({ corefile: this.#corefile }, w);
    }
    return this.#config;
  }

  /**
   * Sockets first, then the endpoints: queries get SERVFAIL (not silence)
   * until the store syncs. Unless another process serves the addresses (an
   * overlapping restart, see #joinOnceSynced): then start returns at once
   * and the sockets are bound once the zones are synced.
   */
  async start(): Promise<void> {
    const config = await this.load();
    // Registered once: a reload reuses them (a registry refuses a name twice).
    this.#observe ??= await loadMetrics(this.#ctx.metrics, config);
    this.#lameduck = false;
    this.#stopping = false;
    const busy = [];
    for (const addr of allBlocks(config).flatMap((b) => b.listen)) if (await servedElsewhere(addr)) busy.push(addr);
    if (busy.length > 0) {
      this.#log.info({ listen: busy }, 'another process serves these addresses; joining it once the zones are synced');
      this.#serving = this.#joinOnceSynced(config);
      return;
    }
    const waitMs = config.startupTimeoutMs ?? 0;
    if (waitMs > 0 && !this.#ctx.store.isSynced(...kindsNeeded(config))) {
      this.#serving = this.#serveOnceSyncedOr(config, waitMs);
      return;
    }
    await this.#serve(config);
  }

  /**
   * `kubernetes { startup_timeout D }`, as CoreDNS: the server starts once
   * the zones are synced, or after D without them (then answering SERVFAIL
   * in the cluster zones until they are). Not awaited by start: the caller
   * starts the sources after it.
   */
  async #serveOnceSyncedOr(config: DnsConfig, waitMs: number): Promise<void> {
    this.#keepAlive = setInterval(() => {}, 60_000);
    let timer: NodeJS.Timeout | undefined;
    try {
      const synced = await Promise.race([
        this.#ctx.store.whenSynced(...kindsNeeded(config)).then(() => true),
        new Promise<false>((r) => (timer = setTimeout(() => r(false), waitMs))),
      ]);
      if (this.#stopping) return;
      if (!synced) this.#log.warn({ startupTimeoutMs: waitMs }, 'the zones are not synced after the startup timeout; serving anyway (SERVFAIL in the cluster zones until they are)');
      await this.#serve(config);
    } catch (err) {
      this.#log.error({ err }, 'cannot serve cluster DNS');
    } finally {
      clearTimeout(timer);
      this.#endKeepAlive();
    }
  }

  /**
   * A restart that overlaps the process it replaces (a DaemonSet with
   * maxSurge, a supervisor that starts the new before stopping the old):
   * that one still answers, so this one binds beside it (SO_REUSEPORT, see
   * cluster-dns.ts) only once its zones are synced, rather than answering
   * SERVFAIL to the queries the kernel hands it meanwhile. Not awaited by
   * start: the caller starts the sources after it, and the zones need them.
   */
  async #joinOnceSynced(config: DnsConfig): Promise<void> {
    // Nothing else may hold the event loop yet (the sources start after us); stop clears it too.
    this.#keepAlive = setInterval(() => {}, 60_000);
    try {
      await this.#ctx.store.whenSynced(...kindsNeeded(config));
      if (this.#stopping) return;
      await this.#serve(config);
    } catch (err) {
      this.#log.error({ err }, 'cannot serve cluster DNS beside the process before this one');
    } finally {
      this.#endKeepAlive();
    }
  }

  #endKeepAlive(): void {
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#keepAlive = null;
  }

  async #serve(config: DnsConfig): Promise<void> {
    this.#dns = await this.#startDns(config);
    this.#log.info({ listen: this.#dns.addresses(), zones: config.zones, blocks: allBlocks(config).length }, 'cluster DNS serving');
    try {
      await this.#startEndpoints(config);
      this.#returnMemoryOnceSynced(config);
      await this.#watchCorefile(config);
    } catch (err) {
      // A caller that sees start fail does not call stop: nothing may stay open.
      await this.#close();
      throw err;
    }
  }

  async #watchCorefile(config: DnsConfig): Promise<void> {
    const corefile = this.#corefile;
    if (!corefile || !config.reload) return;
    this.#watcher = new CorefileWatcher(corefile, config.reload, (text) => {
      this.#reloading = this.#reload(text, corefile);
      return this.#reloading;
    });
    await this.#watcher.start();
  }

  async #startEndpoints(config: DnsConfig): Promise<void> {
    if (!this.#corefile && !this.#options.defaultEndpoints) return;
    const addresses = { health: config.health, ready: config.ready, prometheus: config.prometheus };
    for (const [key, value] of Object.entries(this.#options.endpoints ?? {})) {
      if (value !== undefined) addresses[key as keyof typeof addresses] = value;
    }
    this.#http = await startDnsHttp({ ...addresses, isReady: () => this.ready(), registry: this.#ctx.metrics });
    if (this.#http.length) this.#log.info({ http: this.#http.map((s) => s.address()) }, 'health, ready and metrics endpoints up');
  }

  #returnMemoryOnceSynced(config: DnsConfig): void {
    if (!this.#options.returnMemory) return;
    // Once the zones are built from a synced store, the load's garbage is gone: give its pages back.
    void this.#ctx.store.whenSynced(...kindsNeeded(config)).then(() => {
      if (this.#dns) collectAndReturnMemory();
    });
    // And what serving frees, as it goes.
    this.#stopTrimming = trimMallocEvery(TRIM_EVERY_MS);
  }

  /**
   * `reload`: a changed Corefile that parses replaces the server (sockets
   * rebound, the options applied again); one that does not is logged and
   * the running configuration kept. `text` is what the watcher just
   * summed, not a second read that could see a newer edit.
   */
  async #reload(text: string, corefile: string): Promise<void> {
    let next: DnsConfig;
    try {
      next = withOverrides(parseCorefile(text, corefile), { workers: this.#options.workers });
      if (!this.#options.ownSources) refuseApiSettings(next, corefile);
    } catch (err) {
      this.#log.error({ err }, 'Corefile changed but does not parse; keeping the running configuration');
      return;
    }
    if (this.#config && apiSettings(next) !== apiSettings(this.#config)) {
      // The store was filled by the old settings: a new selector or server needs new watches, which only a restart brings.
      this.#log.error({ corefile }, "Corefile changed its 'kubernetes' API settings (kubeconfig, endpoint, tls, apiserver_*, labels, multicluster), which apply at start only; keeping the running configuration: restart to apply them");
      return;
    }
    for (const w of next.warnings ?? []) this.#log.warn({ corefile }, w);
    if (this.#options.listen && this.#dns) withOverrides(next, { listen: this.#dns.server.addresses().map((a) => (a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`)).join(',') });
    await this.#dns?.stop();
    this.#config = next;
    this.#dns = await this.#startDns(next);
    if (this.#options.returnMemory) collectAndReturnMemory();
    this.#log.info({ listen: this.#dns.addresses(), zones: next.zones }, 'Corefile reloaded');
  }

  async #startDns(config: DnsConfig): Promise<ClusterDns> {
    const { store, metrics } = this.#ctx;
    const log = this.#log;
    // The caches are made anew (a reload's blocks may differ): coredns_cache_entries forgets the old ones.
    forgetCacheSizes(metrics);
    const dns = new ClusterDns({
      store,
      config,
      forwarder: await loadForwarder(config, log, metrics),
      blockForwarders: await loadBlockForwarders(config, log, metrics),
      registry: metrics,
      observe: this.#observe,
      onError: (err, where) => {
        log.warn({ err, where }, 'dns error');
      },
      log,
    });
    await dns.start();
    return dns;
  }

  /**
   * With `health { lameduck D }`, keeps answering for D first (/health OK,
   * /ready not), so that clients and load balancers move away before the
   * sockets close (CoreDNS plugin/health).
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    // A join still waiting for the store ends with the stop; one binding now is waited for.
    if (this.#serving && this.#config && this.#ctx.store.isSynced(...kindsNeeded(this.#config))) await this.#serving;
    this.#serving = null;
    this.#endKeepAlive();
    this.#watcher?.stop();
    // A reload under way finishes first, or its new server would outlive the stop.
    await this.#reloading.catch(() => {});
    const lameduckMs = this.#config?.lameduckMs;
    if (lameduckMs && this.#dns) {
      this.#lameduck = true;
      this.#log.info({ lameduckMs }, 'lameduck');
      await new Promise((r) => setTimeout(r, lameduckMs));
    }
    await this.#close();
  }

  async #close(): Promise<void> {
    this.#stopTrimming?.();
    this.#stopTrimming = null;
    this.#watcher?.stop();
    this.#watcher = null;
    await stopDnsHttp(this.#http);
    this.#http = [];
    await this.#dns?.stop();
    this.#dns = null;
  }

  healthy(): boolean {
    return this.#dns !== null;
  }

  /** For /ready: the store has synced what the zones need, and no stop is under way. */
  ready(): boolean {
    return !this.#lameduck && (this.#dns?.ready() ?? false);
  }
}
