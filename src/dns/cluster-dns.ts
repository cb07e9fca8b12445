import type { Registry } from 'prom-client';
import type { Logger } from '../base/log.ts';
import type { Kind } from '../k8s/objects.ts';
import type { ObjectStore } from '../k8s/store.ts';
import type { DnsConfig } from './corefile/config.ts';
import type { Forwarder } from './forward/forwarder.ts';
import { DnsHandler } from './answer/handler.ts';
import type { Observation } from './answer/handler.ts';
import { Resolver } from './zone/resolve.ts';
import { DnsServer } from './transport/server.ts';
import { DnsWorkers } from './workers/dns-workers.ts';
import { ZoneIndex } from './zone/zone-index.ts';
import { rcodeName, typeName } from './wire/constants.ts';
import { cacheLimitsOf } from './forward-chain.ts';
import { serverAddresses } from './server-addresses.ts';

export interface ClusterDnsOptions {
  store: ObjectStore;
  config: DnsConfig;
  forwarder?: Forwarder | null;
  observe?: (o: Observation) => void;
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

/** The kinds the zones are built from; Pods only when `pods verified` needs them. */
export function kindsNeeded(config: DnsConfig): Kind[] {
  const kinds: Kind[] = ['Service', 'EndpointSlice', 'Namespace'];
  if (config.pods === 'verified') kinds.push('Pod');
  return kinds;
}

/**
 * The cluster DNS server put together: zone index over the store, resolver,
 * packet handler with its encoded-answer cache, and the UDP/TCP sockets.
 * Run by the DNS component (component.ts), in the agent and in `netlet dns`.
 */
export class ClusterDns {
  readonly index: ZoneIndex;
  readonly resolver: Resolver;
  readonly handler: DnsHandler;
  readonly server: DnsServer;
  readonly #store: ObjectStore;
  readonly #kinds: Kind[];
  readonly #config: DnsConfig;
  readonly #workers: DnsWorkers | null;
  readonly #forwarder: Forwarder | null;
  #unwatch: (() => void) | null = null;

  constructor(opts: ClusterDnsOptions) {
    const { store, config } = opts;
    const observe = withQueryLog(opts.observe, config.log ? opts.log : undefined);
    this.#store = store;
    this.#kinds = kindsNeeded(config);
    this.#config = config;
    this.#forwarder = opts.forwarder ?? null;
    this.#workers = config.workers > 1 ? new DnsWorkers({ store, kinds: this.#kinds, observe, onError: opts.onError, registry: opts.registry }) : null;
    this.index = new ZoneIndex(store, { endpointPodNames: config.endpointPodNames, podsVerified: config.pods === 'verified' });
    this.resolver = new Resolver(this.index, {
      zones: config.zones, fallthrough: config.fallthrough, ttl: config.ttl, pods: config.pods,
      localAddresses: opts.localAddresses ?? (() => serverAddresses(config.listen)),
    });
    this.handler = new DnsHandler({
      resolver: this.resolver,
      synced: () => this.ready(),
      forwarder: opts.forwarder,
      observe,
      answerCacheSize: config.answerCacheSize,
      loadbalance: config.loadbalance,
      onError: (err) => opts.onError?.(err, 'answer'),
      queryLog: config.log,
      cache: config.cache.enabled ? cacheLimitsOf(config) : null,
      now: opts.now,
    });
    this.server = new DnsServer({ handler: this.handler, listen: config.listen, tcpIdleTimeoutMs: config.tcpIdleTimeoutMs, tcpLimits: config.tcpLimits,
      onError: opts.onError,
      reusePort: opts.reusePort ?? true,
    });
  }

  /** For /ready: the store has synced what the zones are built from. */
  ready(): boolean {
    return this.#store.isSynced(...this.#kinds);
  }

  async start(): Promise<void> {
    this.index.start();
    this.#unwatch = this.index.onChange(() => this.handler.invalidate());
    // A sync can flip SERVFAIL answers to real ones without an index change.
    const offSynced = this.#store.onSynced(() => this.handler.invalidate());
    const offChange = this.#unwatch;
    this.#unwatch = () => {
      offChange();
      offSynced();
    };
    await this.server.start();
    await this.#forwarder?.start?.(this.server.addresses());
    if (this.#workers) {
      // Workers bind the ports the main thread got (port 0 resolved).
      const listen = this.server.addresses().map((a) => ({ host: a.address, port: a.port }));
      await this.#workers.start(this.#config.workers - 1, this.#config, listen);
    }
  }

  async stop(): Promise<void> {
    this.#unwatch?.();
    this.#unwatch = null;
    this.index.stop();
    await this.#workers?.stop();
    await this.server.stop();
    this.#forwarder?.stop?.();
  }
}

/**
 * CoreDNS's `log`: one line per query in CoreDNS's common log format
 * (answer/query-log.ts; built by the handler, also in worker threads), riding on
 * the same observation hook as metrics.
 */
function withQueryLog(observe: ((o: Observation) => void) | undefined, log: Logger | undefined): ((o: Observation) => void) | undefined {
  if (!log) return observe;
  return (o) => {
    observe?.(o);
    if (!o.logLine) return;
    log.info(
      { plugin: 'log', name: o.name, type: typeName(o.qtype), rcode: rcodeName(o.rcode), proto: o.proto, durationMs: Number(o.durationMs.toFixed(3)), cached: o.fromCache },
      o.logLine,
    );
  };
}
