import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../../base/log.ts';
import type { Forwarder } from '../forward/forwarder.ts';
import { HostsTable } from './hosts-table.ts';
import type { HostsConfig } from './hosts-table.ts';
import { rr } from '../wire/records.ts';
import type { ResourceRecord } from '../wire/records.ts';
import { Rcode, RRType } from '../wire/constants.ts';
import { parseQuery } from '../wire/query.ts';
import type { Query } from '../wire/query.ts';
import { finishReply } from '../wire/response.ts';
import { encodeMessage } from '../wire/writer.ts';
import type { Question } from '../forward/message.ts';

function isUnder(name: string, zone: string): boolean {
  return zone === '.' || name === zone || name.endsWith(`.${zone}`);
}

/**
 * The `hosts` plugin: answers A, AAAA and PTR from a hosts(5) file and
 * inline Corefile lines, authoritatively; a name it has, asked for
 * another type, is NODATA. Names it does not have go on to the next
 * forwarder only where `fallthrough` says so, otherwise NXDOMAIN (README).
 * The file is re-read when its mtime or size changes.
 */
export class HostsForwarder implements Forwarder {
  readonly #config: HostsConfig;
  readonly #next: Forwarder | null;
  readonly #log: Logger | null;
  /** The TTL a record of `name` is answered with: `cache` in front caps it (createForwarder); absent: the config's. */
  readonly #ttlOf: ((name: string, ttl: number) => number) | null;
  readonly #inline: HostsTable;
  #table: HostsTable;
  #fileStamp = '';
  #timer: NodeJS.Timeout | null = null;

  constructor(config: HostsConfig, next: Forwarder | null, log: Logger | null = null, ttlOf: ((name: string, ttl: number) => number) | null = null) {
    this.#config = config;
    this.#next = next;
    this.#log = log;
    this.#ttlOf = ttlOf;
    this.#inline = HostsTable.parse(config.inline, config.noReverse);
    this.#table = this.#inline;
  }

  get table(): HostsTable {
    return this.#table;
  }

  /** Reads the file once, then every reloadMs. */
  async start(): Promise<void> {
    await this.reload();
    if (this.#config.file && this.#config.reloadMs > 0) {
      this.#timer = setInterval(() => void this.reload(), this.#config.reloadMs);
      this.#timer.unref();
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Re-reads the hosts file if it changed; a missing file leaves the inline entries (README). */
  async reload(): Promise<void> {
    if (!this.#config.file) return;
    try {
      const s = await stat(this.#config.file);
      const stamp = `${s.mtimeMs}:${s.size}`;
      if (stamp === this.#fileStamp) return;
      const text = await readFile(this.#config.file, 'utf8');
      this.#fileStamp = stamp;
      this.#table = HostsTable.merge(HostsTable.parse(text.split('\n'), this.#config.noReverse), this.#inline);
    } catch (err) {
      if (this.#fileStamp !== 'missing') this.#log?.warn({ err, file: this.#config.file }, 'hosts file unreadable; serving the inline entries');
      this.#fileStamp = 'missing';
      this.#table = this.#inline;
    }
  }

  async forward(query: Buffer, proto?: 'udp' | 'tcp', question?: Question | null): Promise<Buffer | null> {
    const p = parseQuery(query);
    if (p.kind !== 'query') return this.#pass(query, proto);
    return this.answer(query, p.query) ?? this.#pass(query, proto, question);
  }

  /**
   * The reply when hosts takes the question: a name it has (NODATA for
   * another type), or one it lacks in its zones without `fallthrough`
   * (NXDOMAIN); null when the question goes on to the next plugin.
   */
  answer(query: Buffer, q: Query, maxSize = 65535): Buffer | null {
    if (!this.#config.zones.some((z) => isUnder(q.name, z))) return null;
    let answer: ResourceRecord[] = [];
    let known = false;
    const ttl = this.#ttlOf ? this.#ttlOf(q.name, this.#config.ttl) : this.#config.ttl;
    const ptrTargets = this.#table.reverse.get(q.name);
    if (ptrTargets) {
      known = true;
      if (q.qtype === RRType.PTR) answer = ptrTargets.map((t) => rr.ptr(q.name, ttl, t));
    } else {
      const e = this.#table.lookup(q.name);
      if (e) {
        known = true;
        if (q.qtype === RRType.A) answer = e.v4.map((a) => rr.a(q.name, ttl, a));
        else if (q.qtype === RRType.AAAA) answer = e.v6.map((a) => rr.aaaa(q.name, ttl, a));
      }
    }
    if (answer.length === 0) {
      const fall = this.#config.fallthrough;
      // README: fallthrough passes names (and, for a known name, nothing else) on; otherwise known → NODATA, unknown → NXDOMAIN.
      if (!known && fall !== null && (fall.length === 0 || fall.some((z) => isUnder(q.name, z)))) return null;
    }
    const msg = encodeMessage({
      id: q.id,
      queryFlags: q.flags,
      question: query.subarray(12, q.questionEnd),
      qname: q.name,
      rcode: known ? Rcode.NOERROR : Rcode.NXDOMAIN,
      authoritative: true,
      answer,
      authority: [],
      additional: [],
    });
    return finishReply(msg, q, query, maxSize);
  }

  #pass(query: Buffer, proto?: 'udp' | 'tcp', question?: Question | null): Promise<Buffer | null> {
    return this.#next ? this.#next.forward(query, proto, question) : Promise.resolve(null);
  }
}
