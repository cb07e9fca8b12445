import { ConfigError } from '../../base/errors.ts';

// The Corefile's syntax (Caddyfile style, coredns corefile(5)): server
// blocks `KEYS { directives }`, one directive per line, `#` comments,
// quoted strings, `{$ENV}` substitution, and a directive's own `{ … }`
// block of sub-directives. Hand-written: no maintained JS library parses it.

export interface Directive {
  name: string;
  args: string[];
  line: number;
  /** The directive's own block, or null when it has none. */
  block: Directive[] | null;
}

export interface ServerBlock {
  keys: string[];
  line: number;
  directives: Directive[];
}

interface Token {
  text: string;
  line: number;
  /** True when this token starts a new line. */
  first: boolean;
  quoted: boolean;
}

function tokenize(text: string, file: string): Token[] {
  const out: Token[] = [];
  const env = text.replace(/\{\$([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => process.env[name] ?? '');
  let line = 1;
  let first = true;
  let i = 0;
  while (i < env.length) {
    const c = env[i];
    if (c === '\n') {
      line++;
      first = true;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (c === '#') {
      while (i < env.length && env[i] !== '\n') i++;
    } else if (c === '"') {
      let s = '';
      const start = line;
      i++;
      while (i < env.length && env[i] !== '"') {
        if (env[i] === '\\' && i + 1 < env.length) i++;
        if (env[i] === '\n') line++;
        s += env[i++];
      }
      if (i >= env.length) throw new ConfigError('corefile', `${file} line ${start}: unterminated quoted string`);
      i++;
      out.push({ text: s, line: start, first, quoted: true });
      first = false;
    } else {
      let s = '';
      while (i < env.length && !/[\s#"]/.test(env[i])) s += env[i++];
      // A brace glued to a word ("example.org{") is its own token.
      if (s.length > 1 && s.endsWith('{')) {
        out.push({ text: s.slice(0, -1), line, first, quoted: false }, { text: '{', line, first: false, quoted: false });
      } else out.push({ text: s, line, first, quoted: false });
      first = false;
    }
  }
  return out;
}

/** Parses a Corefile's text into server blocks; syntax errors name the file and line. */
export function parseCorefileSyntax(text: string, file: string): ServerBlock[] {
  const toks = tokenize(text, file);
  let pos = 0;
  const fail = (line: number, why: string): never => {
    throw new ConfigError('corefile', `${file} line ${line}: ${why}`);
  };
  const isOpen = (t: Token | undefined) => t !== undefined && !t.quoted && t.text === '{';
  const isClose = (t: Token | undefined) => t !== undefined && !t.quoted && t.text === '}';

  const directives = (depth: number): Directive[] => {
    const list: Directive[] = [];
    for (;;) {
      const t = toks[pos];
      if (!t) return fail(toks[toks.length - 1]?.line ?? 1, "missing '}'");
      if (isClose(t)) {
        pos++;
        return list;
      }
      if (isOpen(t)) fail(t.line, "unexpected '{'");
      const d: Directive = { name: t.text, args: [], line: t.line, block: null };
      pos++;
      while (toks[pos] && !toks[pos].first && !isOpen(toks[pos]) && !isClose(toks[pos])) d.args.push(toks[pos++].text);
      if (isOpen(toks[pos]) && !toks[pos].first) {
        if (depth >= 1) fail(toks[pos].line, `'${d.name}' cannot have a block here`);
        pos++;
        d.block = directives(depth + 1);
      }
      list.push(d);
    }
  };

  const blocks: ServerBlock[] = [];
  while (pos < toks.length) {
    const start = toks[pos];
    const keys: string[] = [];
    while (toks[pos] && !isOpen(toks[pos])) {
      if (isClose(toks[pos])) fail(toks[pos].line, "unexpected '}'");
      keys.push(...toks[pos++].text.split(',').filter(Boolean));
    }
    if (!toks[pos]) fail(start.line, `server block '${keys.join(' ')}' has no '{'`);
    pos++;
    blocks.push({ keys, line: start.line, directives: directives(0) });
  }
  return blocks;
}

/** A Go duration ("500ms", "5s", "1m30s", "1.5h") in milliseconds. */
export function parseDuration(text: string, where: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * units[m[2]];
    matched += m[0].length;
  }
  if (text === '0') return 0;
  if (matched !== text.length || matched === 0) throw new ConfigError(where, `'${text}' is not a duration (like 5s, 500ms, 1m30s)`);
  return total;
}
