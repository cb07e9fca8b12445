import { parseQuery } from '../wire/query.ts';
import { RRType } from '../wire/constants.ts';
import { decodeWire, encodeWire } from './message.ts';
import type { Ask, Next, Reply, Step } from './pipeline.ts';

/**
 * CoreDNS's `bufsize SIZE`: a query whose EDNS UDP size is above SIZE goes
 * on as if it had asked for SIZE (DNS Flag Day 2020 picked 1232 to avoid
 * IP fragmentation), so its UDP answer is cut there and the client retries
 * over TCP. A query without EDNS is left alone.
 */
export class BufsizeStep implements Step {
  readonly plugin = 'bufsize';
  readonly #size: number;

  constructor(size: number) {
    this.#size = size;
  }

  run(ask: Ask, next: Next): Reply {
    if (!ask.query.edns || ask.query.edns.udpSize <= this.#size) return next(ask);
    const m = decodeWire(ask.packet);
    const opt = m?.additional.find((r) => r.type === RRType.OPT);
    if (!m || !opt) return next(ask);
    opt.class = this.#size;
    const packet = encodeWire(m);
    const parsed = parseQuery(packet);
    return parsed.kind === 'query' ? next({ ...ask, packet, query: parsed.query }) : next(ask);
  }
}
