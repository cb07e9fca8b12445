import type { TemplateConfig } from '../corefile/front-config.ts';
import { parseTemplate } from '../corefile/template-syntax.ts';
import type { TemplateExpr } from '../corefile/template-syntax.ts';
import { Rcode, typeName } from '../wire/constants.ts';
import type { WireRecord } from './message.ts';
import type { Ask, Next, Reply, Step } from './pipeline.ts';
import { clientIp } from './pipeline.ts';
import { replyWith } from './reply.ts';
import { parseRecord } from './rr-text.ts';

const ANY = 255;
/** dns.NewRR's default when a template's record gives no TTL. */
const DEFAULT_TTL = 3600;

const under = (name: string, zone: string) => zone === '.' || name === zone || name.endsWith(`.${zone}`);

interface Compiled {
  config: TemplateConfig;
  regexes: RegExp[];
  answer: Array<Array<string | TemplateExpr>>;
  additional: Array<Array<string | TemplateExpr>>;
  authority: Array<Array<string | TemplateExpr>>;
}

interface Data {
  name: string;
  zone: string;
  qclass: number;
  qtype: number;
  match: RegExpExecArray;
  remote: string;
}

function render(parts: Array<string | TemplateExpr>, d: Data): string {
  return parts.map((p) => {
    if (typeof p === 'string') return p;
    switch (p.field) {
      case 'Name':
        return d.name;
      case 'Zone':
        return d.zone;
      case 'Class':
        return d.qclass === 1 ? 'IN' : d.qclass === 3 ? 'CH' : `CLASS${d.qclass}`;
      case 'Type':
        return typeName(d.qtype);
      case 'Remote':
        return d.remote;
      case 'Match':
        return d.match[p.index] ?? '';
      case 'Group':
        return d.match.groups?.[p.name] ?? '';
    }
  }).join('');
}

/**
 * CoreDNS's `template`: for a question of its class and type in its zones,
 * the first regular expression that matches the name makes the answer from
 * the templates (records as zone text, the rcode given, authoritative). A
 * name no expression matches is NXDOMAIN, or goes on where `fallthrough`
 * says; a question of another class, type or zone goes on.
 */
export class TemplateStep implements Step {
  readonly plugin = 'template';
  readonly wantsClient = true;
  readonly #templates: Compiled[];

  constructor(templates: TemplateConfig[]) {
    this.#templates = templates.map((config) => ({
      config,
      regexes: (config.match.length ? config.match : ['.*']).map((r) => new RegExp(goRegex(r), 'i')),
      answer: config.answer.map(parseTemplate),
      additional: config.additional.map(parseTemplate),
      authority: config.authority.map(parseTemplate),
    }));
  }

  run(ask: Ask, next: Next): Reply {
    const q = ask.query;
    for (const t of this.#templates) {
      const c = t.config;
      if ((c.qclass !== ANY && c.qclass !== q.qclass) || (c.qtype !== ANY && c.qtype !== q.qtype)) continue;
      const zone = c.zones.filter((z) => under(q.name, z)).sort((a, b) => b.length - a.length)[0];
      if (zone === undefined) continue;
      let match: RegExpExecArray | null = null;
      for (const r of t.regexes) if ((match = r.exec(q.name))) break;
      if (!match) {
        if (c.fallthrough && (c.fallthrough.length === 0 || c.fallthrough.some((z) => under(q.name, z)))) continue;
        return replyWith(ask, { rcode: Rcode.NXDOMAIN, authoritative: true });
      }
      const data: Data = { name: q.name, zone, qclass: q.qclass, qtype: q.qtype, match, remote: clientIp(ask) };
      try {
        const records = (list: Array<Array<string | TemplateExpr>>): WireRecord[] => list.map((parts) => parseRecord(render(parts, data), { origin: zone, ttl: DEFAULT_TTL }));
        return replyWith(ask, { rcode: c.rcode, authoritative: true, answer: records(t.answer), additional: records(t.additional), authority: records(t.authority), ede: c.ederror });
      } catch {
        // A record the template renders wrong for this name (CoreDNS answers SERVFAIL then too).
        return replyWith(ask, { rcode: Rcode.SERVFAIL, authoritative: false });
      }
    }
    return next(ask);
  }
}

/** Go's RE2 named groups (?P<name>…) in JavaScript's spelling (?<name>…). */
export function goRegex(re: string): string {
  return re.replace(/\(\?P</g, '(?<');
}
