// Three netlet agents in a node-to-node mesh on one L2 segment, each with a
// pod behind it: every node learns the other two blocks over iBGP (proto
// bgp, next hop the owner), and pods ping across nodes with no tunnel and no
// static route. Exactly one side of each pair dials (Calico's rule), and a
// stopped agent's block is withdrawn from the others. A pod on c with an
// address from a's block (borrowed) is announced by c as a /32, and the
// other nodes reach it past a's aggregate.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, eventually, rootSkip, type Netns } from '../../helpers/netns.ts';
import { blockYaml, established, nodeYaml, startAgent, type Agent } from './bgp-lab.ts';

/** In a's block, used by a pod on c. */
const BORROWED = '10.249.0.10';
const podYaml = (name: string, node: string, ip: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default}
spec: {nodeName: ${node}}
status: {phase: Running, podIP: "${ip}", podIPs: [{ip: "${ip}"}]}
`;

const NODES = [
  { name: 'a', ip: '192.168.94.1', block: '10.249.0.0/26', gw: '10.249.0.1', pod: '10.249.0.2' },
  { name: 'b', ip: '192.168.94.2', block: '10.249.0.64/26', gw: '10.249.0.65', pod: '10.249.0.66' },
  { name: 'c', ip: '192.168.94.3', block: '10.249.0.128/26', gw: '10.249.0.129', pod: '10.249.0.130' },
];

t.test('a 3-node netlet mesh routes pods with BGP alone', { skip: rootSkip(), timeout: 180_000 }, async (t) => {
  const lab = new Lab('bgh');
  t.teardown(() => lab.cleanup());
  const sw = await lab.netns('sw');
  await sw.ip('link', 'add', 'br0', 'type', 'bridge');
  await sw.ip('link', 'set', 'br0', 'up');
  const dir = t.testdir({});
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  writeFileSync(join(manifests, 'nodes.yaml'), NODES.map((n) => nodeYaml(n.name, n.ip)).join('---\n'));
  writeFileSync(join(manifests, 'blocks.yaml'), NODES.map((n) => blockYaml(n.block, n.name)).join('---\n'));
  writeFileSync(join(manifests, 'pods.yaml'), podYaml('borrower', 'c', BORROWED));

  const nodes: Netns[] = [];
  const pods: Netns[] = [];
  for (const n of NODES) {
    const node = await lab.netns(n.name);
    const [, swEnd] = await lab.link(node, sw, `${n.ip}/24`);
    await sw.ip('link', 'set', swEnd, 'master', 'br0');
    await node.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    const pod = await lab.netns(`p${n.name}`);
    await lab.link(node, pod, `${n.gw}/26`, `${n.pod}/26`);
    await pod.ip('route', 'add', 'default', 'via', n.gw);
    nodes.push(node);
    pods.push(pod);
  }
  const agents: Agent[] = NODES.map((n, i) => startAgent(t, lab, nodes[i], dir, { node: n.name, manifests, config: 'bgp:\n  enabled: true' }));
  for (const a of agents) await established(a, 2, 40_000);

  for (const [i, n] of NODES.entries()) {
    const others = NODES.filter((o) => o !== n);
    const routes = await eventually(async () => {
      const r = await nodes[i].ip('route', 'show', 'proto', 'bgp');
      return others.every((o) => r.includes(`${o.block} via ${o.ip}`)) ? r : '';
    }, 20_000);
    t.pass(`node ${n.name} learned ${others.map((o) => o.block).join(' and ')} over BGP:\n${routes}`);
    t.equal(await nodes[i].ip('route', 'show', 'proto', 'static'), '', `node ${n.name} has no static route`);
  }
  for (const [i, n] of NODES.entries()) {
    for (const o of NODES.filter((x) => x !== n)) {
      const out = await pods[i].exec('ping', ['-c', '1', '-W', '2', o.pod]);
      t.match(out, /1 received/, `pod on ${n.name} pings the pod on ${o.name}`);
    }
  }
  // Calico's rule: the node whose peer's address sorts after its own waits; so c dials a and b, b dials a.
  t.match(agents[1].log(), /"peer":"mesh a".*"to":"Connect"/, 'b dials a');
  t.notMatch(agents[0].log(), /"to":"Connect"/, 'a never dials');
  t.match(agents[2].log(), /"peer":"mesh b".*"to":"Connect"/, 'c dials b');

  // The borrowed address: a pod on c with an address of a's block, reached over a /32 route (proxy ARP on c's side, as Calico's).
  const borrower = await lab.netns('pbr');
  const [cEnd, podEnd] = await lab.link(nodes[2], borrower, undefined, `${BORROWED}/32`);
  await nodes[2].ip('route', 'add', `${BORROWED}/32`, 'dev', cEnd);
  await nodes[2].exec('sysctl', ['-qw', `net.ipv4.conf.${cEnd}.proxy_arp=1`]);
  await borrower.ip('route', 'add', 'default', 'dev', podEnd);
  for (const i of [0, 1]) {
    await eventually(async () => (await nodes[i].ip('route', 'show', 'proto', 'bgp')).includes(`${BORROWED} via ${NODES[2].ip}`), 20_000);
  }
  t.pass(`a and b learned ${BORROWED}/32 via c`);
  t.match(await nodes[0].ip('route', 'show', NODES[0].block), /blackhole/, "a keeps its block's blackhole");
  t.match(await pods[1].exec('ping', ['-c', '1', '-W', '2', BORROWED]), /1 received/, 'the pod on b pings the borrowed address on c');
  // From a's node, not its pod: the pod sees the whole block on its link and would ask for the address by ARP.
  t.match(await nodes[0].exec('ping', ['-c', '1', '-W', '2', BORROWED]), /1 received/, "the block's owner a reaches it past its own blackhole");

  agents[2].child.kill('SIGTERM');
  await new Promise((r) => agents[2].child.once('exit', r));
  await eventually(async () => !(await nodes[0].ip('route', 'show', 'proto', 'bgp')).includes(NODES[2].block), 20_000);
  t.pass("a stopped node's block is withdrawn from the others");
  t.notMatch(await nodes[0].ip('route', 'show', 'proto', 'bgp'), BORROWED, 'and its borrowed /32');
});
