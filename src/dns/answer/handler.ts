import type { Forwarder } from '../forward/forwarder.ts';
import { EncodedAnswers } from './encoded-answers.ts';
import type { NotOurs, Resolution, Resolver } from '../zone/resolve.ts';
import { CLASSIC_UDP_SIZE, Rcode, RRClass, RRType } from '../wire/constants.ts';
import { parseQuery } from '../wire/query.ts';
import type { Query } from '../wire/query.ts';
import { finishReply, headerOnlyReply, fitForeign } from '../wire/response.ts';
import { encodeMessage } from '../wire/writer.ts';
import { buildQuery, readAnswerAddresses } from '../wire/answer-reader.ts';
import type { EncodedMessage } from '../wire/writer.ts';
import { queryLogLine } from './query-log.ts';
import { cacheCovers, cacheDuration, cacheKeeps } from '../cache/cache-settings.ts';
import type { CacheSettings, ReplyClass } from '../cache/cache-settings.ts';
import type { CachedReply } from './encoded-answers.ts';

export type Proto = 'udp' | 'tcp';

/** One answered query, for metrics (coredns_dns_requests_total and friends) without touching the hot path. */
export interface Observation {
  /** The zone that answered, '.' for forwarded names, null when the packet could not be read. */
  zone: string | null;
  /** The question name, lowercased ('' when the packet could not be read): for a query log. */
  name: string;
  qtype: number;
  rcode: number;
  durationMs: number;
  proto: Proto;
  /** Served from the encoded-answer cache. */
  fromCache: boolean;
  /** Sent to the forwarder. */
  forwarded: boolean;
  /** CoreDNS's `log` line for this query (query-log.ts), when the handler was asked for the query log. */
  logLine?: string;
  /** Answer records in the reply; set with logLine (the query log's denial class needs it). */
  ancount?: number;
}

/** The client of a query, formatted only when the query log needs it. */
export interface ClientAddress {
  /** "127.0.0.1:53977" or "[::1]:53977". */
  address(): string;
}

export interface HandlerOptions {
  resolver: Resolver;
  /** False until the store has synced what the zones need: SERVFAIL until then, never NXDOMAIN from an empty store. */
  synced: () => boolean;
  forwarder?: Forwarder | null;
  observe?: (o: Observation) => void;
  answerCacheSize: number;
  /** CoreDNS `loadbalance`: rotate A/AAAA answers from reply to reply. */
  loadbalance?: boolean;
  /** Told about an error answering a query (the query got SERVFAIL). */
  onError?: (err: Error) => void;
  /** CoreDNS `log`: each observation carries its log line (Observation.logLine). */
  queryLog?: boolean;
  /**
   * The `cache` plugin, which in CoreDNS sits in front of the kubernetes
   * zones too: their answers are capped to one TTL and, unless a `disable`
   * zone says otherwise, age while they are kept. Null: no `cache`.
   */
  cache?: CacheSettings | null;
  /** The clock answers age by (ms); Date.now by default. */
  now?: () => number;
}

/** CachedReply.storedMs of an answer whose TTL is capped but does not age (a `disable` zone). */
const NOT_AGEING = -1;

const MAX_TCP_MESSAGE = 65535;

/** What a server hands its packets to: one block's DnsHandler, or a dispatch over several blocks. */
export interface PacketHandler {
  /** True when handle() wants the client's address (for the query log). */
  readonly wantsClient: boolean;
  handle(packet: Buffer, proto: Proto, client?: ClientAddress): Buffer | null | Promise<Buffer | null>;
}

/**
 * Turns one query packet into one reply packet: synchronously for the
 * cluster zones (the common case, no promise allocated), asynchronously
 * when the forwarder is involved. Returns null for packets that get no
 * reply (too short to hold a header, or responses). Never throws on input.
 */
export class DnsHandler implements PacketHandler {
  readonly #resolver: Resolver;
  readonly #synced: () => boolean;
  readonly #forwarder: Forwarder | null;
  readonly #observe: ((o: Observation) => void) | null;
  readonly answers: EncodedAnswers;
  readonly #loadbalance: boolean;
  readonly #onError: ((err: Error) => void) | null;
  readonly #queryLog: boolean;
  readonly #cache: CacheSettings | null;
  readonly #now: () => number;
  #rotation = 0;

  constructor(opts: HandlerOptions) {
    this.#resolver = opts.resolver;
    this.#synced = opts.synced;
    this.#forwarder = opts.forwarder ?? null;
    this.#observe = opts.observe ?? null;
    this.answers = new EncodedAnswers(opts.answerCacheSize);
    this.#loadbalance = opts.loadbalance ?? false;
    this.#onError = opts.onError ?? null;
    this.#queryLog = (opts.queryLog ?? false) && this.#observe !== null;
    this.#cache = opts.cache ?? null;
    this.#now = opts.now ?? Date.now;
  }

  /** True when handle() wants the client's address (for the query log); servers skip formatting it otherwise. */
  get wantsClient(): boolean {
    return this.#queryLog;
  }

  /** Drops every encoded answer; the server calls this on each zone index change. */
  invalidate(): void {
    this.answers.clear();
  }

  /**
   * `packet` may be a view into a receive buffer that is reused once this
   * returns: anything that keeps it for later (the forwarder) copies it.
   */
  handle(packet: Buffer, proto: Proto, client?: ClientAddress): Buffer | null | Promise<Buffer | null> {
    const start = this.#observe ? performance.now() : 0;
    const parsed = parseQuery(packet);
    if (parsed.kind === 'drop') return null;
    if (parsed.kind !== 'query') {
      const rcode = parsed.kind === 'formerr' ? Rcode.FORMERR : Rcode.NOTIMP;
      const reply = headerOnlyReply(parsed.id, parsed.flags, rcode);
      this.#report(start, null, null, rcode, proto, false, false, reply, 0, null);
      return reply;
    }
    const from = this.#queryLog ? (client?.address() ?? '-') : null;
    const q = parsed.query;
    const maxSize = proto === 'tcp' ? MAX_TCP_MESSAGE : q.edns ? q.edns.udpSize : CLASSIC_UDP_SIZE;

    // RFC 6891 §6.1.3: we speak EDNS version 0 only.
    if (q.edns && q.edns.version > 0) return this.#simple(q, packet, Rcode.BADVERS, maxSize, start, proto, null, from);

    const cached = q.qclass === RRClass.IN ? this.answers.get(q.qtype, q.name) : undefined;
    if (cached) {
      const ttl = this.#ttlNow(cached);
      // 0: aged out under `cache`, answered afresh below.
      if (ttl !== 0) {
        const reply = finishReply(cached, q, packet, maxSize, this.#nextRotation(), ttl);
        // For metrics and the log, a hit of the `cache` plugin only when that plugin keeps this
        // answer (CoreDNS's plugin="cache"); netlet's own reuse of an encoding is the zone answering.
        const pluginHit = cached.lifetimeS > 0 && cached.storedMs !== NOT_AGEING;
        this.#report(start, q, cached.zone, cached.rcode, proto, pluginHit, false, reply, packet.length, from);
        return reply;
      }
    }

    const zone = this.#resolver.zoneOf(q.name);
    if (zone === null) return this.#forward(q, packet, maxSize, start, proto, from);
    // CoreDNS's cache keys on name and type only, so a CH question for a
    // cached name gets the IN answer there; netlet keeps NOTIMP: the zones
    // hold IN data only, and answering IN records to a CH question would
    // tell the client something about a class that was never asked.
    if (q.qclass !== RRClass.IN && q.qclass !== RRClass.ANY) return this.#simple(q, packet, Rcode.NOTIMP, maxSize, start, proto, zone, from);
    // Zone transfers are not offered (CoreDNS needs its transfer plugin for them).
    if (q.qtype === RRType.AXFR || q.qtype === 251) return this.#simple(q, packet, Rcode.REFUSED, maxSize, start, proto, zone, from);
    if (!this.#synced()) return this.#simple(q, packet, Rcode.SERVFAIL, maxSize, start, proto, zone, from);

    let res: Resolution | NotOurs;
    let msg: EncodedMessage;
    try {
      res = this.#resolver.resolve(q.name, q.qtype);
      if (res.rcode === null) return this.#forward(q, packet, maxSize, start, proto, from);
      if (res.chase && this.#forwarder) return this.#chase(q, Buffer.from(packet), res, res.chase, maxSize, start, proto, from);
      // No forwarder to ask: the target's records cannot be found, so NODATA (see #chase).
      if (res.chase) res = this.#resolver.chaseFailed(res);
      msg = this.#encode(q, packet, res);
    } catch (err) {
      // A bug or bad data must cost one answer (SERVFAIL), never the server.
      this.#onError?.(err as Error);
      return this.#simple(q, packet, Rcode.SERVFAIL, maxSize, start, proto, zone, from);
    }
    const kept = this.#keep(q.name, res, msg);
    if (q.qclass === RRClass.IN) this.answers.set(q.qtype, q.name, kept);
    const reply = finishReply(msg, q, packet, maxSize, this.#nextRotation(), kept.lifetimeS || -1);
    this.#report(start, q, res.zone, res.rcode, proto, false, false, reply, packet.length, from);
    return reply;
  }

  /**
   * ExternalName to a name outside our zones: the upstream's records for it
   * after the CNAME, when it has some of the type asked; else NODATA with
   * the zone's SOA, as CoreDNS answers (no lone CNAME).
   */
  async #chase(q: Query, packet: Buffer, res: Resolution, target: string, maxSize: number, start: number, proto: Proto, from: string | null): Promise<Buffer> {
    let found = false;
    try {
      const reply = await this.#forwarder!.forward(buildQuery(q.id, target, q.qtype), proto);
      const read = reply ? readAnswerAddresses(reply) : null;
      if (read && read.records.some((r) => r.data.type === q.qtype)) {
        res = { ...res, answer: [...res.answer, ...read.records] };
        found = true;
      }
    } catch {
      // Nothing found: NODATA below.
    }
    if (!found) res = this.#resolver.chaseFailed(res);
    const msg = this.#encode(q, packet, res);
    const kept = this.#keep(q.name, res, msg);
    // The whole message (CNAME and the upstream's records) is kept only under
    // `cache`, for its lowest TTL: without it, the records are the upstream's to age.
    if (kept.lifetimeS > 0 && kept.storedMs !== NOT_AGEING && q.qclass === RRClass.IN) this.answers.set(q.qtype, q.name, kept);
    const reply = finishReply(msg, q, packet, maxSize, 0, kept.lifetimeS || -1);
    this.#report(start, q, res.zone, res.rcode, proto, false, true, reply, packet.length, from);
    return reply;
  }

  /**
   * An encoded answer as kept for reuse: under `cache` (cache-settings.ts),
   * every record answers the message's capped TTL, which counts down from
   * now unless a `disable` zone keeps this kind out of CoreDNS's cache (then
   * CoreDNS still caps the TTL, but answers afresh each time).
   */
  #keep(name: string, res: Resolution, msg: EncodedMessage): CachedReply {
    const c = this.#cache;
    if (!c || !cacheCovers(c, name)) return { ...msg, zone: res.zone, storedMs: 0, lifetimeS: 0 };
    let cls: ReplyClass = null;
    if (res.rcode === Rcode.NOERROR && res.answer.length) cls = 'success';
    else if (res.authority.length && (res.rcode === Rcode.NOERROR || res.rcode === Rcode.NXDOMAIN)) cls = 'denial';
    let minTtl: number | null = null;
    for (const list of [res.answer, res.authority, res.additional]) {
      for (const r of list) if (minTtl === null || r.ttl < minTtl) minTtl = r.ttl;
    }
    const lifetimeS = cacheDuration(c, cls, minTtl);
    if (lifetimeS <= 0) return { ...msg, zone: res.zone, storedMs: 0, lifetimeS: 0 };
    return { ...msg, zone: res.zone, storedMs: cacheKeeps(c, cls, name) ? this.#now() : NOT_AGEING, lifetimeS };
  }

  /** The TTL a kept answer carries now: -1 as encoded, 0 aged out, else its life left (or, with keepttl, its whole life). */
  #ttlNow(kept: CachedReply): number {
    if (kept.lifetimeS === 0) return -1;
    if (kept.storedMs === NOT_AGEING || this.#cache?.keepTtl) {
      if (kept.storedMs !== NOT_AGEING && this.#now() - kept.storedMs >= kept.lifetimeS * 1000) return 0;
      return kept.lifetimeS;
    }
    // Whole seconds, as CoreDNS's int(now.Sub(stored).Seconds()).
    const left = kept.lifetimeS - Math.floor((this.#now() - kept.storedMs) / 1000);
    return left > 0 ? Math.min(left, kept.lifetimeS) : 0;
  }

  #encode(q: Query, packet: Buffer, res: Resolution): EncodedMessage {
    return encodeMessage({
      id: q.id,
      queryFlags: q.flags,
      question: packet.subarray(12, q.questionEnd),
      qname: q.name,
      rcode: res.rcode & 0xf,
      authoritative: true,
      answer: res.answer,
      authority: res.authority,
      additional: res.additional,
    });
  }

  #simple(q: Query, packet: Buffer, rcode: number, maxSize: number, start: number, proto: Proto, zone: string | null, from: string | null): Buffer {
    const msg = encodeMessage({
      id: q.id,
      queryFlags: q.flags,
      question: packet.subarray(12, q.questionEnd),
      qname: q.name,
      rcode: rcode & 0xf,
      authoritative: false,
      answer: [],
      authority: [],
      additional: [],
    });
    msg.rcode = rcode;
    const reply = finishReply(msg, q, packet, maxSize);
    this.#report(start, q, zone, rcode, proto, false, false, reply, packet.length, from);
    return reply;
  }

  #forward(q: Query, view: Buffer, maxSize: number, start: number, proto: Proto, from: string | null): Buffer | Promise<Buffer | null> {
    const fwd = this.#forwarder;
    if (!fwd) return this.#simple(q, view, Rcode.REFUSED, maxSize, start, proto, '.', from);
    const question = { name: q.name, qtype: q.qtype, qclass: q.qclass, questionEnd: q.questionEnd, dnssecOk: q.edns?.dnssecOk ?? false };
    const now = fwd.lookup?.(view, question);
    if (now) {
      const out = fitForeign(now, q, maxSize);
      this.#report(start, q, '.', now[3] & 0xf, proto, false, true, out, view.length, from);
      return out;
    }
    // Kept past this call: a copy of its own (see handle()).
    const packet = Buffer.from(view);
    const servfail = () => this.#simple(q, packet, Rcode.SERVFAIL, maxSize, start, proto, '.', from);
    return fwd.forward(packet, proto, question).then(
      (reply) => {
        if (!reply || reply.length < 12) return servfail();
        const out = fitForeign(reply, q, maxSize);
        this.#report(start, q, '.', reply[3] & 0xf, proto, false, true, out, packet.length, from);
        return out;
      },
      () => servfail(),
    );
  }

  #nextRotation(): number {
    if (!this.#loadbalance) return 0;
    this.#rotation = (this.#rotation + 1) & 0x3fffffff;
    return this.#rotation;
  }

  #report(
    start: number, q: Query | null, zone: string | null, rcode: number, proto: Proto, fromCache: boolean, forwarded: boolean,
    reply: Buffer | null, querySize: number, from: string | null,
  ): void {
    if (!this.#observe) return;
    try {
      const name = q?.name ?? '';
      const qtype = q?.qtype ?? 0;
      const durationMs = performance.now() - start;
      const o: Observation = { zone, name, qtype, rcode, durationMs, proto, fromCache, forwarded };
      if (from !== null && q) {
        o.logLine = queryLogLine({ client: from, query: q, querySize, proto, rcode, reply, durationMs });
        o.ancount = reply && reply.length >= 8 ? reply.readUInt16BE(6) : 0;
      }
      this.#observe(o);
    } catch {
      // A metrics hook must never cost an answer.
    }
  }
}
