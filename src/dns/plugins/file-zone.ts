import { Rcode, RRType } from '../wire/constants.ts';
import type { WireRecord } from './message.ts';

// Answers from one zone's records the way an authoritative server does
// (RFC 1034 §4.3.2, as CoreDNS's file plugin): the records asked for, a
// CNAME followed inside the zone, a wildcard standing in for a missing
// name (RFC 4592), a referral below a delegation, NODATA and NXDOMAIN with
// the SOA in the authority section; positive answers carry the apex NS.

export interface ZoneAnswer {
  rcode: number;
  authoritative: boolean;
  answer: WireRecord[];
  authority: WireRecord[];
  additional: WireRecord[];
}

const MAX_CNAME = 8;
/** DS sits at the parent side of a cut (RFC 4035 §3.1.4.1). */
const DS = 43;

const under = (name: string, zone: string) => name === zone || name.endsWith(`.${zone}`);

export class FileZone {
  readonly origin: string;
  readonly #byName = new Map<string, WireRecord[]>();
  readonly #soa: WireRecord;
  readonly #apexNs: WireRecord[];
  /** Names with NS records below the apex: delegations. */
  readonly #cuts: string[];

  constructor(origin: string, records: WireRecord[]) {
    this.origin = origin;
    for (const r of records) {
      if (!under(r.name, origin)) throw new Error(`'${r.name}' is outside the zone ${origin}`);
      const list = this.#byName.get(r.name) ?? [];
      list.push(r);
      this.#byName.set(r.name, list);
    }
    const soa = this.#byName.get(origin)?.find((r) => r.type === RRType.SOA);
    if (!soa) throw new Error(`the zone ${origin} has no SOA record at its apex`);
    this.#soa = soa;
    this.#apexNs = this.#byName.get(origin)?.filter((r) => r.type === RRType.NS) ?? [];
    this.#cuts = [...this.#byName].filter(([n, rs]) => n !== origin && rs.some((r) => r.type === RRType.NS)).map(([n]) => n);
  }

  /** The SOA's negative TTL (RFC 2308 §5): the lower of its TTL and its minimum. */
  #negativeSoa(): WireRecord {
    const min = (this.#soa.rdata[2] as Buffer).readUInt32BE(16);
    return { ...this.#soa, ttl: Math.min(this.#soa.ttl, min) };
  }

  #glue(targets: string[]): WireRecord[] {
    return targets.flatMap((t) => (this.#byName.get(t) ?? []).filter((r) => r.type === RRType.A || r.type === RRType.AAAA));
  }

  /** `name` lowercase and absolute, in this zone. */
  lookup(name: string, qtype: number): ZoneAnswer {
    const answer: WireRecord[] = [];
    let current = name;
    for (let hops = 0; hops <= MAX_CNAME; hops++) {
      const cut = this.#cuts.find((c) => under(current, c) && !(current === c && qtype === DS));
      if (cut) {
        const ns = this.#byName.get(cut)!.filter((r) => r.type === RRType.NS);
        const targets = ns.map((r) => (r.rdata[0] as { name: string }).name);
        return { rcode: Rcode.NOERROR, authoritative: false, answer, authority: ns, additional: this.#glue(targets) };
      }
      let records = this.#byName.get(current);
      let owner = current;
      if (!records) {
        // RFC 4592: the closest encloser's wildcard answers for a name that does not exist, unless the name has children.
        const hasChildren = [...this.#byName.keys()].some((n) => n.endsWith(`.${current}`));
        const wildcard = hasChildren ? undefined : this.#wildcardFor(current);
        if (!wildcard) {
          if (hasChildren) return this.#negative(Rcode.NOERROR, answer);
          return this.#negative(answer.length ? Rcode.NOERROR : Rcode.NXDOMAIN, answer);
        }
        records = wildcard.map((r) => ({ ...r, name: current }));
        owner = current;
      }
      const exact = records.filter((r) => r.type === qtype || qtype === RRType.ANY);
      if (exact.length) {
        answer.push(...exact.map((r) => ({ ...r, name: owner })));
        const targets = exact.filter((r) => r.type === RRType.MX || r.type === RRType.SRV || r.type === RRType.NS).map((r) => (r.rdata[1] ?? r.rdata[0]) as { name: string }).map((p) => p.name);
        const withNs = qtype === RRType.NS && current === this.origin;
        return { rcode: Rcode.NOERROR, authoritative: true, answer, authority: withNs ? [] : this.#apexNs, additional: this.#glue([...targets, ...this.#apexNs.map((r) => (r.rdata[0] as { name: string }).name)]) };
      }
      const cname = records.find((r) => r.type === RRType.CNAME);
      if (!cname) return this.#negative(Rcode.NOERROR, answer);
      answer.push({ ...cname, name: owner });
      const target = (cname.rdata[0] as { name: string }).name;
      // A target outside the zone is the client's to chase.
      if (!under(target, this.origin)) return { rcode: Rcode.NOERROR, authoritative: true, answer, authority: [], additional: [] };
      current = target;
    }
    return { rcode: Rcode.SERVFAIL, authoritative: false, answer: [], authority: [], additional: [] };
  }

  #wildcardFor(name: string): WireRecord[] | undefined {
    for (let parent = name.slice(name.indexOf('.') + 1); under(parent, this.origin); parent = parent.slice(parent.indexOf('.') + 1)) {
      const w = this.#byName.get(`*.${parent}`);
      if (w) return w;
      if (this.#byName.has(parent) || parent === this.origin) return undefined;
    }
    return undefined;
  }

  #negative(rcode: number, answer: WireRecord[]): ZoneAnswer {
    return { rcode, authoritative: true, answer, authority: [this.#negativeSoa()], additional: [] };
  }
}
