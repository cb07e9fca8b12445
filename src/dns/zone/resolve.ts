import { isIPv4, isIPv6 } from 'node:net';
import { rr } from '../wire/records.ts';
import type { ResourceRecord } from '../wire/records.ts';
import { addressFromReverseName } from './reverse-names.ts';
import type { NameRecords } from './service-records.ts';
import { Rcode, RRType } from '../wire/constants.ts';
import type { ZoneIndex } from './zone-index.ts';
import type { PodsMode } from '../corefile/config.ts';
import { selects } from '../../k8s/label-selector.ts';
import type { LabelSelector } from '../../k8s/label-selector.ts';

/** What the kubernetes zones answer for one question. */
export interface Resolution {
  rcode: number;
  zone: string;
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  /**
   * An ExternalName's target outside our zones, for an A or AAAA question:
   * the handler asks the forwarder for it and appends the answer, as
   * CoreDNS's kubernetes plugin does through its upstream.
   */
  chase?: string;
}

/** Not ours to answer: outside every zone, or NXDOMAIN in a fallthrough zone. */
export interface NotOurs {
  rcode: null;
  zone: string | null;
}

export interface ResolverOptions {
  zones: readonly string[];
  fallthrough: readonly string[];
  ttl: number;
  pods: PodsMode;
  /** `kubernetes { namespaces … }`: only these namespaces exist for the zones; absent: all. */
  namespaces?: readonly string[];
  /** `kubernetes { namespace_labels … }`: only namespaces whose Namespace object matches exist for the zones; absent: all. */
  namespaceLabels?: LabelSelector;
  /** `kubernetes { multicluster … }`: zones answered from ServiceImports (KEP-1645) instead of Services. */
  multiclusterZones?: readonly string[];
  /** The addresses this server answers from (its pod's or node's), for the apex NS; none: the NS names ns.dns with no glue. */
  localAddresses?: () => readonly string[];
}

// The kubernetes plugin's constants: the TXT record's TTL and the schema
// version (Kubernetes DNS specification §2.2), and the SOA timers.
const DNS_VERSION_TTL = 28800;
const DNS_SCHEMA_VERSION = '1.1.0';
const SOA_REFRESH = 7200;
const SOA_RETRY = 1800;
const SOA_EXPIRE = 86400;
/** ExternalName chains inside the zone are followed at most this deep. */
const MAX_CNAME_CHAIN = 8;

const isReverseZone = (zone: string) => zone.endsWith('in-addr.arpa.') || zone.endsWith('ip6.arpa.');

function within(name: string, zone: string): boolean {
  return zone === '.' || name === zone || name.endsWith(`.${zone}`);
}

/**
 * Answers a question from the zone index, following the Kubernetes DNS
 * specification and CoreDNS's kubernetes plugin: NXDOMAIN for names that do
 * not exist, NODATA (NOERROR, empty answer, SOA in authority) for names that
 * exist without records of the type asked.
 */
export class Resolver {
  readonly #index: ZoneIndex;
  readonly #opts: ResolverOptions;
  readonly #zones: string[];
  readonly #primaryZone: string;
  // Bound once: an SRV answer looks its targets up in the zone it came from.
  readonly #clusterName = (relative: string) => this.#index.name(relative);
  readonly #importName = (relative: string) => this.#index.importName(relative);

  constructor(index: ZoneIndex, opts: ResolverOptions) {
    this.#index = index;
    this.#opts = opts;
    // Longest first, so "96.10.in-addr.arpa." wins over "in-addr.arpa.".
    this.#zones = [...opts.zones].sort((a, b) => b.length - a.length);
    this.#primaryZone = opts.zones.find((z) => !isReverseZone(z) && !opts.multiclusterZones?.includes(z)) ?? 'cluster.local.';
  }

  zoneOf(qname: string): string | null {
    for (const z of this.#zones) if (within(qname, z)) return z;
    return null;
  }

  /** `qname` lowercased, absolute. */
  resolve(qname: string, qtype: number): Resolution | NotOurs {
    const zone = this.zoneOf(qname);
    if (!zone) return { rcode: null, zone: null };
    // CoreDNS answers only PTR from the reverse zones: any other type is a
    // name error there (its "fake A lookup" finds nothing), so with
    // fallthrough it goes on to the next plugin (forward).
    if (qtype !== RRType.PTR && qname !== zone && isReverseZone(zone) && this.#fallsThrough(qname)) return { rcode: null, zone };
    const res = this.#resolveIn(qname, qtype, zone, 0);
    if (res.rcode === Rcode.NXDOMAIN && this.#fallsThrough(qname)) return { rcode: null, zone };
    return res;
  }

  #fallsThrough(qname: string): boolean {
    return this.#opts.fallthrough.some((f) => within(qname, f));
  }

  soa(zone: string): ResourceRecord {
    const ttl = this.#opts.ttl;
    return rr.soa(zone, ttl, {
      mname: `ns.dns.${zone}`,
      rname: `hostmaster.${zone}`,
      serial: this.#index.serial,
      refresh: SOA_REFRESH,
      retry: SOA_RETRY,
      expire: SOA_EXPIRE,
      minimum: ttl,
    });
  }

  #resolveIn(qname: string, qtype: number, zone: string, depth: number): Resolution {
    const ttl = this.#opts.ttl;
    const ok = (answer: ResourceRecord[], additional: ResourceRecord[] = []): Resolution =>
      answer.length ? { rcode: Rcode.NOERROR, zone, answer, authority: [], additional } : this.#negative(zone, Rcode.NOERROR);
    const nxdomain = () => this.#negative(zone, Rcode.NXDOMAIN);

    if (qname === zone) {
      if (qtype === RRType.SOA) return ok([this.soa(zone)]);
      if (qtype === RRType.NS) {
        const servers = this.#nameServers(zone);
        const names = [...new Set(servers.map((n) => n.name))];
        return ok(names.map((n) => rr.ns(zone, ttl, n)), servers.flatMap((n) => n.addresses.map((ip) => rr.address(n.name, ttl, ip))));
      }
      return ok([]);
    }
    if (isReverseZone(zone)) {
      const ip = addressFromReverseName(qname);
      const targets = ip ? this.#index.ptr(ip).filter((t) => this.#exposed(t.split('.').at(-2))) : [];
      if (targets.length === 0) return nxdomain();
      return ok(qtype === RRType.PTR ? targets.map((t) => rr.ptr(qname, ttl, `${t}.${this.#primaryZone}`)) : []);
    }

    const rel = zone === '.' ? qname.slice(0, -1) : qname.slice(0, qname.length - zone.length - 1);
    if (rel === 'dns-version') return ok(qtype === RRType.TXT ? [rr.txt(qname, DNS_VERSION_TTL, DNS_SCHEMA_VERSION)] : []);
    if (rel === 'dns') return ok([]);
    if (rel === 'ns.dns') return ok(this.#nsAddresses(qname, qtype));
    const labels = rel.split('.');
    const kind = labels[labels.length - 1];
    if (kind !== 'svc' && kind !== 'pod') return nxdomain();
    if (labels.length === 1) return ok([]);
    const ns = labels[labels.length - 2];
    if (!this.#index.namespaceExists(ns) || !this.#exposed(ns)) return nxdomain();
    if (labels.length === 2) return ok([]);

    const clusterset = this.#opts.multiclusterZones?.includes(zone) === true;
    if (clusterset) {
      // The MCS DNS specification defines no pod names in a clusterset zone.
      if (kind === 'pod') return nxdomain();
      const records = this.#index.importName(rel);
      return records ? this.#fromRecords(qname, qtype, records, zone, this.#importName) : nxdomain();
    }

    if (kind === 'pod') {
      if (labels.length !== 3) return nxdomain();
      const ip = this.#podAddress(labels[0], ns);
      if (!ip) return nxdomain();
      const want = isIPv4(ip) ? RRType.A : RRType.AAAA;
      // CoreDNS's SRV for a name with an address: the name itself, port 0, weight 100, its address as additional.
      if (qtype === RRType.SRV) return ok([rr.srv(qname, ttl, { priority: 0, weight: 100, port: 0, target: qname })], [rr.address(qname, ttl, ip)]);
      return ok(qtype === want ? [rr.address(qname, ttl, ip)] : []);
    }

    const records = this.#index.name(rel);
    if (!records) return nxdomain();
    if (records.cname) return this.#cname(qname, qtype, records.cname, zone, depth);
    return this.#fromRecords(qname, qtype, records, zone, this.#clusterName);
  }

  /** `lookup` finds an SRV target's own records (for the additional section) in the same zone. */
  #fromRecords(qname: string, qtype: number, records: NameRecords, zone: string, lookup: (relative: string) => NameRecords | undefined): Resolution {
    const ttl = this.#opts.ttl;
    const answer: ResourceRecord[] = [];
    const additional: ResourceRecord[] = [];
    if (qtype === RRType.A || qtype === RRType.AAAA) {
      for (const ip of records.addresses) {
        if ((qtype === RRType.A) === isIPv4(ip)) answer.push(rr.address(qname, ttl, ip));
      }
    } else if (qtype === RRType.SRV && records.srv.length) {
      // CoreDNS weighs every target of one answer the same: 100 split n ways.
      const weight = Math.floor(100 / records.srv.length);
      const seen = new Set<string>();
      for (const s of records.srv) {
        const key = `${s.port} ${s.target}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const target = `${s.target}.${zone}`;
        answer.push(rr.srv(qname, ttl, { priority: 0, weight, port: s.port, target }));
        if (seen.has(target)) continue;
        seen.add(target);
        for (const ip of lookup(s.target)?.addresses ?? []) additional.push(rr.address(target, ttl, ip));
      }
    }
    if (answer.length === 0) return this.#negative(zone, Rcode.NOERROR);
    return { rcode: Rcode.NOERROR, zone, answer, authority: [], additional };
  }

  /**
   * ExternalName: the CNAME, then the target's records (plugin/backend_lookup.go
   * A/AAAA): a target in our zones is resolved here, one outside is chased
   * through the forwarder by the handler. When the target has no records of
   * the type asked, CoreDNS adds no CNAME either: the answer is NODATA with
   * the zone's SOA (chaseFailed below, for the chased case).
   */
  #cname(qname: string, qtype: number, target: string, zone: string, depth: number): Resolution {
    const cname = rr.cname(qname, this.#opts.ttl, target);
    const res: Resolution = { rcode: Rcode.NOERROR, zone, answer: [cname], authority: [], additional: [] };
    if (qtype === RRType.CNAME) return res;
    const targetZone = this.zoneOf(target);
    if (!targetZone) {
      if (qtype === RRType.A || qtype === RRType.AAAA) res.chase = target;
      return res;
    }
    if (isReverseZone(targetZone) || depth >= MAX_CNAME_CHAIN) return res;
    const next = this.#resolveIn(target, qtype, targetZone, depth + 1);
    if ((qtype === RRType.A || qtype === RRType.AAAA) && next.answer.length === 0 && !next.chase) return this.#negative(zone, Rcode.NOERROR);
    res.answer.push(...next.answer);
    res.additional.push(...next.additional);
    res.chase = next.chase;
    return res;
  }

  #exposed(ns: string | undefined): boolean {
    if (this.#opts.namespaces && (ns === undefined || !this.#opts.namespaces.includes(ns))) return false;
    const selector = this.#opts.namespaceLabels;
    if (!selector) return true;
    // As CoreDNS: the namespace must be known as an object whose labels match.
    const labels = ns === undefined ? undefined : this.#index.namespaceLabels(ns);
    return labels !== undefined && selects(selector, labels);
  }

  /** The answer to an ExternalName question whose chased target had no records of the type asked: NODATA. */
  chaseFailed(res: Resolution): Resolution {
    return this.#negative(res.zone, Rcode.NOERROR);
  }

  #podAddress(label: string, ns: string): string | null {
    if (this.#opts.pods === 'disabled') return null;
    // CoreDNS: three dashes and no "--" is IPv4, anything else IPv6.
    const dashes = label.split('-').length - 1;
    const ip = dashes === 3 && !label.includes('--') ? label.replaceAll('-', '.') : label.replaceAll('-', ':');
    if (!isIPv4(ip) && !isIPv6(ip)) return null;
    if (this.#opts.pods === 'verified' && !this.#index.podExists(ip, ns)) return null;
    return ip;
  }

  /** `ns.dns.<zone>`'s addresses: those of the apex NS records (the name the SOA gives as primary). */
  #nsAddresses(owner: string, qtype: number): ResourceRecord[] {
    const out: ResourceRecord[] = [];
    const seen = new Set<string>();
    for (const ip of this.#nameServers(this.zoneOf(owner) ?? this.#primaryZone).flatMap((n) => n.addresses)) {
      if (seen.has(ip)) continue;
      seen.add(ip);
      const v4 = isIPv4(ip);
      if ((qtype === RRType.A && v4) || (qtype === RRType.AAAA && !v4)) out.push(rr.address(owner, this.#opts.ttl, ip));
    }
    return out;
  }

  /**
   * The apex NS, as CoreDNS's kubernetes plugin names it: the Services
   * whose endpoint is one of this server's own addresses (in a cluster,
   * kube-dns.kube-system.svc.<zone> with its ClusterIP), else `ns.dns.<zone>`
   * with the server's own addresses. Names in the first zone that is not a
   * reverse one, where Services live.
   */
  #nameServers(zone: string): Array<{ name: string; addresses: string[] }> {
    const local = this.#opts.localAddresses?.() ?? [];
    const found: Array<{ name: string; addresses: string[] }> = [];
    for (const ip of local) {
      for (const s of this.#index.servicesServedFrom(ip)) {
        const name = `${s.name}.${this.#primaryZone}`;
        if (!found.some((f) => f.name === name && f.addresses.join() === s.addresses.join())) found.push({ name, addresses: s.addresses });
      }
    }
    if (found.length) return found;
    return [{ name: `ns.dns.${zone}`, addresses: [...local] }];
  }

  #negative(zone: string, rcode: number): Resolution {
    return { rcode, zone, answer: [], authority: [this.soa(zone)], additional: [] };
  }
}
