import { globSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../../base/errors.ts';

// The Corefile's syntax (Caddyfile style, coredns corefile(5)): server
// blocks `KEYS { directives }`, one directive per line, `#` comments,
// quoted strings, `{$ENV}` substitution, a directive's own `{ … }` block
// of sub-directives, snippets `(name) { … }` and `import` of snippets,
// files and globs, in or out of server blocks. Hand-written: no maintained
// JS library parses it.

export interface Directive {
  name: string;
  args: string[];
  line: number;
  /** The file the directive was written in (an imported one, or the Corefile). */
  file: string;
  /** The directive's own block, or null when it has none. */
  block: Directive[] | null;
}

export interface ServerBlock {
  keys: string[];
  line: number;
  file: string;
  directives: Directive[];
}

interface Token {
  text: string;
  line: number;
  file: string;
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
        // Only a quote is escaped inside quotes (Caddyfile): other backslashes stay, so regular expressions keep theirs.
        if (env[i] === '\\' && env[i + 1] === '"') i++;
        if (env[i] === '\n') line++;
        s += env[i++];
      }
      if (i >= env.length) throw new ConfigError('corefile', `${file} line ${start}: unterminated quoted string`);
      i++;
      out.push({ text: s, line: start, file, first, quoted: true });
      first = false;
    } else {
      let s = '';
      while (i < env.length && !/[\s#"]/.test(env[i])) s += env[i++];
      // A brace glued to a word ("example.org{") is its own token.
      if (s.length > 1 && s.endsWith('{')) {
        out.push({ text: s.slice(0, -1), line, file, first, quoted: false }, { text: '{', line, file, first: false, quoted: false });
      } else out.push({ text: s, line, file, first, quoted: false });
      first = false;
    }
  }
  return out;
}

/** Imports nest at most this deep (Caddy's limit is similar): deeper is surely a cycle. */
const MAX_IMPORT_DEPTH = 10;

const isSnippetName = (t: Token) => !t.quoted && /^\(.+\)$/.test(t.text);

/**
 * Takes the snippets out and replaces each `import` line by what it names:
 * a snippet (its `{args[N]}` filled from the import's arguments), or the
 * files a path or glob matches, relative to the importing file's folder.
 * A glob matching nothing imports nothing (k3s and AKS ship such imports for
 * optional files); a plain path that does not exist is an error.
 */
function expandImports(toks: Token[], snippets: Map<string, Token[]>, depth: number): Token[] {
  const out: Token[] = [];
  let level = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (level === 0 && isSnippetName(t) && toks[i + 1]?.text === '{' && !toks[i + 1].quoted) {
      const body: Token[] = [];
      let inner = 0;
      for (i += 2; i < toks.length; i++) {
        if (!toks[i].quoted && toks[i].text === '{') inner++;
        if (!toks[i].quoted && toks[i].text === '}' && inner-- === 0) break;
        body.push(toks[i]);
      }
      if (i >= toks.length) throw new ConfigError('corefile', `${t.file} line ${t.line}: snippet ${t.text} has no closing '}'`);
      snippets.set(t.text.slice(1, -1), body);
      continue;
    }
    if (!t.quoted && t.text === '{') level++;
    if (!t.quoted && t.text === '}') level--;
    if (!(t.first && !t.quoted && t.text === 'import')) {
      out.push(t);
      continue;
    }
    const args: Token[] = [];
    while (toks[i + 1] && !toks[i + 1].first) args.push(toks[++i]);
    if (args.length === 0) throw new ConfigError('corefile', `${t.file} line ${t.line}: 'import' needs a snippet name, a file or a glob`);
    if (depth >= MAX_IMPORT_DEPTH) throw new ConfigError('corefile', `${t.file} line ${t.line}: imports nested more than ${MAX_IMPORT_DEPTH} deep (a cycle?)`);
    const [what, ...rest] = args;
    const snippet = snippets.get(what.text);
    const pasted = snippet ? fillArgs(snippet, rest, t) : importFiles(what.text, t, snippets, depth);
    out.push(...expandImports(pasted, snippets, depth + 1));
  }
  return out;
}

function fillArgs(body: Token[], args: Token[], at: Token): Token[] {
  return body.map((b, n) => ({
    ...b,
    // The first pasted token starts the import's line, so it stays a directive.
    first: n === 0 ? true : b.first,
    text: b.text.replace(/\{args\[(\d+)\]\}|\{args\.(\d+)\}/g, (_, a?: string, c?: string) => {
      const k = Number(a ?? c);
      if (k >= args.length) throw new ConfigError('corefile', `${at.file} line ${at.line}: the snippet uses argument ${k} but the import gives ${args.length}`);
      return args[k].text;
    }),
  }));
}

function importFiles(pattern: string, at: Token, snippets: Map<string, Token[]>, depth: number): Token[] {
  const path = isAbsolute(pattern) ? pattern : resolve(dirname(at.file), pattern);
  const isGlob = /[*?[]/.test(pattern);
  const files = isGlob ? globSync(path).sort() : [path];
  const out: Token[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (err) {
      throw new ConfigError('corefile', `${at.file} line ${at.line}: import ${pattern}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or snippet' : (err as Error).message}`);
    }
    const toks = tokenize(text, f);
    if (toks.length) toks[0].first = true;
    out.push(...expandImports(toks, snippets, depth + 1));
  }
  return out;
}

/** Parses a Corefile's text into server blocks; syntax errors name the file and line. */
export function parseCorefileSyntax(text: string, file: string): ServerBlock[] {
  const toks = expandImports(tokenize(text, file), new Map(), 0);
  let pos = 0;
  const fail = (line: number, why: string, at = file): never => {
    throw new ConfigError('corefile', `${at} line ${line}: ${why}`);
  };
  const isOpen = (t: Token | undefined) => t !== undefined && !t.quoted && t.text === '{';
  const isClose = (t: Token | undefined) => t !== undefined && !t.quoted && t.text === '}';

  const directives = (depth: number): Directive[] => {
    const list: Directive[] = [];
    for (;;) {
      const t = toks[pos];
      if (!t) return fail(toks[toks.length - 1]?.line ?? 1, "missing '}'", toks[toks.length - 1]?.file);
      if (isClose(t)) {
        pos++;
        return list;
      }
      if (isOpen(t)) fail(t.line, "unexpected '{'", t.file);
      const d: Directive = { name: t.text, args: [], line: t.line, file: t.file, block: null };
      pos++;
      while (toks[pos] && !toks[pos].first && !isOpen(toks[pos]) && !isClose(toks[pos])) d.args.push(toks[pos++].text);
      if (isOpen(toks[pos]) && !toks[pos].first) {
        if (depth >= 1) fail(toks[pos].line, `'${d.name}' cannot have a block here`, toks[pos].file);
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
      if (isClose(toks[pos])) fail(toks[pos].line, "unexpected '}'", toks[pos].file);
      keys.push(...toks[pos++].text.split(',').filter(Boolean));
    }
    if (!toks[pos]) fail(start.line, `server block '${keys.join(' ')}' has no '{'`, start.file);
    pos++;
    blocks.push({ keys, line: start.line, file: start.file, directives: directives(0) });
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
