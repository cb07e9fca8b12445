// The merge rule (src/routes/merge-claims.ts), one row per case: lower
// priority wins a destination, a tie goes to the name that sorts first, a
// source's own duplicate loses to its first claim, overlapping prefixes are
// not a conflict, and every loser is reported with its source.
import t from 'tap';
import { mergeClaims } from '../../../src/routes/merge-claims.ts';
import type { SourcedClaims } from '../../../src/routes/merge-claims.ts';
import type { RouteClaim } from '../../../src/routes/route-source.ts';

const claim = (dst: string, node: string): RouteClaim => ({ dst, family: dst.includes(':') ? 6 : 4, node, peer: { name: node, addresses: {} } });
const src = (name: string, priority: number, ...claims: RouteClaim[]): SourcedClaims => ({ source: { name, priority }, claims, skipped: [] });

const rows: Array<{ name: string; inputs: SourcedClaims[]; won: string[]; skipped?: string[] }> = [
  {
    name: 'disjoint sources: every claim is kept, best source first',
    inputs: [src('learned', 20, claim('10.9.0.0/24', 'x')), src('store', 10, claim('10.244.0.64/26', 'b'))],
    won: ['store 10.244.0.64/26 b', 'learned 10.9.0.0/24 x'],
  },
  {
    name: 'one destination from two sources: the lower priority wins, whatever the order given',
    inputs: [src('learned', 20, claim('10.244.0.64/26', 'x')), src('store', 10, claim('10.244.0.64/26', 'b'))],
    won: ['store 10.244.0.64/26 b'],
    skipped: ['learned 10.244.0.64/26 x: also claimed by source store, which ranks first (for node b)'],
  },
  {
    name: 'equal priorities: the source whose name sorts first wins',
    inputs: [src('zebra', 20, claim('10.9.0.0/24', 'z')), src('alpha', 20, claim('10.9.0.0/24', 'a'))],
    won: ['alpha 10.9.0.0/24 a'],
    skipped: ['zebra 10.9.0.0/24 z: also claimed by source alpha, which ranks first (for node a)'],
  },
  {
    name: 'a source claiming one destination twice: its first claim wins',
    inputs: [src('learned', 20, claim('10.9.0.0/24', 'x'), claim('10.9.0.0/24', 'y'))],
    won: ['learned 10.9.0.0/24 x'],
    skipped: ['learned 10.9.0.0/24 y: also claimed by an earlier claim of the same source (for node x)'],
  },
  {
    name: 'overlapping but different prefixes are not a conflict (longest match decides in the kernel)',
    inputs: [src('store', 10, claim('10.9.0.0/26', 'b')), src('learned', 20, claim('10.9.0.0/24', 'x'))],
    won: ['store 10.9.0.0/26 b', 'learned 10.9.0.0/24 x'],
  },
  {
    name: "a source's own skips are kept and named by it",
    inputs: [{ source: { name: 'store', priority: 10 }, claims: [], skipped: [{ dst: '10.1.0.0/26', node: 'gone', reason: 'node gone is not known' }] }],
    won: [],
    skipped: ['store 10.1.0.0/26 gone: node gone is not known'],
  },
];

for (const r of rows) {
  t.test(r.name, async (t) => {
    const m = mergeClaims(r.inputs);
    t.same(m.claims.map((c) => `${c.source} ${c.dst} ${c.node}`), r.won, 'winners');
    t.same(m.skipped.map((s) => `${s.source} ${s.dst} ${s.node}: ${s.reason}`), r.skipped ?? [], 'skipped');
  });
}

t.test('two sources with one name are refused', async (t) => {
  t.throws(() => mergeClaims([src('store', 10), src('store', 20)]), { code: 'ERR_ROUTE_SOURCE_NAME' });
});
