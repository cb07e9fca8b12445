import { readFileSync } from 'node:fs';
import IPCIDR from 'ip-cidr';
import type { Logger } from '../../base/log.ts';
import { Rcode, RRType } from '../wire/constants.ts';
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

const isAddress = (r: WireRecord) => r.type === RRType.A || r.type === RRType.AAAA;

/** An A or AAAA record's address as text (ip-cidr reads the uncompressed IPv6 form). */
function addressText(data: Buffer): string {
  if (data.length === 4) return [...data].join('.');
  const groups: string[] = [];
  for (let i = 0; i + 1 < data.length; i += 2) groups.push(data.readUInt16BE(i).toString(16));
  return groups.join(':');
}

function within(c: IPCIDR, ip: string): boolean {
  try {
    return c.contains(ip);
  } catch {
    return false; // an address of the other family
  }
}

/**
 * CoreDNS's `loadbalance` where it is more than the handler's rotation:
 * `weighted WEIGHTFILE` and `prefer CIDR…`, on NOERROR replies.
 *
 * weighted: in a reply to an A, AAAA or SRV question, one address record of
 * the answer (and of the additional section) is drawn with the probability
 * of its weight (1 when the file gives it none) and put first among the
 * addresses; CNAMEs go before the other records, addresses after them and
 * MX last, as CoreDNS orders them. The file is read again every `reloadMs`
 * (0: never) when it changed; a changed file that does not parse is logged
 * and the old weights kept.
 *
 * prefer: then the addresses in the first CIDR go first, then those in the
 * second…, the rest after them in their order; CNAMEs first, MX and the
 * other records after the addresses.
 */
export class LoadBalanceStep implements Step {
  readonly plugin = 'loadbalance';
  readonly #path: string | null;
  readonly #log: Logger | undefined;
  readonly #random: () => number;
  readonly #prefer: IPCIDR[];
  #weights: Weights;
  #text: string | null;
  #timer: NodeJS.Timeout | null = null;

  /** Throws when the weight file does not parse, or cannot be read and is not reloaded (CoreDNS waits for a missing file it reloads). */
  constructor(opts: { weightFile: string | null; reloadMs: number; prefer: string[] }, log?: Logger, random: () => number = Math.random) {
    const { weightFile: path, reloadMs } = opts;
    this.#path = path;
    this.#log = log;
    this.#random = random;
    this.#prefer = opts.prefer.map((c) => new IPCIDR(c));
    this.#text = path === null ? null : readText(path);
    this.#weights = new Map();
    if (path === null) return;
    if (this.#text === null && reloadMs === 0) throw new Error(`cannot read the weight file ${path}`);
    if (this.#text === null) log?.warn({ plugin: 'loadbalance', file: path }, `cannot read the weight file; trying again every ${reloadMs / 1000}s`);
    else this.#weights = parseWeights(this.#text, path);
    if (reloadMs > 0) {
      this.#timer = setInterval(() => this.#reload(), reloadMs);
      this.#timer.unref();
    }
  }

  #reload(): void {
    if (this.#path === null) return;
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
    const reply = next(ask);
    return reply instanceof Promise ? reply.then((r) => this.#balance(r, ask)) : this.#balance(reply, ask);
  }

  #balance(reply: Buffer | null, ask: Ask): Buffer | null {
    if (!reply || reply.length < 12 || (reply[3] & 0xf) !== Rcode.NOERROR) return reply;
    const t = ask.query.qtype;
    const weighted = this.#path !== null && (t === RRType.A || t === RRType.AAAA || t === RRType.SRV);
    if (!weighted && this.#prefer.length === 0) return reply;
    const m = decodeWire(reply);
    if (!m) return reply;
    for (const section of ['answer', 'additional'] as const) {
      if (weighted) m[section] = this.#weighted(m[section]);
      if (this.#prefer.length) m[section] = this.#preferred(m[section]);
    }
    return encodeWire(m, replyLimit(ask));
  }

  #weighted(records: WireRecord[]): WireRecord[] {
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
    const rest = records.filter((r) => !isAddress(r) && r.type !== RRType.CNAME && r.type !== RRType.MX);
    return [...records.filter((r) => r.type === RRType.CNAME), ...rest, ...address, ...records.filter((r) => r.type === RRType.MX)];
  }

  #preferred(records: WireRecord[]): WireRecord[] {
    const address = records.filter(isAddress);
    if (address.length === 0) return records;
    const texts = address.map((r) => (Buffer.isBuffer(r.rdata[0]) ? addressText(r.rdata[0]) : ''));
    const taken = new Set<number>();
    const sorted: WireRecord[] = [];
    for (const c of this.#prefer) {
      address.forEach((r, i) => {
        if (!taken.has(i) && within(c, texts[i])) {
          taken.add(i);
          sorted.push(r);
        }
      });
    }
    address.forEach((r, i) => taken.has(i) || sorted.push(r));
    const rest = records.filter((r) => !isAddress(r) && r.type !== RRType.CNAME && r.type !== RRType.MX);
    return [...records.filter((r) => r.type === RRType.CNAME), ...sorted, ...records.filter((r) => r.type === RRType.MX), ...rest];
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
