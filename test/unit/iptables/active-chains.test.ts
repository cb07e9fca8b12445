import t from 'tap';
import { ActiveChains } from '../../../src/iptables/active-chains.ts';
import type { RenderedPlan } from '../../../src/iptables/render-sync.ts';

const render = (...chains: string[]): RenderedPlan => ({
  top: { natServices: [], natNodePorts: [], filterServices: [], filterExternal: [], filterNodePorts: [], filterFirewall: [] },
  chains,
  chainRuleCount: chains.length,
  plan: {} as RenderedPlan['plan'],
});

t.test('built from the first render, then kept up to date by what changed', async (t) => {
  const active = new ActiveChains();
  t.notOk(active.has('KUBE-SVC-A'), 'nothing known before the first update');
  const a = render('KUBE-SVC-A', 'KUBE-SEP-A1', 'KUBE-SEP-A2');
  const b = render('KUBE-SVC-B', 'KUBE-SEP-B1');
  const first = new Map([['a', a], ['b', b]]);
  t.same(active.update(new Map(), first), [], 'a first sync retires nothing');
  t.ok(active.has('KUBE-SEP-A2') && active.has('KUBE-SVC-B'));

  // a changes an endpoint, b is removed, c is new; a's unchanged render object would be kept.
  const a2 = render('KUBE-SVC-A', 'KUBE-SEP-A1', 'KUBE-SEP-A3');
  const c = render('KUBE-SVC-C');
  const second = new Map([['a', a2], ['c', c]]);
  t.same(active.update(first, second).sort(), ['KUBE-SEP-A2', 'KUBE-SEP-B1', 'KUBE-SVC-B'], 'the chains no render uses any more');
  for (const name of ['KUBE-SVC-A', 'KUBE-SEP-A1', 'KUBE-SEP-A3', 'KUBE-SVC-C']) t.ok(active.has(name), `${name} in use`);
  for (const name of ['KUBE-SEP-A2', 'KUBE-SVC-B', 'KUBE-SEP-B1']) t.notOk(active.has(name), `${name} not`);

  // A partial sync names the keys that may differ; others are not looked at.
  const c2 = render('KUBE-SVC-C', 'KUBE-SEP-C1');
  t.same(active.update(new Map([['c', c]]), new Map([['a', a2], ['c', c2]]), ['c']), [], 'adding a chain retires none');
  t.ok(active.has('KUBE-SEP-C1'));
  t.same(active.update(new Map([['c', c2]]), new Map([['a', a2]]), ['c']).sort(), ['KUBE-SEP-C1', 'KUBE-SVC-C'], 'a removed plan retires its chains');
});

t.test('after forget() the next update rebuilds from its render', async (t) => {
  const active = new ActiveChains();
  const a = render('KUBE-SVC-A', 'KUBE-SEP-A1');
  active.update(new Map(), new Map([['a', a]]));
  active.forget();
  t.notOk(active.has('KUBE-SVC-A'), 'nothing known after a failed sync');
  const a2 = render('KUBE-SVC-A', 'KUBE-SEP-A2');
  t.same(active.update(new Map([['a', a]]), new Map([['a', a2]])), ['KUBE-SEP-A1'], 'what the earlier render used and this one does not');
  t.ok(active.has('KUBE-SEP-A2') && active.has('KUBE-SVC-A'));
});
