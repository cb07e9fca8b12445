import type { Edns0Rewrite, NameMatch, RewriteRule } from '../corefile/front-config.ts';
import { FLAG_TC, RRType } from '../wire/constants.ts';
import { parseQuery } from '../wire/query.ts';
import { decodeWire, encodeWire } from './message.ts';
import type { WireMessage, WireQuestion, WireRecord } from './message.ts';
import { absolute, fillGroups, matchName } from './name-match.ts';
import type { Ask, Next, Reply, Step } from './pipeline.ts';
import { clientIp, replyLimit } from './pipeline.ts';
import { applyEdns0 } from './rewrite-edns0.ts';

/** A `cname` rule as the reply meets it. */
interface CnameRule {
  match: NameMatch;
  from: string;
  to: string;
  regex: RegExp | null;
}

/** A name rule's way back: the reply's names to change, given the original and the rewritten name. */
interface Revert {
  original: string;
  rewritten: string;
  auto: boolean;
  answers: Array<{ part: 'name' | 'value'; from: RegExp; to: string }>;
}

/**
 * CoreDNS's `rewrite` for name, type, class, ttl, rcode, cname and edns0 rules: the query is
 * changed before the plugins after it see it, and the reply is changed back
 * so the client sees its own question. Rules apply in order; a matching
 * rule ends the list unless it says `continue`. A name rule changes answer
 * names back when it is `exact` or says `answer auto` (owners equal to the
 * rewritten name), and by `answer name|value REGEX TO`.
 */
export class RewriteStep implements Step {
  readonly plugin = 'rewrite';
  /** `edns0 subnet` puts the client's address in the query. */
  readonly wantsClient: boolean;
  readonly #rules: Array<{ rule: RewriteRule; regex: RegExp | null }>;

  constructor(rules: RewriteRule[]) {
    this.wantsClient = rules.some((r) => r.field === 'edns0' && r.option === 'subnet');
    this.#rules = rules.map((rule) => ({ rule, regex: 'match' in rule && rule.match === 'regex' ? new RegExp(rule.from, 'i') : null }));
  }

  run(ask: Ask, next: Next): Reply {
    const q = ask.query;
    let name = q.name;
    let qtype = q.qtype;
    let qclass = q.qclass;
    const reverts: Revert[] = [];
    const ttls: Array<{ min: number; max: number }> = [];
    const rcodes: Array<{ from: number; to: number }> = [];
    const cnames: CnameRule[] = [];
    const edns: Edns0Rewrite[] = [];
    for (const { rule, regex } of this.#rules) {
      let matched = false;
      if (rule.field === 'name') {
        const to = matchName(rule.match, rule.from, rule.to, name, regex);
        if (to !== null) {
          const next = absolute(to.toLowerCase());
          reverts.push({ original: name, rewritten: next, auto: rule.answerAuto || rule.match === 'exact', answers: rule.answers.map((a) => ({ part: a.part, from: new RegExp(a.from, 'i'), to: a.to })) });
          name = next;
          matched = true;
        }
      } else if (rule.field === 'type') {
        if (qtype === rule.from) [qtype, matched] = [rule.to, true];
      } else if (rule.field === 'class') {
        if (qclass === rule.from) [qclass, matched] = [rule.to, true];
      } else if (rule.field === 'cname') {
        // As CoreDNS's: the rule applies to every query (its reply decides), so it counts as matched.
        cnames.push({ match: rule.match, from: rule.from, to: rule.to, regex });
        matched = true;
      } else if (rule.field === 'edns0') {
        // Not tied to a name: it applies to every query, so it counts as matched (a `stop` one ends the list).
        edns.push(rule);
        matched = true;
      } else if (matchName(rule.match, rule.from, rule.from, name, regex) !== null) {
        if (rule.field === 'ttl') ttls.push({ min: rule.min, max: rule.max });
        else rcodes.push({ from: rule.rcodeFrom, to: rule.rcodeTo });
        matched = true;
      }
      if (matched && rule.next === 'stop') break;
    }
    if (name === q.name && qtype === q.qtype && qclass === q.qclass && ttls.length === 0 && rcodes.length === 0 && cnames.length === 0 && edns.length === 0) return next(ask);

    const sent = decodeWire(ask.packet);
    if (!sent || sent.question.length !== 1) return next(ask);
    const asked: WireQuestion = sent.question[0];
    const ednsChanged = edns.length > 0 && applyEdns0(sent, edns, this.wantsClient ? clientIp(ask) || null : null);
    const same = name === q.name && qtype === q.qtype && qclass === q.qclass && !ednsChanged;
    const changed = same ? ask : this.#changed(ask, sent, { name, type: qtype, class: qclass });
    if (!changed) return next(ask);
    const back = (reply: Buffer | null) => (reply ? this.#back(reply, ask, asked, reverts, ttls, rcodes) : null);
    const targets = (reply: Buffer | null): Reply => (reply && cnames.length ? this.#cnameTarget(reply, changed, cnames, next) : reply);
    const reply = next(changed);
    const retargeted = reply instanceof Promise ? reply.then(targets) : targets(reply);
    return retargeted instanceof Promise ? retargeted.then(back) : back(retargeted);
  }

  #changed(ask: Ask, sent: WireMessage, question: WireQuestion): Ask | null {
    const packet = encodeWire({ ...sent, question: [question] });
    const parsed = parseQuery(packet);
    return parsed.kind === 'query' ? { ...ask, packet, query: parsed.query } : null;
  }

  /**
   * `rewrite cname`: the reply's first CNAME whose target a rule matches
   * gets the new target, the CNAMEs before it stay, and the records after
   * it are replaced by the answer to the new target (asked of the plugins
   * after rewrite, with the query's type). A lookup that gets no reply
   * leaves the reply as it was.
   */
  #cnameTarget(reply: Buffer, ask: Ask, rules: CnameRule[], next: Next): Reply {
    const m = decodeWire(reply);
    if (!m) return reply;
    for (let i = 0; i < m.answer.length; i++) {
      const r = m.answer[i];
      const data = r.rdata[0];
      if (r.type !== RRType.CNAME || data === undefined || Buffer.isBuffer(data)) continue;
      const target = data.name.toLowerCase();
      const to = rules.map((c) => matchName(c.match, c.from, c.to, target, c.regex)).find((n) => n !== null);
      if (to === undefined || to === null) continue;
      const newTarget = absolute(to.toLowerCase());
      const sent = decodeWire(ask.packet);
      const lookup = sent && this.#changed(ask, sent, { name: newTarget, type: ask.query.qtype, class: ask.query.qclass });
      if (!lookup) return reply;
      const kept = m.answer.slice(0, i + 1).filter((x) => x.type === RRType.CNAME);
      const join = (found: Buffer | null): Buffer => {
        const f = found && decodeWire(found);
        if (!f) return reply;
        kept[kept.length - 1] = { ...r, rdata: [{ name: newTarget }] };
        m.answer = [...kept, ...f.answer];
        if (f.flags & FLAG_TC) m.flags |= FLAG_TC;
        return encodeWire(m, replyLimit(ask));
      };
      const found = next(lookup);
      return found instanceof Promise ? found.then(join) : join(found);
    }
    return reply;
  }

  #back(reply: Buffer, ask: Ask, asked: WireQuestion, reverts: Revert[], ttls: Array<{ min: number; max: number }>, rcodes: Array<{ from: number; to: number }>): Buffer {
    const m = decodeWire(reply);
    if (!m) return reply;
    m.question = [asked];
    // RFC 6891 §7: no OPT in the reply to a query that had none (an edns0 rule may have added one upstream).
    if (!ask.query.edns) m.additional = m.additional.filter((r) => r.type !== RRType.OPT);
    const fix = (r: WireRecord) => {
      // Later rules rewrote the result of earlier ones: undo in reverse.
      for (const v of [...reverts].reverse()) {
        if (v.auto && r.name.toLowerCase() === v.rewritten) r.name = v.original;
        for (const a of v.answers) {
          if (a.part === 'name') {
            const hit = a.from.exec(r.name);
            if (hit) r.name = absolute(fillGroups(a.to, hit));
          } else {
            r.rdata = r.rdata.map((p) => {
              if (Buffer.isBuffer(p)) return p;
              const hit = a.from.exec(p.name);
              return hit ? { name: absolute(fillGroups(a.to, hit)) } : p;
            });
          }
        }
      }
    };
    for (const r of [...m.answer, ...m.authority, ...m.additional]) fix(r);
    for (const t of ttls) for (const r of m.answer) r.ttl = Math.min(Math.max(r.ttl, t.min), t.max);
    // Each matching rcode rule sees the rcode the ones before it left (header rcodes only: the reader refuses 16 and up).
    for (const c of rcodes) if ((m.flags & 0xf) === c.from) m.flags = (m.flags & ~0xf) | c.to;
    return encodeWire(m, replyLimit(ask));
  }
}
