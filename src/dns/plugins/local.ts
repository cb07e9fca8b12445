import { Rcode, RRType } from '../wire/constants.ts';
import type { Ask, Next, Reply, Step } from './pipeline.ts';
import { replyWith, wireRecord } from './reply.ts';

// CoreDNS's `local`: localhost and the loopback reverse zones are answered
// here and never leave the node (RFC 6761 §6.3), TTL 0 as CoreDNS does.

const REVERSE_ZONES = ['127.in-addr.arpa.', '0.in-addr.arpa.', '255.in-addr.arpa.'];
const IPV6_LOOPBACK_PTR = `1.${'0.'.repeat(31)}ip6.arpa.`;
const LOCALHOST_PTRS = new Set(['1.0.0.127.in-addr.arpa.', IPV6_LOOPBACK_PTR]);

const under = (name: string, zone: string) => name === zone || name.endsWith(`.${zone}`);

export class LocalStep implements Step {
  readonly plugin = 'local';

  run(ask: Ask, next: Next): Reply {
    const { name, qtype } = ask.query;
    const owner = name;
    if (LOCALHOST_PTRS.has(name)) {
      const answer = qtype === RRType.PTR ? [wireRecord(owner, RRType.PTR, 0, [{ name: 'localhost.' }])] : [];
      return replyWith(ask, { rcode: Rcode.NOERROR, authoritative: true, answer });
    }
    // RFC 6761 §6.3: every name under localhost. is the loopback address.
    if (under(name, 'localhost.')) {
      const answer =
        qtype === RRType.A ? [wireRecord(owner, RRType.A, 0, [Buffer.from([127, 0, 0, 1])])]
        : qtype === RRType.AAAA ? [wireRecord(owner, RRType.AAAA, 0, [Buffer.from([...Array<number>(15).fill(0), 1])])]
        : [];
      return replyWith(ask, { rcode: Rcode.NOERROR, authoritative: true, answer });
    }
    if (REVERSE_ZONES.some((z) => under(name, z))) return replyWith(ask, { rcode: Rcode.NXDOMAIN, authoritative: true });
    return next(ask);
  }
}
