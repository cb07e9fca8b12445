import type { AddressInfo } from 'node:net';
import { isMainThread } from 'node:worker_threads';
import type { Registry } from 'prom-client';
import type { Logger } from '../base/log.ts';
import type { DnsConfig } from './corefile/config.ts';
import type { Forwarder } from './forward/forwarder.ts';
import { CachingForwarder } from './cache/caching-forwarder.ts';
import { defaultCacheLimits } from './cache/dns-cache.ts';
import type { CacheLimits } from './cache/dns-cache.ts';
import { HostsForwarder } from './hosts/hosts-forwarder.ts';
import { cacheCovers } from './cache/cache-settings.ts';
import { LoopDetector } from './forward/loop-detector.ts';
import { createCacheMetrics, createForwardMetrics } from './metrics/coredns-metrics.ts';
import { defaultForwardOptions } from './forward/options.ts';
import { UpstreamForwarder } from './forward/upstream-forwarder.ts';
import { ForwardList } from './forward/forward-list.ts';
import type { ForwardEvents } from './forward/upstream-forwarder.ts';
import { resolveUpstreams } from './forward/upstream-list.ts';
import type { Question } from './forward/message.ts';
import type { WorkerMetricsRecorder } from './metrics/worker-metrics.ts';
import { serverLabel } from './server-label.ts';

export interface ForwarderParts {
  /** Called when `loop` sees its probe come back; the default logs and exits with status 1, as CoreDNS halts. */
  onLoop?: (message: string) => void;
  /** Reads resolv.conf-style files named in `forward` (tests inject one). */
  readFile?: (path: string) => string;
  /** A worker thread's recorder (metrics/worker-metrics.ts), instead of metrics in a registry. */
  recorder?: WorkerMetricsRecorder;
}

/**
 * Everything behind the server's Forwarder hook, in CoreDNS's plugin
 * order: loop (sees its probe) → hosts → cache → forward. Built from the
 * Corefile's `loop`, `hosts`, `cache` and `forward`; null when none of them
 * is configured (the server then answers REFUSED beyond its zones).
 */
export class ForwardChain implements Forwarder {
  readonly head: Forwarder;
  /** The block's first `forward`. */
  readonly upstream: UpstreamForwarder | null;
  readonly cache: CachingForwarder | null;
  readonly hosts: HostsForwarder | null;
  readonly loop: LoopDetector | null;

  readonly #more: ForwardList | null;

  constructor(parts: { head: Forwarder; upstream: UpstreamForwarder | null; more?: ForwardList | null; cache: CachingForwarder | null; hosts: HostsForwarder | null; loop: LoopDetector | null }) {
    this.head = parts.head;
    this.upstream = parts.upstream;
    this.#more = parts.more ?? null;
    this.cache = parts.cache;
    this.hosts = parts.hosts;
    this.loop = parts.loop;
  }

  forward(query: Buffer, proto?: 'udp' | 'tcp', question?: Question | null): Promise<Buffer | null> {
    try {
      return this.head.forward(query, proto, question).catch(() => null);
    } catch {
      return Promise.resolve(null);
    }
  }

  /** A cache hit now, when nothing ahead of the cache (hosts, a loop probe under way) needs the query first. */
  lookup(query: Buffer, question?: Question): Buffer | null {
    if (!this.cache || this.hosts || (this.loop && !this.loop.quiet)) return null;
    return this.cache.lookup(query, question);
  }

  async start(addresses: AddressInfo[]): Promise<void> {
    await this.hosts?.start();
    this.loop?.start(addresses);
  }

  stop(): void {
    this.loop?.stop();
    this.hosts?.stop();
    this.upstream?.stop();
    this.#more?.stop();
  }
}

export function cacheLimitsOf(config: DnsConfig): CacheLimits {
  if (config.cacheLimits) return config.cacheLimits;
  // `cache TTL` caps both kinds (plugin/cache README).
  const limits = defaultCacheLimits();
  return { ...limits, successTtl: config.cache.successTtl, denialTtl: config.cache.denialTtl, prefetch: { ...limits.prefetch, amount: config.cache.prefetch } };
}

/** The server/zones labels of the cache metrics for this config. */
export function cacheMetricLabels(config: DnsConfig): { server: string; zones: string } {
  return { server: serverLabel(config), zones: (config.forward ?? defaultForwardOptions()).from };
}

export function createForwarder(config: DnsConfig, log: Logger, registry?: Registry, parts: ForwarderParts = {}): ForwardChain | null {
  const fwdOpts = config.forward ?? defaultForwardOptions();
  let upstream: UpstreamForwarder | null = null;
  let more: ForwardList | null = null;
  if (config.upstreams.length > 0) {
    const events: ForwardEvents = parts.recorder ? { ...parts.recorder.forward } : registry ? createForwardMetrics(registry) : {};
    events.upstreamState = (to, down) => log.warn({ upstream: to }, down ? 'upstream marked down; health checks continue' : 'upstream healthy again');
    upstream = new UpstreamForwarder(resolveUpstreams(config.upstreams, parts.readFile), fwdOpts, events);
    if (config.extraForwards?.length) {
      const rest = config.extraForwards.map((f) => new UpstreamForwarder(resolveUpstreams(f.upstreams, parts.readFile), f.options, events));
      more = new ForwardList([upstream, ...rest]);
    }
  }
  let head: Forwarder | null = more ?? upstream;
  let cache: CachingForwarder | null = null;
  if (head && config.cache.enabled) {
    const zones = fwdOpts.from;
    let sizes: (k: 'success' | 'denial') => number = () => 0;
    const events = parts.recorder ? parts.recorder.cache : registry ? createCacheMetrics(registry, serverLabel(config), zones, (k) => sizes(k)) : {};
    cache = new CachingForwarder(head, { limits: cacheLimitsOf(config), events });
    const c = cache.cache;
    sizes = (k) => c.size(k);
    if (parts.recorder) parts.recorder.cacheSizes = sizes;
    head = cache;
  }
  let hosts: HostsForwarder | null = null;
  if (config.hosts) {
    // CoreDNS's cache stands before hosts and caps the TTL of what passes through it; netlet's does not hold hosts answers, so the cap is applied here.
    const limits = config.cache.enabled ? cacheLimitsOf(config) : null;
    const ttlOf = limits ? (name: string, ttl: number) => (cacheCovers(limits, name) ? Math.min(Math.max(ttl, limits.successMinTtl), limits.successTtl) : ttl) : null;
    hosts = new HostsForwarder(config.hosts, head, log, ttlOf);
    head = hosts;
  }
  let loop: LoopDetector | null = null;
  // Worker threads (workers/dns-workers.ts) leave the probe to the main thread: a
  // worker's process.exit would end only that worker, and the main thread's
  // probe, bouncing through a loop, reaches its socket often enough.
  if (config.loop && isMainThread) {
    const onLoop = parts.onLoop ?? ((message: string) => {
      log.fatal({ plugin: 'loop' }, message);
      process.exit(1);
    });
    loop = new LoopDetector('.', head, onLoop);
    head = loop;
  }
  if (!head) return null;
  return new ForwardChain({ head, upstream, more, cache, hosts, loop });
}
