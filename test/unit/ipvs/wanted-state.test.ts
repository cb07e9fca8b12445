// The renders' wants, counted: a partial sync's delta is the net change,
// and an entry two renders share stays until both are gone.
import t from 'tap';
import { WantedState } from '../../../src/ipvs/wanted-state.ts';
import { renderPlan } from '../../../src/ipvs/render-plan.ts';
import { ep, plan } from '../iptables/plans.ts';

const ctx = { scheduler: 'rr', nodeIPs: ['192.168.1.10'], foreignLocal: new Set<string>() };
const local = (ip: string) => ep(ip, 8080, { isLocal: true });
const a = renderPlan(plan('default', 'a', { clusterIP: '10.96.0.1', clusterEndpoints: [local('10.244.1.2')] }), ctx);
const b = renderPlan(plan('default', 'b', { clusterIP: '10.96.0.2', clusterEndpoints: [local('10.244.1.2')] }), ctx);

t.test('a shared hairpin entry stays until its last render goes', async (t) => {
  const w = WantedState.of([a, b]);
  t.same(w.takeDelta(), { setAdds: [], setDels: [], addressAdds: [], addressDels: [] }, 'a full build leaves no delta');
  w.replace(a, undefined);
  const d = w.takeDelta();
  t.same(d.setDels.sort(), [['KUBE-CLUSTER-IP', '10.96.0.1,tcp:80'], ['KUBE-IPVS-IPS', '10.96.0.1']]);
  t.same(d.addressDels, ['10.96.0.1']);
  t.ok(w.sets().get('KUBE-LOOP-BACK')!.has('10.244.1.2,tcp:8080,10.244.1.2'), 'b still wants the hairpin entry');
  t.equal(w.desired.size, 1);
  t.equal(w.realServers, 1);
});

t.test('replaced and put back within one sync: no change', async (t) => {
  const w = WantedState.of([a]);
  const a2 = renderPlan(plan('default', 'a', { clusterIP: '10.96.0.1', clusterEndpoints: [local('10.244.1.2'), local('10.244.2.2')] }), ctx);
  w.replace(a, a2);
  const d = w.takeDelta();
  t.same(d.setAdds, [['KUBE-LOOP-BACK', '10.244.2.2,tcp:8080,10.244.2.2']], 'only the new endpoint hairpin');
  t.same(d.setDels, []);
  t.equal(w.realServers, 2);
});
