// Which plans a full sync leaves out because another keeps an address, protocol and port they claim.
import t from 'tap';
import { contestedPlans } from '../../../src/nftables/contested-addresses.ts';
import { planKey } from '../../../src/proxier/plan.ts';
import { ep, plan, planSet } from '../iptables/plans.ts';

const two = [ep('10.244.1.2', 8080)];

t.test('an external IP, an LB IP or a NodePort claimed twice: the first plan by key keeps it', async (t) => {
  const a = plan('a', 'web', { clusterIP: '10.96.0.1', externalIPs: ['192.0.2.9'], clusterEndpoints: two });
  const b = plan('b', 'web', { clusterIP: '10.96.0.2', externalIPs: ['192.0.2.9'], clusterEndpoints: two });
  t.same([...contestedPlans(planSet(b, a))], [[planKey(b), { address: '192.0.2.9 tcp 80', keptBy: planKey(a) }]]);

  const c = plan('c', 'np', { clusterIP: '10.96.0.3', nodePort: 30080, clusterEndpoints: two });
  const d = plan('d', 'np', { clusterIP: '10.96.0.4', nodePort: 30080, clusterEndpoints: two });
  t.same([...contestedPlans(planSet(c, d))], [[planKey(d), { address: 'nodePort tcp 30080', keptBy: planKey(c) }]]);
});

t.test('the same address on another port or protocol, or a NodePort equal to a service port, is no contest', async (t) => {
  const a = plan('a', 'web', { clusterIP: '10.96.0.1', externalIPs: ['192.0.2.9'], clusterEndpoints: two });
  const b = plan('b', 'web', { clusterIP: '10.96.0.2', port: 443, externalIPs: ['192.0.2.9'], clusterEndpoints: two });
  const u = plan('c', 'dns', { clusterIP: '10.96.0.3', protocol: 'udp', externalIPs: ['192.0.2.9'], clusterEndpoints: two });
  const n = plan('d', 'np', { clusterIP: '10.96.0.4', port: 30080, nodePort: 30080, clusterEndpoints: two });
  t.equal(contestedPlans(planSet(a, b, u, n)).size, 0);
});
