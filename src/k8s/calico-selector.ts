// Calico's selector expressions, as BGPPeer's nodeSelector and peerSelector
// take them (so a Calico BGPPeer carries over unchanged): `all()`,
// `has(key)`, `key == 'v'`, `key != 'v'`, `key in {'a', 'b'}`,
// `key not in {'a'}`, joined with `&&`, `||`, `!` and parentheses. Values
// are quoted with ' or ". `!=` and `not in` hold for a node without the key,
// as in Calico. Anything else (Calico's `contains`, `starts with`, global())
// is refused by name rather than read as something it is not.

export type CalicoSelector =
  | { op: 'all' }
  | { op: 'has'; key: string }
  | { op: 'eq' | 'ne'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'not'; of: CalicoSelector }
  | { op: 'and' | 'or'; of: CalicoSelector[] };

const TOKEN = /\s*(\|\||&&|==|!=|[!(){},]|'[^']*'|"[^"]*"|[A-Za-z0-9_./-]+(?:\(\))?)/y;

/** The selector as errors quote it: on one line, at most 64 characters. */
const quote = (text: string): string => JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(text);
    if (!m) throw new Error(`selector ${quote(text)}: unexpected ${JSON.stringify(text.slice(at).trim().slice(0, 10))}`);
    out.push(m[1]);
    at = TOKEN.lastIndex;
  }
  return out;
}

/** Parses a Calico selector; '' is undefined (no selector). Throws an Error naming the problem. */
export function parseCalicoSelector(text: string): CalicoSelector | undefined {
  if (!text.trim()) return undefined;
  const tokens = tokenize(text);
  let i = 0;
  const shown = (t: string) => JSON.stringify(t.length > 32 ? `${t.slice(0, 32)}…` : t);
  const fail = (why: string): never => {
    throw new Error(`selector ${quote(text)}: ${why}`);
  };
  const peek = () => tokens[i];
  const take = (want?: string): string => {
    const t = tokens[i];
    if (t === undefined) fail(want ? `expected ${want} at the end` : 'unexpected end');
    if (want !== undefined && t !== want) fail(`expected ${want}, got ${shown(t)}`);
    i++;
    return t;
  };
  const quoted = (): string => {
    const t = take();
    if (!/^(['"]).*\1$/s.test(t)) fail(`expected a quoted value, got ${shown(t)}`);
    return t.slice(1, -1);
  };
  const isKey = (t: string | undefined) => t !== undefined && /^[A-Za-z0-9_./-]+$/.test(t);

  const primary = (): CalicoSelector => {
    const t = take();
    if (t === '!') return { op: 'not', of: primary() };
    if (t === '(') {
      const e = or();
      take(')');
      return e;
    }
    if (t === 'all()') return { op: 'all' };
    if (t === 'has') {
      take('(');
      const key = take();
      if (!isKey(key)) fail(`has() needs a label key, got ${shown(key)}`);
      take(')');
      return { op: 'has', key };
    }
    if (!isKey(t)) fail(`expected a label key, got ${shown(t)}`);
    const op = take();
    if (op === '==' || op === '!=') return { op: op === '==' ? 'eq' : 'ne', key: t, value: quoted() };
    let negated = false;
    if (op === 'not') {
      negated = true;
      take('in');
    } else if (op !== 'in') {
      fail(`unsupported operator ${shown(op)} after ${shown(t)} (netlet reads ==, !=, in, not in, has(), all())`);
    }
    take('{');
    const values: string[] = [];
    while (peek() !== '}') {
      values.push(quoted());
      if (peek() === ',') take(',');
      else if (peek() !== '}') fail(`expected , or } in the set of ${shown(t)}`);
    }
    take('}');
    return { op: negated ? 'notin' : 'in', key: t, values };
  };
  const and = (): CalicoSelector => {
    const of = [primary()];
    while (peek() === '&&') {
      take();
      of.push(primary());
    }
    return of.length === 1 ? of[0] : { op: 'and', of };
  };
  const or = (): CalicoSelector => {
    const of = [and()];
    while (peek() === '||') {
      take();
      of.push(and());
    }
    return of.length === 1 ? of[0] : { op: 'or', of };
  };
  const e = or();
  if (i < tokens.length) fail(`unexpected ${shown(tokens[i])}`);
  return e;
}

export function calicoSelects(s: CalicoSelector, labels: Readonly<Record<string, string>>): boolean {
  switch (s.op) {
    case 'all':
      return true;
    case 'has':
      return Object.hasOwn(labels, s.key);
    case 'eq':
      return labels[s.key] === s.value;
    case 'ne':
      return labels[s.key] !== s.value;
    case 'in':
      return Object.hasOwn(labels, s.key) && s.values.includes(labels[s.key]);
    case 'notin':
      return !Object.hasOwn(labels, s.key) || !s.values.includes(labels[s.key]);
    case 'not':
      return !calicoSelects(s.of, labels);
    case 'and':
      return s.of.every((x) => calicoSelects(x, labels));
    case 'or':
      return s.of.some((x) => calicoSelects(x, labels));
  }
}
