import { readFileSync } from 'node:fs';
import type tls from 'node:tls';
import { ConfigError } from '../../base/errors.ts';
import type { Forwarder } from './forwarder.ts';
import { Rcode } from '../wire/constants.ts';
import { healthCheckQuery, isTruncated, questionOf, rcodeReply } from './message.ts';
import type { Question } from './message.ts';
import type { ForwardOptions, ForwardTls } from './options.ts';
import { ExchangeError, Upstream } from './upstream.ts';
import type { UpstreamAddress } from './upstream-list.ts';

/** Where the forwarder reports what it did; the prometheus side lives in src/dns/metrics/. */
export interface ForwardEvents {
  request?(to: string): void;
  response?(to: string, rcode: number, durationMs: number): void;
  healthcheckFailure?(to: string): void;
  /** All upstreams down: one picked at random anyway. */
  healthcheckBroken?(): void;
  maxConcurrentReject?(): void;
  /** An upstream changed state (for logs). */
  upstreamState?(to: string, down: boolean): void;
}

/** `tls CERT KEY CA` / `tls_servername` as node:tls options; the files are read now, so a missing one stops the start. */
function tlsConnectionOptions(t: ForwardTls): tls.ConnectionOptions {
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError('forward tls', `cannot read the ${what} ${path}: ${(err as Error).message}`);
    }
  };
  return {
    ...(t.cert ? { cert: read('certificate', t.cert) } : {}),
    ...(t.key ? { key: read('key', t.key) } : {}),
    ...(t.ca ? { ca: read('CA', t.ca) } : {}),
    ...(t.serverName ? { servername: t.serverName } : {}),
  };
}

function isUnder(name: string, zone: string): boolean {
  return zone === '.' || name === zone || name.endsWith(`.${zone}`);
}

/**
 * CoreDNS's `forward` for plain DNS: tries upstreams in policy order,
 * skipping those marked down; on a network error or timeout goes on to
 * the next. An upstream that fails starts a health-check loop (`. IN NS`
 * every health_check interval; any reply at all counts as healthy) that
 * runs until it answers again; more than max_fails failures in a row mark
 * it down. With all upstreams down one is tried at random anyway. A check
 * that succeeds renews the upstream's shared socket (upstream.ts), so
 * forwarding is back within one health-check interval of the upstream.
 */
export class UpstreamForwarder implements Forwarder {
  readonly upstreams: Upstream[];
  readonly #opts: ForwardOptions;
  readonly #events: ForwardEvents;
  readonly #checking = new Set<Upstream>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #next = 0;
  #inFlight = 0;
  #stopped = false;

  constructor(addresses: UpstreamAddress[], opts: ForwardOptions, events: ForwardEvents = {}) {
    if (addresses.length === 0) throw new Error('forward needs at least one upstream');
    const tlsOptions = opts.tls ? tlsConnectionOptions(opts.tls) : undefined;
    this.upstreams = addresses.map((a) => new Upstream(a, { expireMs: opts.expireMs, tls: tlsOptions }));
    this.#opts = opts;
    this.#events = events;
  }

  /** True when `name` (lowercase, absolute) is this forward's: under FROM and under no `except` zone. */
  takes(name: string): boolean {
    return isUnder(name, this.#opts.from) && !this.#opts.except.some((z) => isUnder(name, z));
  }

  // Promise chains rather than async functions, here and in #tryOne: a burst
  // of misses waits at once, each holding one promise and a closure per step
  // (docs/design/dns-memory.md#forwarded-queries).
  forward(query: Buffer, proto: 'udp' | 'tcp' = 'udp', question: Question | null = questionOf(query)): Promise<Buffer | null> {
    const q = question;
    if (!q) return Promise.resolve(null);
    if (!this.takes(q.name)) return Promise.resolve(rcodeReply(query, q.questionEnd, Rcode.REFUSED));
    // plugin/forward README: above max_concurrent the answer is REFUSED, and it is not a health failure.
    if (this.#opts.maxConcurrent > 0 && this.#inFlight >= this.#opts.maxConcurrent) {
      this.#events.maxConcurrentReject?.();
      return Promise.resolve(rcodeReply(query, q.questionEnd, Rcode.REFUSED));
    }
    // plugin/forward README: the client's protocol, unless force_tcp or prefer_udp says otherwise.
    const tcp = this.#opts.forceTcp || (proto === 'tcp' && !this.#opts.preferUdp);
    const order = this.#order();
    // README failfast_all_unhealthy_upstreams: every upstream down answers SERVFAIL without asking one.
    if (order.length === 0) return Promise.resolve(rcodeReply(query, q.questionEnd, Rcode.SERVFAIL));
    this.#inFlight++;
    return this.#tryFrom(order, 0, query, tcp).finally(() => this.#inFlight--);
  }

  /** True when `next RCODE…` names the rcode of `reply`: the block's next `forward` should have the query. */
  passesOn(reply: Buffer): boolean {
    return this.#opts.nextRcodes.length > 0 && this.#opts.nextRcodes.includes(reply[3] & 0xf);
  }

  /**
   * The first reply from `order[i]` onwards, or null. A failure goes on to
   * the next upstream, and so does a reply whose rcode `failover` names; the
   * last upstream's reply is kept whatever its rcode, so the client still
   * hears what the upstreams said.
   */
  #tryFrom(order: Upstream[], i: number, query: Buffer, tcp: boolean): Promise<Buffer | null> {
    if (i >= order.length) return Promise.resolve(null);
    return this.#tryOne(order[i], query, tcp).then((reply) => {
      if (reply === null) return this.#tryFrom(order, i + 1, query, tcp);
      if (i + 1 < order.length && this.#opts.failoverRcodes.includes(reply[3] & 0xf)) {
        return this.#tryFrom(order, i + 1, query, tcp).then((later) => later ?? reply);
      }
      return reply;
    });
  }

  /** How many queries are being forwarded now. */
  inFlight(): number {
    return this.#inFlight;
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const u of this.upstreams) u.close();
  }

  #order(): Upstream[] {
    const all = this.upstreams;
    // The common case, one healthy upstream, without a list per query.
    if (all.length === 1 && !all[0].isDown(this.#opts.maxFails)) return all;
    let list: Upstream[];
    if (this.#opts.policy === 'sequential') list = all;
    else if (this.#opts.policy === 'round_robin') {
      const start = this.#next++ % all.length;
      list = [...all.slice(start), ...all.slice(0, start)];
    } else {
      list = [...all];
      for (let i = list.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [list[i], list[j]] = [list[j], list[i]];
      }
    }
    const healthy = list.filter((u) => !u.isDown(this.#opts.maxFails));
    if (healthy.length > 0) return healthy;
    if (this.#opts.failfastAllUnhealthy) return [];
    // README: with all upstreams down, health checking is assumed broken and a random one is tried.
    this.#events.healthcheckBroken?.();
    return [all[Math.floor(Math.random() * all.length)]];
  }

  #tryOne(u: Upstream, query: Buffer, tcp: boolean): Promise<Buffer | null> {
    const start = performance.now();
    this.#events.request?.(u.address.label);
    const timeout = this.#opts.timeoutMs;
    return u
      .exchange(query, tcp, timeout)
      // RFC 7766 §5 / README prefer_udp: a truncated UDP reply is asked again over TCP.
      .then((reply) => (!tcp && !u.address.tls && isTruncated(reply) ? u.exchange(query, true, timeout) : reply))
      .then(
        (reply) => {
          this.#markHealthy(u);
          this.#events.response?.(u.address.label, reply[3] & 0xf, performance.now() - start);
          return reply;
        },
        (err: unknown) => {
          if (!(err instanceof ExchangeError)) throw err;
          this.#markFailed(u);
          return null;
        },
      );
  }

  #markHealthy(u: Upstream): void {
    if (u.isDown(this.#opts.maxFails)) this.#events.upstreamState?.(u.address.label, false);
    u.fails = 0;
  }

  #markFailed(u: Upstream): void {
    if (this.#opts.maxFails === 0) return; // README: max_fails 0 = never down, never checked
    const wasDown = u.isDown(this.#opts.maxFails);
    u.fails++;
    if (!wasDown && u.isDown(this.#opts.maxFails)) this.#events.upstreamState?.(u.address.label, true);
    this.#startHealthCheck(u);
  }

  #startHealthCheck(u: Upstream): void {
    if (this.#checking.has(u) || this.#stopped) return;
    this.#checking.add(u);
    const tick = () => {
      const t = setTimeout(async () => {
        this.#timers.delete(t);
        if (this.#stopped) return;
        try {
          // Any reply, whatever its rcode, means the upstream is there (README).
          await u.probe(healthCheckQuery(this.#opts.healthCheckDomain, this.#opts.healthCheckRecursion), this.#opts.forceTcp, Math.min(this.#opts.timeoutMs, 1000));
          // The check got through on a fresh socket while queries failed on the shared one: queries get a fresh one too.
          u.renew();
          this.#markHealthy(u);
          this.#checking.delete(u);
        } catch {
          this.#events.healthcheckFailure?.(u.address.label);
          const wasDown = u.isDown(this.#opts.maxFails);
          u.fails++;
          if (!wasDown && u.isDown(this.#opts.maxFails)) this.#events.upstreamState?.(u.address.label, true);
          tick();
        }
      }, this.#opts.healthCheckMs);
      t.unref();
      this.#timers.add(t);
    };
    tick();
  }
}
