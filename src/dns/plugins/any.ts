import { Rcode, RRType } from '../wire/constants.ts';
import type { Ask, Next, Reply, Step } from './pipeline.ts';
import { replyWith, txtData, wireRecord } from './reply.ts';

const HINFO = 13;

/** CoreDNS's `any`: an ANY query gets one HINFO record instead of everything (RFC 8482 §4.2). */
export class AnyStep implements Step {
  readonly plugin = 'any';

  run(ask: Ask, next: Next): Reply {
    if (ask.query.qtype !== RRType.ANY) return next(ask);
    // HINFO's two fields are character-strings, as TXT's are.
    return replyWith(ask, { rcode: Rcode.NOERROR, authoritative: true, answer: [wireRecord(ask.query.name, HINFO, 8482, [txtData('ANY obsoleted', 'See RFC 8482')])] });
  }
}
