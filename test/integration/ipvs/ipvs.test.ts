// The IPVS proxy mode against a real kernel: one User-Mode Linux boot (this
// host's kernel has no IPVS) runs ipvs-guest.ts's scenarios, each reported
// back as one assertion.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { assertUmlResults, runInUml } from '../../helpers/uml.ts';
import { rootSkip } from '../../helpers/netns.ts';

t.setTimeout(600_000);

const guest = fileURLToPath(new URL('./ipvs-guest.ts', import.meta.url));

export const IPVS_MODULES = ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'ip_vs_mh', 'nf_conntrack', 'ip_set', 'ip_set_hash_ip', 'ip_set_hash_ipport', 'ip_set_hash_ipportip', 'ip_set_hash_ipportnet', 'ip_set_hash_net', 'ip_set_bitmap_port', 'xt_set', 'dummy', 'veth', 'bridge', 'br_netfilter', 'ipv6', 'iptable_nat', 'iptable_filter', 'xt_MASQUERADE', 'xt_mark', 'xt_comment', 'xt_conntrack', 'xt_addrtype', 'nf_conntrack_netlink', 'ipt_REJECT', 'ip6table_nat', 'ip6table_filter', 'ip6t_REJECT'];

const SCENARIOS = [
  'codec: what netlet writes is what ipvsadm reads, and back',
  'setup: a node, three pods and an external client in namespaces; the IPVS backend in the node',
  'data path: spread, NodePort, externalIP, no endpoints refused, affinity, Local policy',
  'Local policy with no local endpoint: NodePort and external IP dropped (a timeout, not a refusal), netlet trace says so; a local endpoint lifts it',
  'graceful termination: a removed endpoint keeps its open connection at weight 0, gets no new one, and goes once it closes',
  'UDP: a removed real server goes in the same sync, no draining (k/k#71514)',
  'host services are not reachable on ClusterIPs (k/k#72236)',
  'NodePorts and ClusterIPs work with INPUT policy DROP (k/k#98465)',
  'loadBalancerSourceRanges: outside ranges dropped, inside admitted, and the node reaches its own LB IP (k/k#119656)',
  'restart: a new backend process adopts the table; no request fails meanwhile',
  'damage behind netlet (a virtual server, a real server, a kube-ipvs0 address, a set, a chain, a jump) is found by intact() and repaired by the full sync',
  'IPv6: an IPv6 ClusterIP and NodePort spread over IPv6 pods (kube-ipvs0 /128, KUBE-6- sets), beside the IPv4 table',
  'netlet trace answers from the IPVS table',
  'netlet cleanup removes the virtual servers, kube-ipvs0, the ipsets and the chains, and nothing else',
  "kube-proxy's IPVS state (its ipsets, kube-ipvs0, virtual servers, chains) is adopted by a sync, and `netlet cleanup --kube-proxy` removes it but not ipvs.excludeCIDRs nor foreign virtual servers",
  'netlet agent --proxy-mode ipvs: a Local LoadBalancer with its health-check node port, the client source kept, the deprecation line, UDP conntrack cleanup, the metrics',
  'netlet demo --proxy-mode ipvs: two nodes, netlet-cni pods, agents in IPVS mode, services and DNS checked from the pods',
];

t.test('IPVS mode in User-Mode Linux', { skip: rootSkip(), timeout: 600_000 }, async (t) => {
  const run = await runInUml({ script: guest, modules: IPVS_MODULES, timeoutMs: 540_000, keep: !!process.env.NETLET_UML_KEEP });
  t.equal(run.timedOut, false, 'the guest halted by itself');
  assertUmlResults(t, run, SCENARIOS);
});
