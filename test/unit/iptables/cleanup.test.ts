import t from 'tap';
import { cleanupInput } from '../../../src/iptables/cleanup.ts';

const NAT_SAVE = `*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
:KUBE-MARK-DROP - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]
:KUBE-POSTROUTING - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j KUBE-SVC-AAAAAAAAAAAAAAAA
COMMIT
`;

t.test('removes our chains and the jumps into them, nothing else', async (t) => {
  const input = cleanupInput('nat', NAT_SAVE);
  const lines = input.split('\n');
  t.ok(lines.includes('-D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'), 'jump deleted by its exact text');
  t.ok(lines.includes('-D POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING'));
  for (const c of ['KUBE-SERVICES', 'KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-POSTROUTING']) t.ok(lines.includes(`-X ${c}`), `deletes ${c}`);
  t.notMatch(input, /DOCKER|MASQUERADE|KUBE-MARK-DROP/, "foreign and kubelet's rules are not named");
  t.ok(input.indexOf('-D PREROUTING') < input.indexOf('-X KUBE-SERVICES'), 'jumps go before the chains');
});

t.test('nothing of ours: no restore', async (t) => {
  t.equal(cleanupInput('filter', '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n'), '');
});

t.test("mangle: our canary goes, kubelet's chains stay", async (t) => {
  const save = '*mangle\n:PREROUTING ACCEPT [0:0]\n:KUBE-IPTABLES-HINT - [0:0]\n:KUBE-KUBELET-CANARY - [0:0]\n:KUBE-PROXY-CANARY - [0:0]\nCOMMIT\n';
  const input = cleanupInput('mangle', save);
  t.same(input.split('\n'), ['*mangle', ':KUBE-PROXY-CANARY - [0:0]', '-X KUBE-PROXY-CANARY', 'COMMIT', '']);
});
