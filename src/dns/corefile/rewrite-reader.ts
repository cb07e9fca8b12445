import type { AnswerRewrite, Edns0Rewrite, NameMatch, RewriteRule } from './front-config.ts';
import { classNumber, rcodeNumber, typeNumber } from './mnemonics.ts';
import type { Directive } from './syntax.ts';

// `rewrite [continue|stop] FIELD …` (CoreDNS plugin/rewrite README), one
// rule per directive, or the block form with `name` and `answer` lines.
// Throws a message naming what is wrong; the caller adds file and line.

const MATCHES = new Set<NameMatch>(['exact', 'prefix', 'suffix', 'substring', 'regex']);

const abs = (n: string) => (n.endsWith('.') ? n.toLowerCase() : `${n.toLowerCase()}.`);

function regexOk(text: string): string {
  try {
    new RegExp(text);
  } catch (err) {
    throw new Error(`'${text}' is not a regular expression: ${(err as Error).message}`);
  }
  return text;
}

function answers(words: string[]): { answers: AnswerRewrite[]; auto: boolean } {
  const out: AnswerRewrite[] = [];
  let auto = false;
  for (let i = 0; i < words.length; ) {
    if (words[i] !== 'answer') throw new Error(`expected 'answer', got '${words[i]}'`);
    if (words[i + 1] === 'auto') {
      auto = true;
      i += 2;
      continue;
    }
    const part = words[i + 1];
    if (part !== 'name' && part !== 'value') throw new Error(`'answer ${part ?? ''}': only 'answer auto', 'answer name FROM TO' and 'answer value FROM TO' exist`);
    if (words[i + 3] === undefined) throw new Error(`'answer ${part}' needs FROM and TO`);
    out.push({ part, from: regexOk(words[i + 2]), to: words[i + 3] });
    i += 4;
  }
  return { answers: out, auto };
}

function nameRule(next: 'stop' | 'continue', words: string[], extra: string[]): RewriteRule {
  let match: NameMatch = 'exact';
  if (MATCHES.has(words[0] as NameMatch)) match = words.shift() as NameMatch;
  const [from, to, ...rest] = words;
  if (to === undefined) throw new Error("'name' needs FROM and TO");
  const back = answers([...rest, ...extra]);
  if (match === 'regex') return { next, field: 'name', match, from: regexOk(from), to, answers: back.answers, answerAuto: back.auto };
  // Exact and suffix rules name whole labels up to the root: make them absolute as CoreDNS does.
  const whole = match === 'exact' || (match === 'suffix' && from.endsWith('.'));
  return { next, field: 'name', match, from: whole ? abs(from) : from.toLowerCase(), to: whole ? abs(to) : to.toLowerCase(), answers: back.answers, answerAuto: back.auto };
}

/** `[MATCH] NAME` taken off the front of `words` (ttl, rcode and cname rules), exact by default. */
function nameMatch(words: string[]): { match: NameMatch; from: string } {
  let match: NameMatch = 'exact';
  if (MATCHES.has(words[0] as NameMatch)) match = words.shift() as NameMatch;
  const name = words.shift();
  if (name === undefined) throw new Error('the rule needs a NAME');
  return { match, from: match === 'regex' ? regexOk(name) : match === 'exact' ? abs(name) : name.toLowerCase() };
}

function ttlRange(text: string): { min: number; max: number } {
  const m = /^(\d*)(?:-(\d*))?$/.exec(text);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) throw new Error(`'${text}' is not a TTL, MIN-MAX, MIN- or -MAX`);
  if (m[2] === undefined) return { min: Number(m[1]), max: Number(m[1]) };
  const min = m[1] === '' ? 0 : Number(m[1]);
  const max = m[2] === '' ? 2 ** 31 - 1 : Number(m[2]);
  if (min > max) throw new Error(`TTL range ${text}: the minimum is above the maximum`);
  return { min, max };
}

const EDNS0_ACTIONS = new Set(['set', 'replace', 'append']);

function edns0Code(text: string): number {
  const n = /^0x[0-9a-f]{1,4}$/i.test(text) ? parseInt(text.slice(2), 16) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 0xffff)) throw new Error(`'${text}' is not an EDNS0 option code (0x0000-0xffff)`);
  return n;
}

function bits(text: string | undefined, max: number, family: string): number {
  const n = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || n > max) throw new Error(`'edns0 subnet' needs the ${family} prefix length (0-${max}), got '${text ?? ''}'`);
  return n;
}

/** `edns0 local|nsid|subnet set|replace|append …` (the words after `edns0`). */
function edns0Rule(words: string[]): Edns0Rewrite {
  const [option, action, ...rest] = words;
  if (!EDNS0_ACTIONS.has(action)) throw new Error(`'edns0 ${option ?? ''}' needs set, replace or append, got '${action ?? ''}'`);
  const act = action as Edns0Rewrite['action'];
  const none = { v4Bits: 0, v6Bits: 0, data: '' };
  switch (option) {
    case 'local': {
      if (rest.length !== 2) throw new Error("'edns0 local' needs CODE and DATA");
      const data = rest[1];
      // CoreDNS's variables ({qname}, {client_ip}, …) and metadata labels are refused by name rather than sent as text.
      if (/^\{.*\}$/.test(data)) throw new Error(`'edns0 local' with the variable '${data}' is not supported by netlet (fixed DATA is)`);
      const hex = /^0x/i.test(data) ? data.slice(2) : Buffer.from(data).toString('hex');
      if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new Error(`'${data}' is not hex DATA`);
      return { ...none, option, action: act, code: edns0Code(rest[0]), data: hex.toLowerCase() };
    }
    case 'nsid':
      if (rest.length !== 0) throw new Error("'edns0 nsid' takes no more arguments");
      return { ...none, option, action: act, code: 3 };
    case 'subnet':
      if (rest.length !== 2) throw new Error("'edns0 subnet' needs IPV4_BITMASK and IPV6_BITMASK");
      return { option, action: act, code: 8, data: '', v4Bits: bits(rest[0], 32, 'IPv4'), v6Bits: bits(rest[1], 128, 'IPv6') };
    default:
      throw new Error(`'edns0 ${option ?? ''}': netlet rewrites the local, nsid and subnet options`);
  }
}

export function readRewrite(d: Directive): RewriteRule[] {
  const words = [...d.args];
  let next: 'stop' | 'continue' = 'stop';
  if (words[0] === 'stop' || words[0] === 'continue') next = words.shift() as 'stop' | 'continue';
  if (words.length === 0 && d.block) {
    // Block form: one `name …` line and its `answer …` lines.
    const nameLine = d.block.find((s) => s.name === 'name');
    // Without a name line (`rewrite continue { rcode regex … }`), each line is a rule of its own.
    if (!nameLine) return d.block.flatMap((s) => readRewrite({ ...s, args: [next, s.name, ...s.args], block: null }));
    const extra = d.block.filter((s) => s !== nameLine).flatMap((s) => {
      if (s.name !== 'answer') throw new Error(`unknown line '${s.name}' in the rewrite block`);
      return ['answer', ...s.args];
    });
    return [nameRule(next, [...nameLine.args], extra)];
  }
  if (d.block?.length) throw new Error('a rewrite rule with arguments takes no block');
  const field = words.shift();
  switch (field) {
    case 'name':
      return [nameRule(next, words, [])];
    case 'type':
    case 'class': {
      if (words.length !== 2) throw new Error(`'${field}' needs FROM and TO`);
      const read = field === 'type' ? typeNumber : classNumber;
      const [from, to] = words.map((w) => {
        const n = read(w);
        if (n === null) throw new Error(`'${w}' is not a record ${field}`);
        return n;
      });
      return [{ next, field, from, to }];
    }
    case 'ttl': {
      const { match, from } = nameMatch(words);
      if (words.length !== 1) throw new Error("'ttl' needs a NAME and a TTL");
      return [{ next, field: 'ttl', match, from, ...ttlRange(words[0]) }];
    }
    case 'rcode': {
      const { match, from } = nameMatch(words);
      if (words.length !== 2) throw new Error("'rcode' needs a NAME, FROM and TO");
      return [{ next, field: 'rcode', match, from, rcodeFrom: rcodeNumber(words[0]), rcodeTo: rcodeNumber(words[1]) }];
    }
    case 'cname': {
      const { match, from } = nameMatch(words);
      if (words.length !== 1) throw new Error("'cname' needs FROM and TO");
      const to = match === 'exact' ? abs(words[0]) : words[0].toLowerCase();
      return [{ next, field: 'cname', match, from, to }];
    }
    case 'edns0':
      return [{ next, field: 'edns0', ...edns0Rule(words) }];
    case undefined:
      throw new Error('rewrite needs a rule');
    default:
      throw new Error(`rewrite rules on '${field}' are not supported by netlet (name, type, class, ttl, rcode, cname and edns0 are)`);
  }
}
