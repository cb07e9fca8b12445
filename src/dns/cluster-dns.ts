import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../base/log.ts';
import type { Kind } from '../k8s/objects.ts';
import type { ObjectStore } from '../k8s/store.ts';
import { allBlocks } from './corefile/config.ts';
import type { DnsConfig, ListenAddress } from './corefile/config.ts';
import type { Forwarder } from './forward/forwarder.ts';
import { DnsHandler } from './answer/handler.ts';
import type { Observation, PacketHandler } from './answer/handler.ts';
import { ZoneDispatch } from './transport/zone-dispatch.ts';
import { BlockPipeline } from './plugins/pipeline.ts';
import { buildSteps } from './plugins/steps.ts';
import { Resolver } from './zone/resolve.ts';
import { DnsServer } from './transport/server.ts';
import { DnsWorkers } from './workers/dns-workers.ts';
import { ZoneIndex } from './zone/zone-index.ts';
import { withErrorLog, withQueryLog } from './query-logs.ts';
import { ForwardChain, cacheLimitsOf } from './forward-chain.ts';
import { HostsFirstStep } from './plugins/hosts-first.ts';
import { pluginRank } from './corefile/plugin-order.ts';
import { serverAddresses } from './server-addresses.ts';
import { serverLabel } from './server-label.ts';
import type { DnsObserve } from './metrics/coredns-metrics.ts';
import { parseLabelSelector } from '../k8s/label-selector.ts';

export interface ClusterDnsOptions {
  store: ObjectStore;
  config: DnsConfig;
  forwarder?: Forwarder | null;
  /** The forwarders of config.otherBlocks, in their order (null where a block has none). */
  blockForwarders?: Array<Forwarder | null>;
  /** The metrics hook; with forServer, each block observes under its own server label (coredns-metrics.ts). */
  observe?: DnsObserve;
  onError?: (err: Error, where: string) => void;
  /** Where `log` (one line per query) writes when the config turns it on. */
  log?: Logger;
  /** Where worker threads' forward/cache metrics are summed (the registry the forwarder's metrics are in). */
  registry?: Registry;
  /**
   * Bind with SO_REUSEPORT; default true. Worker threads share the port
   * through it, and so does a restarted process with the one it replaces,
   * which serves until the new one answers (component.ts).
   */
  reusePort?: boolean;
  /** The clock cached answers age by (ms); Date.now by default (tests move their own). */
  now?: () => number;
  /** This server's own addresses, which name the apex NS; by default from the listen addresses or the interfaces (server-addresses.ts). */
  localAddresses?: () => readonly string[];
}

/** The kinds the zones are built from; Pods only when a block's `pods verified` needs them. */
export function kindsNeeded(config: DnsConfig): Kind[] {
  const kinds: Kind[] = ['Service', 'EndpointSlice', 'Namespace'];
  if (allBlocks(config).some((b) => b.pods === 'verified' && b.zones.length > 0)) kinds.push('Pod');
  if (allBlocks(config).some((b) => b.multicluster?.length)) kinds.push('ServiceImport');
  return kinds;
}

/** One server block put together: its zones, resolver and handler, and the forwarder behind it. */
interface Block {
  config: DnsConfig;
  index: ZoneIndex;
  resolver: Resolver;
  handler: DnsHandler;
  /** What the block's server hands packets to: the handler, or the front plugins before it (plugins/pipeline.ts). */
  entry: PacketHandler;
  forwarder: Forwarder | null;
  /** The block's observe hook (metrics under its labels, error and query logs). */
  observe: ((o: Observation) => void) | undefined;
}

const under = (name: string, zone: string) => zone === '.' || name === zone || name.endsWith(`.${zone}`);

/** Whether the block's kubernetes, hosts or forward would take `name`: whoami answers only the rest. */
function othersTake(config: DnsConfig, resolver: Resolver, name: string): boolean {
  if (resolver.zoneOf(name) !== null) return true;
  const h = config.hosts;
  if (h && h.zones.some((z) => under(name, z)) && !(h.fallthrough && (h.fallthrough.length === 0 || h.fallthrough.some((z) => under(name, z))))) return true;
  const forwards = [...(config.forward && config.upstreams.length ? [config.forward] : []), ...(config.extraForwards ?? []).map((f) => f.options)];
  return forwards.some((f) => under(name, f.from) && !f.except.some((z) => under(name, z)));
}

const addressKey = (l: ListenAddress) => `${l.host} ${l.port}`;

/**
 * The cluster DNS server put together: zone index over the store, resolver,
 * packet handler with its encoded-answer cache, and the UDP/TCP sockets.
 * Run by the DNS component (component.ts), in the agent and in `netlet dns`.
 * A Corefile with several server blocks gets one handler per block and one
 * server per address; blocks sharing an address are told apart by zone
 * (transport/zone-dispatch.ts). `index`, `resolver`, `handler` and `server`
 * are the first block's.
 */
export class ClusterDns {
  readonly index: ZoneIndex;
  readonly resolver: Resolver;
  readonly handler: DnsHandler;
  readonly server: DnsServer;
  readonly servers: DnsServer[] = [];
  readonly #blocks: Block[];
  /** Each server's blocks, to tell their forwarders (the loop probe) where they listen. */
  readonly #serverBlocks = new Map<DnsServer, Block[]>();
  /** Each server's address (with several blocks, one server per address). */
  readonly #serverKeys = new Map<DnsServer, string>();
  readonly #store: ObjectStore;
  readonly #kinds: Kind[];
  readonly #config: DnsConfig;
  readonly #workers: DnsWorkers | null;
  #unwatch: (() => void) | null = null;

  constructor(opts: ClusterDnsOptions) {
    const { store, config } = opts;
    const errorLogs: Array<() => void> = [];
    const observeFor = (c: DnsConfig) => {
      const metrics = opts.observe?.forServer ? opts.observe.forServer(serverLabel(c), c.serverZones ?? ['.']) : opts.observe;
      const errors = withErrorLog(metrics, opts.log, c);
      errorLogs.push(errors.stop);
      return withQueryLog(errors.observe, c.log ? opts.log : undefined, c);
    };
    this.#stopErrorLogs = () => errorLogs.forEach((stop) => stop());
    const observe = observeFor(config);
    this.#store = store;
    this.#kinds = kindsNeeded(config);
    this.#config = config;
    const configs = allBlocks(config);
    const indexes = new Map<string, ZoneIndex>();
    this.#blocks = configs.map((c, i) => {
      // Blocks that read the store the same way share one index.
      const indexKey = `${c.endpointPodNames} ${c.pods === 'verified'} ${c.noEndpoints === true} ${c.ignoreEmptyService === true}`;
      let index = indexes.get(indexKey);
      if (!index) indexes.set(indexKey, (index = new ZoneIndex(store, { endpointPodNames: c.endpointPodNames, podsVerified: c.pods === 'verified', noEndpoints: c.noEndpoints, ignoreEmptyService: c.ignoreEmptyService })));
      const forwarder = (i === 0 ? opts.forwarder : opts.blockForwarders?.[i - 1]) ?? null;
      const resolver = new Resolver(index, {
        zones: c.zones, fallthrough: c.fallthrough, ttl: c.ttl, pods: c.pods, namespaces: c.namespaces, multiclusterZones: c.multicluster,
        namespaceLabels: c.namespaceLabels === undefined ? undefined : parseLabelSelector(c.namespaceLabels),
        localAddresses: opts.localAddresses ?? (() => serverAddresses(c.listen)),
      });
      const blockObserve = i === 0 ? observe : observeFor(c);
      const handler = new DnsHandler({
        resolver,
        synced: () => this.ready(),
        forwarder,
        observe: blockObserve,
        answerCacheSize: config.answerCacheSize,
        loadbalance: c.loadbalance,
        onError: (err) => opts.onError?.(err, 'answer'),
        queryLog: c.log,
        cache: c.cache.enabled ? cacheLimitsOf(c) : null,
        now: opts.now,
      });
      const steps = c.front?.length ? buildSteps(c.front, {
        othersTake: (name) => othersTake(c, resolver, name),
        log: opts.log,
        podNamespace: (ip) => store.podsByIP(ip)[0]?.meta.namespace,
        clusterZone: c.zones.find((z) => !z.endsWith('.arpa.')),
      }) : [];
      const hosts = forwarder instanceof ForwardChain ? forwarder.hosts : null;
      if (hosts && c.zones.length > 0) {
        // plugin.cfg asks hosts before kubernetes: it goes in front, after the steps that come before it.
        const at = steps.findIndex((st) => pluginRank(st.plugin) > pluginRank('hosts'));
        steps.splice(at === -1 ? steps.length : at, 0, new HostsFirstStep(hosts, (name) => resolver.zoneOf(name) !== null));
      }
      const entry = steps.length ? new BlockPipeline(steps, handler, blockObserve, c.log) : handler;
      return { config: c, index, resolver, handler, entry, forwarder, observe: blockObserve };
    });
    // Each worker thread serves every block; its observations come back to their block's hook here.
    this.#workers = config.workers > 1 ? new DnsWorkers({ store, kinds: this.#kinds, observers: this.#blocks.map((b) => b.observe), onError: opts.onError, registry: opts.registry }) : null;
    ({ index: this.index, resolver: this.resolver, handler: this.handler } = this.#blocks[0]);
    this.#indexes = [...indexes.values()];
    for (const [listen, blocks] of this.#byAddress()) {
      const server = new DnsServer({ handler: this.#handlerFor(blocks), listen, tcpIdleTimeoutMs: config.tcpIdleTimeoutMs, tcpLimits: config.tcpLimits,
        onError: opts.onError,
        reusePort: opts.reusePort ?? true,
      });
      this.servers.push(server);
      this.#serverBlocks.set(server, blocks);
      this.#serverKeys.set(server, addressKey(listen[0]));
    }
    this.server = this.servers[0];
  }

  readonly #indexes: ZoneIndex[];
  readonly #stopErrorLogs: () => void;

  /**
   * Blocks grouped by the addresses they listen on. A lone block keeps its
   * whole address list on one server, as before there were several blocks.
   */
  #byAddress(): Array<[ListenAddress[], Block[]]> {
    if (this.#blocks.length === 1) return [[this.#blocks[0].config.listen, this.#blocks]];
    const groups = new Map<string, [ListenAddress[], Block[]]>();
    for (const b of this.#blocks) {
      for (const l of b.config.listen) {
        const key = addressKey(l);
        const g = groups.get(key) ?? [[l], []];
        g[1].push(b);
        groups.set(key, g);
      }
    }
    return [...groups.values()];
  }

  #handlerFor(blocks: Block[]): PacketHandler {
    if (blocks.length === 1 && (blocks[0].config.serverZones ?? ['.']).includes('.')) return blocks[0].entry;
    const refuse = new DnsHandler({ resolver: new Resolver(this.index, { zones: [], fallthrough: [], ttl: 0, pods: 'disabled' }), synced: () => true, answerCacheSize: 0 });
    return new ZoneDispatch(blocks.map((b) => ({ zones: b.config.serverZones ?? ['.'], handler: b.entry })), refuse);
  }

  /** Every bound address of every block, port 0 resolved. */
  addresses(): AddressInfo[] {
    return this.servers.flatMap((s) => s.addresses());
  }

  /** For /ready: the store has synced what the zones are built from. */
  ready(): boolean {
    return this.#store.isSynced(...this.#kinds);
  }

  async start(): Promise<void> {
    const offs: Array<() => void> = [];
    for (const index of this.#indexes) {
      index.start();
      const handlers = this.#blocks.filter((b) => b.index === index).map((b) => b.handler);
      offs.push(index.onChange(() => handlers.forEach((h) => h.invalidate())));
    }
    // A sync can flip SERVFAIL answers to real ones without an index change.
    offs.push(this.#store.onSynced(() => this.#blocks.forEach((b) => b.handler.invalidate())));
    this.#unwatch = () => offs.forEach((off) => off());
    for (const server of this.servers) await this.#startServer(server);
    const started = new Set<Forwarder>();
    for (const b of this.#blocks) {
      if (!b.forwarder || started.has(b.forwarder)) continue;
      started.add(b.forwarder);
      const where = [...this.#serverBlocks].filter(([, blocks]) => blocks.includes(b)).flatMap(([s]) => s.addresses());
      await b.forwarder.start?.(where);
    }
    if (this.#workers) await this.#workers.start(this.#config.workers - 1, this.#config, this.#boundConfig());
  }

  /**
   * The config with every block's addresses as bound (port 0 resolved):
   * worker threads bind beside the main thread's sockets on those.
   */
  #boundConfig(): DnsConfig {
    const bound = (a: AddressInfo): ListenAddress => ({ host: a.address, port: a.port });
    if (this.#blocks.length === 1) return { ...this.#config, listen: this.server.addresses().map(bound) };
    // Several blocks: one server per address (#byAddress), so its first bound address is that address's.
    const byKey = new Map<string, ListenAddress>();
    for (const [server, key] of this.#serverKeys) byKey.set(key, bound(server.addresses()[0]));
    const withBound = (c: DnsConfig): DnsConfig => ({ ...c, listen: c.listen.map((l) => byKey.get(addressKey(l)) ?? l) });
    return { ...withBound(this.#config), otherBlocks: this.#config.otherBlocks?.map(withBound) };
  }

  /** A server that fails to bind takes the ones already bound down with it: the caller sees start fail and calls no stop. */
  async #startServer(server: DnsServer): Promise<void> {
    try {
      await server.start();
    } catch (err) {
      await Promise.all(this.servers.map((s) => s.stop()));
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.#unwatch?.();
    this.#unwatch = null;
    for (const index of this.#indexes) index.stop();
    await this.#workers?.stop();
    await Promise.all(this.servers.map((s) => s.stop()));
    for (const b of new Set(this.#blocks.map((x) => x.forwarder))) b?.stop?.();
    this.#stopErrorLogs();
    for (const b of this.#blocks) if (b.entry instanceof BlockPipeline) b.entry.stop();
  }
}
