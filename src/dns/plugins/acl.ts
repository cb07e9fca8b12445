import IPCIDR from 'ip-cidr';
import type { AclRule } from '../corefile/front-config.ts';
import { Rcode } from '../wire/constants.ts';
import type { Ask, Next, Reply, Step } from './pipeline.ts';
import { clientIp } from './pipeline.ts';
import { replyWith } from './reply.ts';

const under = (name: string, zone: string) => zone === '.' || name === zone || name.endsWith(`.${zone}`);

/**
 * CoreDNS's `acl`: for names in its zones, the first rule whose query types
 * and client networks match decides: allow (on to the next plugin), block
 * (REFUSED), filter (NOERROR with nothing) or drop (no reply at all). A
 * query no rule matches is allowed.
 */
export class AclStep implements Step {
  readonly plugin = 'acl';
  readonly wantsClient = true;
  readonly #zones: string[];
  readonly #rules: Array<AclRule & { cidrs: IPCIDR[] }>;

  constructor(zones: string[], rules: AclRule[]) {
    this.#zones = zones;
    this.#rules = rules.map((r) => ({ ...r, cidrs: r.nets.map((n) => new IPCIDR(n)) }));
  }

  run(ask: Ask, next: Next): Reply {
    if (!this.#zones.some((z) => under(ask.query.name, z))) return next(ask);
    const ip = clientIp(ask);
    for (const r of this.#rules) {
      if (r.types.length && !r.types.includes(ask.query.qtype)) continue;
      if (r.cidrs.length && !r.cidrs.some((c) => safeContains(c, ip))) continue;
      if (r.action === 'allow') return next(ask);
      if (r.action === 'drop') return null;
      return replyWith(ask, { rcode: r.action === 'block' ? Rcode.REFUSED : Rcode.NOERROR, authoritative: false });
    }
    return next(ask);
  }
}

function safeContains(c: IPCIDR, ip: string): boolean {
  try {
    return c.contains(ip);
  } catch {
    return false; // an address of the other family
  }
}
