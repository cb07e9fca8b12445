// `netlet cleanup` on a node where the BGP speaker ran: the routes it learned
// (proto bgp) go with the node routes (proto 88); a foreign route (BIRD's
// proto bird, a static one) stays.
import t from 'tap';
import { Lab, rootSkip } from '../../helpers/netns.ts';
import { NETLET } from './bgp-lab.ts';

t.test('netlet cleanup removes proto bgp and proto 88 routes, nothing else', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('bcl');
  t.teardown(() => lab.cleanup());
  const ns = await lab.netns('node');
  const peer = await lab.netns('peer');
  await lab.link(ns, peer, '192.168.90.1/24', '192.168.90.2/24');
  await ns.ip('route', 'add', '10.94.1.0/24', 'via', '192.168.90.2', 'proto', 'bgp');
  await ns.ip('route', 'add', '10.94.2.0/24', 'via', '192.168.90.2', 'proto', '88');
  await ns.ip('route', 'add', 'blackhole', '10.94.3.0/26', 'proto', '88');
  await ns.ip('route', 'add', '10.94.4.0/24', 'via', '192.168.90.2', 'proto', 'bird');
  await ns.ip('route', 'add', '10.94.5.0/24', 'via', '192.168.90.2');
  const out = await ns.exec(process.execPath, [NETLET, 'cleanup']);
  t.match(out, /routes: removed 3 routes/, out);
  const left = await ns.ip('route');
  t.notMatch(left, /10\.94\.[123]\./, 'the learned route, the node route and the blackhole are gone');
  t.match(left, /10\.94\.4\.0\/24 via 192\.168\.90\.2 .*proto bird/, "BIRD's route stays");
  t.match(left, /10\.94\.5\.0\/24 via 192\.168\.90\.2/, 'a static route stays');
});
