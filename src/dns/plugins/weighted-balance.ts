import { readFileSync } from 'node:fs';
import type { Logger } from '../../base/log.ts';
import { RRType } from '../wire/constants.ts';
import { decodeWire, encodeWire } from './message.ts';
import type { WireRecord } from './message.ts';
import type { Ask, Next, Reply, Step } from './pipeline.ts';
import { replyLimit } from './pipeline.ts';
import { addressKey, parseWeights } from './weight-file.ts';
import type { Weights } from './weight-file.ts';

/** The weight file's text, or null when it cannot be read. */
function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * CoreDNS's `loadbalance weighted WEIGHTFILE`: in a reply to an A, AAAA or
 * SRV question, one address record of the answer (and of the additional
 * section) is drawn with the probability of its weight (1 when the file
 * gives it none) and put first among the addresses; CNAMEs go before the
 * other records, addresses after them and MX last, as CoreDNS orders them.
 * The file is read again every `reloadMs` (0: never) when it changed; a
 * changed file that does not parse is logged and the old weights kept.
 */
export class WeightedBalanceStep implements Step {
  readonly plugin = 'loadbalance';
  readonly #path: string;
  readonly #log: Logger | undefined;
  readonly #random: () => number;
  #weights: Weights;
  #text: string | null;
  #timer: NodeJS.Timeout | null = null;

  /** Throws when the file does not parse, or cannot be opened and is not reloaded (CoreDNS waits for a missing file it reloads). */
  constructor(path: string, reloadMs: number, log?: Logger, random: () => number = Math.random) {
    this.#path = path;
    this.#log = log;
    this.#random = random;
    this.#text = readText(path);
    if (this.#text === null && reloadMs === 0) throw new Error(`cannot read the weight file ${path}`);
    if (this.#text === null) log?.warn({ plugin: 'loadbalance', file: path }, `cannot read the weight file; trying again every ${reloadMs / 1000}s`);
    this.#weights = this.#text === null ? new Map() : parseWeights(this.#text, path);
    if (reloadMs > 0) {
      this.#timer = setInterval(() => this.#reload(), reloadMs);
      this.#timer.unref();
    }
  }

  #reload(): void {
    const text = readText(this.#path);
    if (text === this.#text || text === null) return;
    this.#text = text;
    try {
      this.#weights = parseWeights(text, this.#path);
      this.#log?.info({ plugin: 'loadbalance', file: this.#path }, 'weight file reloaded');
    } catch (err) {
      this.#log?.error({ plugin: 'loadbalance', err }, 'weight file changed but does not parse; keeping the weights as they were');
    }
  }

  run(ask: Ask, next: Next): Reply {
    const t = ask.query.qtype;
    if (t !== RRType.A && t !== RRType.AAAA && t !== RRType.SRV) return next(ask);
    const reply = next(ask);
    return reply instanceof Promise ? reply.then((r) => this.#balance(r, ask)) : this.#balance(reply, ask);
  }

  #balance(reply: Buffer | null, ask: Ask): Buffer | null {
    if (!reply) return reply;
    const m = decodeWire(reply);
    if (!m) return reply;
    m.answer = this.#order(m.answer);
    m.additional = this.#order(m.additional);
    return encodeWire(m, replyLimit(ask));
  }

  #order(records: WireRecord[]): WireRecord[] {
    const isAddress = (r: WireRecord) => r.type === RRType.A || r.type === RRType.AAAA;
    const address = records.filter(isAddress);
    if (address.length === 0) return records;
    const weightOf = (r: WireRecord) => {
      const data = r.rdata[0];
      return (Buffer.isBuffer(data) && this.#weights.get(r.name.toLowerCase())?.get(addressKey(data))) || 1;
    };
    // Heaviest first, as CoreDNS draws, so equal draws land alike.
    const ranked = address.map((r, i) => ({ i, w: weightOf(r) })).sort((a, b) => b.w - a.w);
    let v = Math.floor(this.#random() * ranked.reduce((s, x) => s + x.w, 0));
    const top = ranked.find((x) => (v -= x.w) < 0)?.i ?? 0;
    [address[0], address[top]] = [address[top], address[0]];
    const cname = records.filter((r) => r.type === RRType.CNAME);
    const mx = records.filter((r) => r.type === RRType.MX);
    const rest = records.filter((r) => !isAddress(r) && r.type !== RRType.CNAME && r.type !== RRType.MX);
    return [...cname, ...rest, ...address, ...mx];
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
