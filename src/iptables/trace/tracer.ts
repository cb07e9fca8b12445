// Follows a new connection through parsed iptables tables, the way the kernel
// would: nat PREROUTING (or OUTPUT when the node itself sends), then filter
// INPUT/FORWARD/OUTPUT with the DNATed destination, then nat POSTROUTING.
// Random load balancing (-m statistic) and affinity checks (-m recent) are
// "may match": every branch is explored, so the answer lists every endpoint
// the packet can reach.

import { inCidr, isLocalAddress } from './address.ts';
import type { Chain, Cond, Rule, Table, Tables, Tri } from './parse.ts';
import type { TracePacket } from '../../proxier/backend-kind.ts';
import type { TraceOutcome, TraceVerdict } from '../../proxier/trace-outcome.ts';

export type Packet = TracePacket;

export interface TraceOptions {
  /** This node's addresses (addrtype LOCAL); loopback is always local. */
  localAddresses: readonly string[];
}

/** Endpoint "ip:port" (IPv6 unbracketed); path "table/chain: rule". */
export interface Outcome extends TraceOutcome {
  /** Matches the tracer could not evaluate and assumed true on this path. */
  assumptions: string[];
}

interface State {
  src: string;
  dst: string;
  port: number;
  proto: string;
  mark: number;
  fromLocal: boolean;
  dnat?: string;
  path: string[];
  assumptions: string[];
}

type Step = { end: 'fall'; state: State } | { end: 'verdict'; verdict: string; state: State };

const MAX_DEPTH = 50;

function evalCond(c: Cond, s: State, local: readonly string[]): { tri: Tri; assume?: string } {
  const neg = (b: boolean, negated: boolean): Tri => (b !== negated ? 'yes' : 'no');
  switch (c.kind) {
    case 'src': return { tri: neg(inCidr(s.src, c.cidr), c.negated) };
    case 'dst': return { tri: neg(inCidr(s.dst, c.cidr), c.negated) };
    case 'proto': return { tri: neg(c.proto === s.proto || c.proto === 'all', c.negated) };
    case 'dport': return { tri: neg(c.ports.some(([a, b]) => s.port >= a && s.port <= b), c.negated) };
    case 'addrtype': {
      if (c.type !== 'LOCAL') return { tri: 'maybe', assume: `addrtype ${c.which} ${c.type}` };
      return { tri: neg(isLocalAddress(c.which === 'src' ? s.src : s.dst, local), c.negated) };
    }
    case 'mark': return { tri: neg((s.mark & c.mask) === (c.value & c.mask), c.negated) };
    // The traced packet opens a connection: its state is NEW, never INVALID or ESTABLISHED.
    case 'ctstate': return { tri: neg(c.states.includes('NEW'), c.negated) };
    case 'random': return { tri: 'maybe' };
    case 'recent-check': return { tri: 'maybe' };
    case 'unknown': return { tri: 'maybe', assume: c.text };
  }
}

function evalRule(r: Rule, s: State, local: readonly string[]): { tri: Tri; assumes: string[] } {
  let tri: Tri = 'yes';
  const assumes: string[] = [];
  for (const c of r.conds) {
    const e = evalCond(c, s, local);
    if (e.tri === 'no') return { tri: 'no', assumes: [] };
    if (e.tri === 'maybe') {
      tri = 'maybe';
      if (e.assume) assumes.push(e.assume);
    }
  }
  return { tri, assumes };
}

class Walker {
  readonly #table: Table;
  readonly #name: string;
  readonly #local: readonly string[];

  constructor(tables: Tables, name: string, local: readonly string[]) {
    this.#table = tables.get(name) ?? new Map();
    this.#name = name;
    this.#local = local;
  }

  /** Walks a built-in chain; falling off its end applies the policy. */
  builtin(chain: string, s: State): Step[] {
    const c = this.#table.get(chain);
    if (!c) return [{ end: 'verdict', verdict: 'ACCEPT', state: s }];
    return this.#from(c, 0, s, 0).map((st) => (st.end === 'fall' ? { end: 'verdict', verdict: c.policy === '-' ? 'ACCEPT' : c.policy, state: st.state } : st));
  }

  #from(chain: Chain, start: number, s: State, depth: number): Step[] {
    if (depth > MAX_DEPTH) throw new Error(`chain nesting deeper than ${MAX_DEPTH} at ${this.#name}/${chain.name}: a loop?`);
    for (let i = start; i < chain.rules.length; i++) {
      const r = chain.rules[i];
      const { tri, assumes } = evalRule(r, s, this.#local);
      if (tri === 'no') continue;
      const taken = this.#apply(chain, i, r, { ...s, path: [...s.path, `${this.#name}/${r.text.slice(3)}`], assumptions: [...s.assumptions, ...assumes] }, depth);
      // A rule that may or may not match: both futures are possible.
      return tri === 'maybe' ? [...taken, ...this.#from(chain, i + 1, s, depth)] : taken;
    }
    return [{ end: 'fall', state: s }];
  }

  #apply(chain: Chain, i: number, r: Rule, s: State, depth: number): Step[] {
    const next = (st: State) => this.#from(chain, i + 1, st, depth);
    const t = r.target;
    switch (t.kind) {
      case 'none': return next(s);
      case 'RETURN': return [{ end: 'fall', state: s }];
      case 'ACCEPT': case 'DROP': case 'REJECT': return [{ end: 'verdict', verdict: t.kind, state: s }];
      case 'MASQUERADE': return [{ end: 'verdict', verdict: 'MASQUERADE', state: s }];
      case 'DNAT': {
        const { ip, port } = splitHostPort(t.to, s.port);
        return [{ end: 'verdict', verdict: 'DNAT', state: { ...s, dst: ip, port, dnat: `${ip.includes(':') ? `[${ip}]` : ip}:${port}` } }];
      }
      case 'MARK': return next({ ...s, mark: ((s.mark & ~t.mask) ^ t.value) >>> 0 });
      case 'other': return next({ ...s, assumptions: [...s.assumptions, `target ${t.name} ignored`] });
      case 'jump': case 'goto': {
        const sub = this.#table.get(t.chain);
        // Not a chain of this table: an extension target we do not model (LOG, SNAT, …).
        if (!sub) return next({ ...s, assumptions: [...s.assumptions, `target ${t.chain} ignored`] });
        const steps = this.#from(sub, 0, s, depth + 1);
        if (t.kind === 'goto') return steps;
        return steps.flatMap((st) => (st.end === 'fall' ? next(st.state) : [st]));
      }
    }
  }
}

function splitHostPort(to: string, port: number): { ip: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(to);
  if (v6) return { ip: v6[1], port: v6[2] ? Number(v6[2]) : port };
  const [ip, p] = to.split(':');
  return { ip, port: p ? Number(p) : port };
}

export function trace(tables: Tables, pkt: Packet, opts: TraceOptions): Outcome[] {
  const local = opts.localAddresses;
  const nat = new Walker(tables, 'nat', local);
  const filter = new Walker(tables, 'filter', local);
  const fromLocal = isLocalAddress(pkt.src, local);
  const start: State = { ...pkt, mark: 0, fromLocal, path: [], assumptions: [] };
  const outcomes: Outcome[] = [];

  for (const n of nat.builtin(fromLocal ? 'OUTPUT' : 'PREROUTING', start)) {
    if (n.end !== 'verdict') continue;
    if (n.verdict === 'DROP') {
      outcomes.push(outcome('drop', n.state, false));
      continue;
    }
    const s = n.state;
    const toLocal = isLocalAddress(s.dst, local);
    const filterChain = fromLocal ? 'OUTPUT' : toLocal ? 'INPUT' : 'FORWARD';
    for (const f of filter.builtin(filterChain, s)) {
      if (f.end !== 'verdict') continue;
      if (f.verdict === 'DROP' || f.verdict === 'REJECT') {
        outcomes.push(outcome(f.verdict === 'DROP' ? 'drop' : 'reject', f.state, false));
        continue;
      }
      if (toLocal && !fromLocal) {
        // Delivered to the node itself: POSTROUTING is not on the way.
        outcomes.push(outcome(f.state.dnat ? 'dnat' : 'accept', f.state, false));
        continue;
      }
      for (const p of nat.builtin('POSTROUTING', f.state)) {
        if (p.end !== 'verdict') continue;
        outcomes.push(outcome(p.state.dnat ? 'dnat' : p.verdict === 'DROP' ? 'drop' : 'accept', p.state, p.verdict === 'MASQUERADE'));
      }
    }
  }
  return dedupe(outcomes);
}

function outcome(verdict: TraceVerdict, s: State, masqueraded: boolean): Outcome {
  return { verdict, endpoint: verdict === 'dnat' ? s.dnat : undefined, masqueraded, path: s.path, assumptions: [...new Set(s.assumptions)] };
}

/** Affinity and random branches reach the same endpoint more than once: keep the first path to each result. */
function dedupe(list: Outcome[]): Outcome[] {
  const seen = new Map<string, Outcome>();
  for (const o of list) {
    const key = `${o.verdict}|${o.endpoint ?? ''}|${o.masqueraded}`;
    if (!seen.has(key)) seen.set(key, o);
  }
  return [...seen.values()];
}
