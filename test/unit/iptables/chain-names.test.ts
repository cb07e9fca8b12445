import t from 'tap';
import { chainHash, extChain, fwChain, isOwnedChain, isServiceChain, sepChain, svcChain, svlChain, endpointString } from '../../../src/iptables/chain-names.ts';

t.test('golden vectors from kube-proxy', async (t) => {
  const rows: [string, string, string, string][] = [
    ['kube-dns udp', 'kube-system/kube-dns:dns', 'udp', 'KUBE-SVC-TCOU7JCQXEZGVUNU'],
    ['kubernetes https', 'default/kubernetes:https', 'tcp', 'KUBE-SVC-NPX46M4PTMTKRN6Y'],
  ];
  for (const [name, spn, proto, want] of rows) t.equal(svcChain(spn, proto), want, name);
});

t.test('every per-service prefix hashes the same string; SEP adds the endpoint', async (t) => {
  const h = chainHash('default/web:httptcp');
  t.equal(h.length, 16);
  t.match(h, /^[A-Z2-7]{16}$/, 'RFC 4648 alphabet');
  t.equal(svlChain('default/web:http', 'tcp'), `KUBE-SVL-${h}`);
  t.equal(extChain('default/web:http', 'tcp'), `KUBE-EXT-${h}`);
  t.equal(fwChain('default/web:http', 'tcp'), `KUBE-FW-${h}`);
  t.equal(sepChain('default/web:http', 'tcp', '10.0.0.1:80'), `KUBE-SEP-${chainHash('default/web:httptcp10.0.0.1:80')}`);
  t.equal(endpointString('fd00::1', 80), '[fd00::1]:80', 'IPv6 endpoints as net.JoinHostPort');
  t.ok(svcChain('a/b', 'tcp').length <= 28, 'within the iptables chain-name limit');
});

t.test('ownership', async (t) => {
  const rows: [string, string, string, boolean][] = [
    ['nat service chain', 'nat', 'KUBE-SEP-ABC', true],
    ['nat fixed chain', 'nat', 'KUBE-POSTROUTING', true],
    ['filter firewall chain', 'filter', 'KUBE-PROXY-FIREWALL', true],
    ["kubelet's chain is not ours", 'filter', 'KUBE-FIREWALL', false],
    ["kubelet's mark-drop is not ours", 'nat', 'KUBE-MARK-DROP', false],
    ['a foreign chain', 'nat', 'DOCKER', false],
    ['service chain names are nat only', 'filter', 'KUBE-SVC-ABC', false],
    ["the IPVS mode's filter chain (netlet writes it)", 'filter', 'KUBE-IPVS-FILTER', true],
    ["the IPVS mode's nat NodePort chain", 'nat', 'KUBE-NODE-PORT', true],
    ["kube-proxy's IPVS nat KUBE-FIREWALL: only with --kube-proxy", 'nat', 'KUBE-FIREWALL', false],
  ];
  for (const [name, table, chain, want] of rows) t.equal(isOwnedChain(table, chain), want, name);
  t.equal(isOwnedChain('nat', 'KUBE-FIREWALL', { kubeProxy: true }), true, 'nat KUBE-FIREWALL with --kube-proxy');
  t.equal(isOwnedChain('filter', 'KUBE-FIREWALL', { kubeProxy: true }), false, "kubelet's filter KUBE-FIREWALL never");
  t.ok(isServiceChain('KUBE-FW-X'));
  t.notOk(isServiceChain('KUBE-SERVICES'));
});
