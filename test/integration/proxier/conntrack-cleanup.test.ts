// UDP conntrack cleanup against the real kernel: entries are made by real
// traffic through a DNAT rule (and by `conntrack -I` for IPv6), deleted by
// netlet over ctnetlink from inside the namespace, and observed with
// `conntrack -L`.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { Lab, rootSkip } from '../../helpers/netns.ts';
import type { Netns } from '../../helpers/netns.ts';
import type { PlanEndpoint, ServicePortPlan } from '../../../src/proxier/plan.ts';
import { planDecisions } from '../../../src/proxier/plan-builder.ts';
import type { PlanDecisions } from '../../../src/proxier/plan-builder.ts';

const CHILD = fileURLToPath(new URL('./conntrack-child.ts', import.meta.url));
const NODE_BIN = process.execPath;
const SEND = fileURLToPath(new URL('./udp-send.ts', import.meta.url));

async function child(ns: Netns, req: unknown): Promise<unknown> {
  return JSON.parse(await ns.exec(NODE_BIN, [CHILD, JSON.stringify(req)]));
}

const ep = (ip: string): PlanEndpoint => ({ ip, port: 53, isLocal: true, ready: true, serving: true, terminating: false, nodeName: 'n', zone: '' });
function udpPlan(name: string, clusterIP: string, endpoints: string[], family: 4 | 6 = 4): ServicePortPlan {
  const eps = endpoints.map(ep);
  const facts = {
    servicePortName: `ns/${name}:dns`, namespace: 'ns', name, portName: 'dns', protocol: 'udp', family,
    clusterIP, port: 53, nodePort: 0, externalIPs: [], loadBalancerIPs: [], loadBalancerSourceRanges: [], loadBalancerSourceRangesIncludeNode: false, healthCheckNodePort: 0,
    affinityTimeoutSeconds: 0, internalTraffic: 'cluster', externalTraffic: 'cluster',
    allEndpoints: eps, clusterEndpoints: eps, localEndpoints: [], hasAnyEndpoints: eps.length > 0, masqueradeAll: false, clusterCIDRs: [],
  } satisfies Omit<ServicePortPlan, keyof PlanDecisions>;
  return { ...facts, ...planDecisions(facts) };
}

async function flows(ns: Netns, family: 4 | 6 = 4): Promise<string[]> {
  const out = await ns.exec('conntrack', ['-L', '-f', family === 4 ? 'ipv4' : 'ipv6']);
  return out.split('\n').filter((l) => l.startsWith('udp') || l.startsWith('tcp'));
}

t.test('stale UDP entries go, others stay (IPv4, real traffic through DNAT)', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('pc');
  t.teardown(() => lab.cleanup());
  const node = await lab.netns('node');
  const pod = await lab.netns('pod');
  const [nodeIf] = await lab.link(node, pod, '10.244.0.1/24', '10.244.0.2/24');
  await node.ip('route', 'add', '10.96.0.0/16', 'dev', nodeIf);
  // The service rule a backend would write: 10.96.0.10:53 → the endpoint.
  await node.exec('iptables', ['-t', 'nat', '-A', 'OUTPUT', '-d', '10.96.0.10', '-p', 'udp', '--dport', '53', '-j', 'DNAT', '--to-destination', '10.244.0.2:53']);
  const send = (dst: string, sport: number) => node.exec(NODE_BIN, [SEND, dst, '53', String(sport)]);
  await send('10.96.0.10', 40001); // DNATed to the endpoint that will be removed
  await send('10.96.0.11', 40002); // a service without endpoints yet: untranslated
  await send('10.96.0.12', 40003); // unrelated service: must survive
  const before = await flows(node);
  t.equal(before.length, 3, `three flows made by traffic:\n${before.join('\n')}`);
  t.ok(before.some((l) => l.includes('dst=10.96.0.10') && l.includes('src=10.244.0.2 ')), 'the DNATed flow replies from the endpoint');

  const res = await child(node, {
    op: 'clean',
    family: 4,
    applied: [udpPlan('dns', '10.96.0.10', ['10.244.0.2']), udpPlan('late', '10.96.0.11', []), udpPlan('other', '10.96.0.12', ['10.244.0.9'])],
    current: [udpPlan('dns', '10.96.0.10', ['10.244.0.3']), udpPlan('late', '10.96.0.11', ['10.244.0.4']), udpPlan('other', '10.96.0.12', ['10.244.0.9'])],
  });
  t.same(res, { deleted: 2 });
  const after = await flows(node);
  t.equal(after.length, 1, `one flow left:\n${after.join('\n')}`);
  t.match(after[0], /dst=10\.96\.0\.12 /, 'the unrelated flow survived');
});

t.test('IPv6 entries are listed with their addresses and deleted by filter', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('pc');
  t.teardown(() => lab.cleanup());
  const node = await lab.netns('node6');
  const insert = (dst: string, replySrc: string, sport: number) =>
    node.exec('conntrack', ['-I', '-p', 'udp', '-s', 'fd00::1', '-d', dst, '--sport', String(sport), '--dport', '53', '-r', replySrc, '-q', 'fd00::1', '--reply-port-src', '53', '--reply-port-dst', String(sport), '-t', '120']);
  await insert('fd00:96::a', 'fd00:244::5', 41001);
  await insert('fd00:96::a', 'fd00:244::6', 41002);
  await insert('fd00:96::b', 'fd00:244::5', 41003);
  // A TCP entry to the same service and endpoint: UDP cleanup must never touch it.
  await node.exec('conntrack', ['-I', '-p', 'tcp', '-s', 'fd00::1', '-d', 'fd00:96::a', '--sport', '41004', '--dport', '53', '-r', 'fd00:244::5', '-q', 'fd00::1', '--reply-port-src', '53', '--reply-port-dst', '41004', '--state', 'ESTABLISHED', '-t', '120']);
  const all = (await child(node, { op: 'list', family: 6 })) as unknown[];
  t.equal(all.length, 4, 'an unfiltered dump has every entry');
  const listed = (await child(node, { op: 'list', family: 6, protoNum: 17 })) as { orig: { dst: string; srcPort: number }; reply: { src: string } }[];
  t.same(
    listed.map((e) => `${e.orig.dst} ${e.orig.srcPort} ${e.reply.src}`).sort(),
    ['fd00:96::a 41001 fd00:244::5', 'fd00:96::a 41002 fd00:244::6', 'fd00:96::b 41003 fd00:244::5'],
    'the kernel-filtered dump has only the UDP entries, addresses in RFC 5952 form',
  );
  t.same(await child(node, { op: 'list', family: 4 }), [], 'an IPv4 dump does not include IPv6 entries');
  const res = await child(node, { op: 'delete', family: 6, filters: [{ protocol: 'udp', origDst: 'fd00:96::a', origDstPort: 53, replySrc: 'fd00:244::5' }] });
  t.same(res, { deleted: 1 });
  const left = await flows(node, 6);
  t.equal(left.length, 3);
  t.ok(left.some((l) => l.startsWith('tcp') && l.includes('sport=41004')), 'the TCP entry survived');
  t.notOk(left.some((l) => l.includes('sport=41001')), 'the matching entry is gone');
});
