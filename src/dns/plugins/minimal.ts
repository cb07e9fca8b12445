import { Rcode, RRType } from '../wire/constants.ts';
import { decodeWire, encodeWire } from './message.ts';
import type { Ask, Next, Reply, Step } from './pipeline.ts';
import { replyLimit } from './pipeline.ts';

/**
 * CoreDNS's `minimal`: a positive answer leaves without its authority and
 * additional records (the OPT stays); NXDOMAIN, NODATA and delegations keep
 * them, since resolvers need the SOA or the NS there.
 */
export class MinimalStep implements Step {
  readonly plugin = 'minimal';

  run(ask: Ask, next: Next): Reply {
    const trim = (reply: Buffer | null) => {
      if (!reply || (reply[3] & 0xf) !== Rcode.NOERROR || reply.readUInt16BE(6) === 0) return reply;
      if (reply.readUInt16BE(8) === 0 && reply.readUInt16BE(10) <= (ask.query.edns ? 1 : 0)) return reply;
      const m = decodeWire(reply);
      if (!m) return reply;
      m.authority = [];
      m.additional = m.additional.filter((r) => r.type === RRType.OPT);
      return encodeWire(m, replyLimit(ask));
    };
    const reply = next(ask);
    return reply instanceof Promise ? reply.then(trim) : trim(reply);
  }
}
