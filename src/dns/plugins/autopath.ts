import { parseQuery } from '../wire/query.ts';
import { Rcode, RRType } from '../wire/constants.ts';
import { decodeWire, encodeWire } from './message.ts';
import type { Ask, Next, Reply, Step } from './pipeline.ts';
import { replyLimit } from './pipeline.ts';

/**
 * CoreDNS's `autopath`: a pod's resolver walks its search list one query at
 * a time ("web.example.com.default.svc.cluster.local.", then "…svc.cluster.local.",
 * …); when a query comes in for the first element of the client's list,
 * the server walks the rest itself and answers at once with a CNAME from
 * the name asked to the one that exists, and its records. `searchFor`
 * gives the client's list (null: no autopath for it); "" stands for the
 * bare name, tried last. A name none of them has gets the first answer.
 */
export class AutopathStep implements Step {
  readonly plugin = 'autopath';
  readonly wantsClient = true;
  readonly #zones: string[];
  readonly #searchFor: (ask: Ask) => string[] | null;

  constructor(zones: string[], searchFor: (ask: Ask) => string[] | null) {
    this.#zones = zones;
    this.#searchFor = searchFor;
  }

  run(ask: Ask, next: Next): Reply {
    const name = ask.query.name;
    if (!this.#zones.some((z) => z === '.' || name === z || name.endsWith(`.${z}`))) return next(ask);
    const search = this.#searchFor(ask);
    if (!search || search.length === 0 || !name.endsWith(`.${search[0]}`)) return next(ask);
    const base = name.slice(0, name.length - search[0].length - 1);
    return this.#walk(ask, next, base, search);
  }

  async #walk(ask: Ask, next: Next, base: string, search: string[]): Promise<Buffer | null> {
    const sent = decodeWire(ask.packet);
    if (!sent) return next(ask);
    const asked = sent.question[0];
    let first: Buffer | null = null;
    for (let i = 0; i < search.length; i++) {
      const target = search[i] === '' ? `${base}.` : `${base}.${search[i]}`;
      const packet = encodeWire({ ...sent, question: [{ ...asked, name: target }] });
      const parsed = parseQuery(packet);
      if (parsed.kind !== 'query') continue;
      const reply = await next({ ...ask, packet, query: parsed.query });
      if (i === 0) first = reply;
      // A name that does not exist there (or that no plugin there takes) is tried in the next domain.
      if (!reply) continue;
      const rcode = reply[3] & 0xf;
      if (rcode === Rcode.NXDOMAIN || rcode === Rcode.REFUSED || rcode === Rcode.SERVFAIL) continue;
      if (i === 0) return reply;
      const m = decodeWire(reply);
      if (!m) return reply;
      m.question = [asked];
      // The CNAME from the name asked, with the TTL of the first record it leads to (CoreDNS's cnamer).
      const ttl = m.answer[0]?.ttl ?? 0;
      m.answer.unshift({ name: asked.name, type: RRType.CNAME, class: 1, ttl, rdata: [{ name: target }] });
      return encodeWire(m, replyLimit(ask));
    }
    return first;
  }
}
