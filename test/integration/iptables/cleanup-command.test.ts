// `netlet cleanup` on a node kube-proxy (legacy backend, both modes) left
// rules on: ours go, a foreign rule survives.

import t from 'tap';
import { fileURLToPath } from 'node:url';
import { Lab, rootSkip } from '../../helpers/netns.ts';

const NETLET = fileURLToPath(new URL('../../../bin/netlet.js', import.meta.url));

const LEFTOVERS = `*nat
:KUBE-SERVICES - [0:0]
:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]
:KUBE-NODE-PORT - [0:0]
:DOCKER - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j KUBE-SVC-AAAAAAAAAAAAAAAA
-A KUBE-SERVICES -j KUBE-NODE-PORT
-A DOCKER -i docker0 -j RETURN
COMMIT
*filter
:KUBE-FORWARD - [0:0]
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -s 172.17.0.0/16 -j ACCEPT
COMMIT
*mangle
:KUBE-PROXY-CANARY - [0:0]
COMMIT
`;

t.test('netlet cleanup --kube-proxy removes kube-proxy leftovers and nothing else', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('ipc');
  t.teardown(() => lab.cleanup());
  const ns = await lab.netns('node');
  await ns.exec('iptables-legacy-restore', ['--noflush'], { input: LEFTOVERS });
  const out = await ns.exec(process.execPath, [NETLET, 'cleanup', '--kube-proxy']);
  t.match(out, /iptables-legacy: removed 5 chains/, out);
  const left = await ns.exec('iptables-legacy-save', []);
  t.notMatch(left, /KUBE-/, 'no KUBE chain or jump left');
  t.match(left, /-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER/, 'foreign nat rule kept');
  t.match(left, /-A DOCKER -i docker0 -j RETURN/, 'foreign chain kept');
  t.match(left, /-A FORWARD -s 172\.17\.0\.0\/16 -j ACCEPT/, 'foreign filter rule kept');
  const again = await ns.exec(process.execPath, [NETLET, 'cleanup']);
  t.match(again, /iptables-legacy: removed 0 chains/, 'running it twice is harmless');
});
