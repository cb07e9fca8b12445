import type { AnswerRewrite, NameMatch, RewriteRule } from './front-config.ts';
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
    case undefined:
      throw new Error('rewrite needs a rule');
    default:
      throw new Error(`rewrite rules on '${field}' are not supported by netlet (name, type, class, ttl, rcode and cname are)`);
  }
}
