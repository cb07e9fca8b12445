// Follows a new connection through netlet's live nftables table, as the
// kernel would: the firewall (prerouting or output, before DNAT), the nat
// hook, the no-endpoint rejects after it, then nat postrouting with the
// DNATed destination. It interprets the JSON expressions nft prints (only
// those netlet writes: payload, meta, ct, fib, numgen, concatenations, set
// and map lookups, verdict maps, mark changes, dnat, masquerade); random
// choices (numgen) are explored one value at a time, so the answer lists
// every endpoint the packet can reach. Affinity sets are taken as empty (a
// new client).

import { parseIp } from '../../ipam/cidr.ts';
import { CidrError, containsIp, parseCidr } from '../../ipam/cidr.ts';
import type { TracePacket } from '../../proxier/backend-kind.ts';
import type { TraceOutcome } from '../../proxier/trace-outcome.ts';
import type { NftExpr, NftTable, TracedRule } from './table-json.ts';

/** Endpoint "[ip]:port" for IPv6; path "chain #n". */
export type Outcome = TraceOutcome;

interface State {
  src: string;
  dst: string;
  port: number;
  proto: string;
  mark: number;
  dnat?: { addr: string; port: number };
  masqueraded: boolean;
  path: string[];
}

type End = 'next' | 'return' | 'accept' | 'drop' | 'reject';

interface World {
  st: State;
  end: End;
}

const clone = (st: State): State => ({ ...st, path: [...st.path] });

/** The hooks a packet meets, in priority order (render-fixed.ts BASE_CHAINS). */
const FROM_OUTSIDE = ['firewall-prerouting', 'nat-prerouting', 'no-endpoints-prerouting'];
const FROM_NODE = ['firewall-output', 'nat-output', 'no-endpoints-output'];

export function traceTable(table: NftTable, pkt: TracePacket, localAddresses: readonly string[]): Outcome[] {
  const ev = new Evaluator(table, localAddresses);
  const fromNode = ev.isLocal(pkt.src);
  let worlds: State[] = [{ src: pkt.src, dst: pkt.dst, port: pkt.port, proto: pkt.proto, mark: 0, masqueraded: false, path: [] }];
  const outcomes: Outcome[] = [];
  for (const hook of fromNode ? FROM_NODE : FROM_OUTSIDE) {
    const next: State[] = [];
    for (const st of worlds) {
      for (const w of ev.runChain(hook, st, 0)) {
        if (w.end === 'drop' || w.end === 'reject') outcomes.push({ verdict: w.end, masqueraded: false, path: w.st.path });
        else next.push(afterNat(w.st));
      }
    }
    worlds = next;
  }
  for (const st of worlds) {
    for (const w of ev.runChain('nat-postrouting', st, 0)) {
      const ep = w.st.dnat;
      outcomes.push({
        verdict: ep ? 'dnat' : 'accept',
        endpoint: ep ? (ep.addr.includes(':') ? `[${ep.addr}]:${ep.port}` : `${ep.addr}:${ep.port}`) : undefined,
        masqueraded: w.st.masqueraded,
        path: w.st.path,
      });
    }
  }
  return distinct(outcomes);
}

/** After the nat hook the packet carries its DNATed destination. */
function afterNat(st: State): State {
  return st.dnat ? { ...st, dst: st.dnat.addr, port: st.dnat.port } : st;
}

function distinct(outcomes: Outcome[]): Outcome[] {
  const seen = new Map<string, Outcome>();
  for (const o of outcomes) {
    const key = `${o.verdict} ${o.endpoint ?? ''} ${o.masqueraded}`;
    if (!seen.has(key)) seen.set(key, o);
  }
  return [...seen.values()];
}

class Evaluator {
  readonly #table: NftTable;
  readonly #local: Set<bigint>;

  constructor(table: NftTable, localAddresses: readonly string[]) {
    this.#table = table;
    this.#local = new Set(localAddresses.flatMap((a) => (ipValue(a) === undefined ? [] : [ipValue(a)!])));
  }

  isLocal(addr: string): boolean {
    const v = ipValue(addr);
    if (v === undefined) return false;
    return this.#local.has(v) || addr === '::1' || addr.startsWith('127.');
  }

  runChain(name: string, st: State, depth: number): World[] {
    if (depth > 16) throw new Error(`chain loop through ${name}`);
    return this.#runRules(this.#table.chains.get(name) ?? [], 0, st, depth);
  }

  #runRules(rules: readonly TracedRule[], i: number, st: State, depth: number): World[] {
    if (i >= rules.length) return [{ st, end: 'return' }];
    const rule = rules[i];
    const out: World[] = [];
    for (const choice of choicesOf(rule.expr)) {
      for (const w of this.#runExprs(rule, 0, clone(st), choice, depth, false)) {
        if (w.end === 'next') out.push(...this.#runRules(rules, i + 1, w.st, depth));
        else out.push(w);
      }
    }
    return out;
  }

  /** `acted`: the rule's matches passed and its path entry is written. */
  #runExprs(rule: TracedRule, j: number, st: State, choice: number, depth: number, acted: boolean): World[] {
    if (j >= rule.expr.length) return [{ st, end: 'next' }];
    const e = rule.expr[j];
    const [kind, body] = Object.entries(e)[0] as [string, Record<string, unknown>];
    const rest = (s: State) => this.#runExprs(rule, j + 1, s, choice, depth, true);
    if (kind === 'match') {
      return this.#matches(body, st, choice) ? this.#runExprs(rule, j + 1, st, choice, depth, acted) : [{ st, end: 'next' }];
    }
    const act = () => {
      if (!acted) st.path.push(`${rule.chain} #${rule.index}`);
    };
    // A verdict map without the key does nothing: the rule is not on the path.
    if (kind !== 'vmap') act();
    switch (kind) {
      case 'counter':
      case 'set': // affinity updates: the sets are taken as empty
        return rest(st);
      case 'mangle':
        st.mark = Number(this.#value(body.value, st, choice));
        return rest(st);
      case 'goto':
      case 'jump':
        return this.#enter(kind, (body as { target: string }).target, st, depth, rest);
      case 'vmap': {
        const verdict = this.#lookup(String(body.data).slice(1), this.#value(body.key, st, choice));
        if (verdict === undefined) return [{ st, end: 'next' }];
        act();
        return this.#verdict(verdict, st, depth, rest);
      }
      case 'dnat': {
        const addr = this.#value(body.addr, st, choice);
        if (addr === undefined) return [{ st, end: 'next' }];
        st.dnat = Array.isArray(addr) ? { addr: String(addr[0]), port: Number(addr[1]) } : { addr: String(addr), port: body.port === undefined ? st.port : Number(body.port) };
        return [{ st, end: 'accept' }];
      }
      case 'masquerade':
        st.masqueraded = true;
        return [{ st, end: 'accept' }];
      default:
        return this.#verdict({ [kind]: body }, st, depth, rest);
    }
  }

  #enter(kind: 'goto' | 'jump', target: string, st: State, depth: number, rest: (s: State) => World[]): World[] {
    const out: World[] = [];
    for (const w of this.runChain(target, st, depth + 1)) {
      // A goto's chain ending ends this one too; a jump's returns here.
      if (w.end === 'return') out.push(...(kind === 'jump' ? rest(w.st) : [{ st: w.st, end: 'return' as End }]));
      else out.push(w);
    }
    return out;
  }

  #verdict(v: unknown, st: State, depth: number, rest: (s: State) => World[]): World[] {
    const key = typeof v === 'string' ? v : Object.keys(v as object)[0];
    const body = typeof v === 'string' ? undefined : (v as Record<string, { target: string }>)[key];
    switch (key) {
      case 'goto':
      case 'jump':
        return this.#enter(key, body!.target, st, depth, rest);
      case 'drop':
        return [{ st, end: 'drop' }];
      case 'reject':
        return [{ st, end: 'reject' }];
      case 'accept':
        return [{ st, end: 'accept' }];
      case 'return':
        return [{ st, end: 'return' }];
      default:
        throw new Error(`the tracer does not know the statement ${JSON.stringify(v)}`);
    }
  }

  #matches(m: Record<string, unknown>, st: State, choice: number): boolean {
    const left = this.#value(m.left, st, choice);
    const right = m.right;
    let hit: boolean;
    if (left === undefined) hit = false;
    else if (typeof right === 'string' && right.startsWith('@')) hit = (this.#table.sets.get(right.slice(1)) ?? []).some((k) => elementMatches(k, left));
    else if (right && typeof right === 'object' && 'set' in right) hit = ((right as { set: unknown[] }).set).some((k) => elementMatches(k, left));
    else if (Array.isArray(right)) hit = right.some((k) => elementMatches(k, left));
    else hit = elementMatches(right, left);
    return m.op === '!=' ? left !== undefined && !hit : hit;
  }

  #lookup(map: string, key: unknown): unknown {
    if (key === undefined) return undefined;
    return (this.#table.maps.get(map) ?? []).find(([k]) => elementMatches(k, key))?.[1];
  }

  #value(e: unknown, st: State, choice: number): unknown {
    if (typeof e === 'string' || typeof e === 'number') return e;
    if (!e || typeof e !== 'object') return undefined;
    const [kind, body] = Object.entries(e)[0] as [string, Record<string, unknown>];
    switch (kind) {
      case 'payload': {
        const { protocol, field } = body as { protocol: string; field: string };
        if (field === 'saddr') return st.src;
        if (field === 'daddr') return st.dst;
        if (field === 'dport') return protocol === 'th' || protocol === st.proto ? st.port : undefined;
        return undefined;
      }
      case 'meta':
        return body.key === 'l4proto' ? st.proto : body.key === 'mark' ? st.mark : undefined;
      case 'ct':
        return body.key === 'state' ? 'new' : body.key === 'status' ? (st.dnat ? 'dnat' : 'confirmed') : undefined;
      case 'fib': {
        const flags = body.flags as string[];
        return this.isLocal(flags.includes('saddr') ? st.src : st.dst) ? 'local' : 'unicast';
      }
      case 'numgen':
        return choice;
      case 'concat': {
        const parts = (body as unknown as unknown[]).map((p) => this.#value(p, st, choice));
        return parts.includes(undefined) ? undefined : parts;
      }
      case 'map': {
        // A map's data is a literal: a concatenation's parts, or one value.
        const data = this.#lookup(String(body.data).slice(1), this.#value(body.key, st, choice));
        return data && typeof data === 'object' && 'concat' in data ? (data as { concat: unknown[] }).concat : data;
      }
      case '|':
      case '&':
      case '^': {
        const [a, b] = (body as unknown as unknown[]).map((p) => Number(this.#value(p, st, choice)));
        return kind === '|' ? a | b : kind === '&' ? a & b : a ^ b;
      }
      default:
        return undefined;
    }
  }
}

/** The numgen values a rule is explored with: 0..mod-1, or one pass without numgen. */
function choicesOf(expr: readonly NftExpr[]): number[] {
  const mod = /"numgen":\{"mode":"random","mod":(\d+)/.exec(JSON.stringify(expr))?.[1];
  return mod ? Array.from({ length: Number(mod) }, (_, i) => i) : [0];
}

function ipValue(text: string): bigint | undefined {
  try {
    return parseIp(text).value;
  } catch {
    return undefined;
  }
}

/** Whether an element (or a rule's literal) matches a value: concatenations part by part, prefixes by containment, addresses by value. */
function elementMatches(k: unknown, v: unknown): boolean {
  if (k && typeof k === 'object' && 'concat' in k) {
    const parts = (k as { concat: unknown[] }).concat;
    return Array.isArray(v) && v.length === parts.length && parts.every((p, i) => elementMatches(p, v[i]));
  }
  if (k && typeof k === 'object' && 'prefix' in k) {
    const { addr, len } = (k as { prefix: { addr: string; len: number } }).prefix;
    try {
      const c = parseCidr(`${addr}/${len}`, false);
      const ip = parseIp(String(v));
      return containsIp(c, ip.family, ip.value);
    } catch (err) {
      if (err instanceof CidrError) return false;
      throw err;
    }
  }
  if (Array.isArray(v)) return false;
  const a = ipValue(String(k));
  const b = ipValue(String(v));
  if (a !== undefined && b !== undefined) return a === b && String(k).includes(':') === String(v).includes(':');
  return String(k) === String(v);
}
