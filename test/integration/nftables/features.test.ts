// Service features of the nftables backend with real traffic: load balancer
// source ranges, masqueradeAll, hairpin, Local policies, nodePortAddresses,
// UDP and IPv6.

import t from 'tap';
import { eventually, rootSkip } from '../../helpers/netns.ts';
import { ep, plan, planSet } from '../../unit/iptables/plans.ts';
import { EXT_IP, NODE_IP, buildTopology, curlCode, get } from '../iptables/topology.ts';
import { NftDriver } from './nft-driver.ts';
import { UDP_PORT, startUdpServer, udpAsk } from './udp.ts';

const local = (ip: string, port = 8080) => ep(ip, port, { isLocal: true, nodeName: 'node1' });
const pods = (list: string[]) => [...new Set(list.map((b) => b.split(' ')[0]))].sort();

t.test('load balancer IPs, source ranges, masqueradeAll, hairpin, Local policies, nodePortAddresses', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('nft');
  t.teardown(() => topo.lab.cleanup());
  const driver = new NftDriver(topo);
  const open = plan('default', 'lb-open', { clusterIP: '10.96.0.20', loadBalancerIPs: ['192.0.2.200'], loadBalancerSourceRanges: [`${EXT_IP}/32`, '192.168.0.0/16'], clusterEndpoints: [local('10.244.1.2')] });
  const closed = plan('default', 'lb-closed', { clusterIP: '10.96.0.21', loadBalancerIPs: ['192.0.2.201'], loadBalancerSourceRanges: ['10.0.0.0/8'], clusterEndpoints: [local('10.244.1.2')] });
  const masqAll = plan('default', 'masq-all', { clusterIP: '10.96.0.22', masqueradeAll: true, clusterEndpoints: [local('10.244.2.2')] });
  const hairpin = plan('default', 'hairpin', { clusterIP: '10.96.0.23', clusterEndpoints: [local('10.244.1.2')] });
  // Local external policy, endpoints on other nodes only: outside clients are dropped, pods still served elsewhere.
  const elsewhere = plan('default', 'elsewhere', {
    clusterIP: '10.96.0.24',
    nodePort: 30090,
    externalTraffic: 'local',
    clusterEndpoints: [local('10.244.2.2')].map((e) => ({ ...e, isLocal: false, nodeName: 'node2' })),
    localEndpoints: [],
  });
  const internalLocal = plan('default', 'internal-local', { clusterIP: '10.96.0.25', internalTraffic: 'local', clusterEndpoints: [local('10.244.1.2'), ep('10.244.9.9', 8080)], localEndpoints: [local('10.244.1.2')] });
  const nodePortOnly = plan('default', 'np-addr', { clusterIP: '10.96.0.26', nodePort: 30091, clusterEndpoints: [local('10.244.2.2')] });
  await driver.sync(planSet(open, closed, masqAll, hairpin, elsewhere, internalLocal, nodePortOnly), { full: true });

  t.match(await get(topo.ext, 'http://192.0.2.200/'), /^pod1 /, 'LB IP: a client inside the source ranges gets through');
  t.equal((await curlCode(topo.ext, 'http://192.0.2.201/', 1)).code, 28, 'LB IP: a client outside the ranges is dropped (timeout)');
  t.match(await get(topo.cpod, 'http://192.0.2.201/'), /^pod1 /, 'and a pod inside the range gets through');

  t.match(await get(topo.cpod, 'http://10.96.0.22/'), /^pod2 10\.244\.2\.1$/, 'masqueradeAll: a pod is masqueraded too (source is the node)');
  t.match(await get(topo.pod1, 'http://10.96.0.23/'), /^pod1 10\.244\.1\.1$/, 'hairpin: a pod reaching itself through its service is masqueraded');

  const drop = await curlCode(topo.ext, `http://${NODE_IP}:30090/`, 1);
  t.equal(drop.code, 28, 'Local policy with endpoints only elsewhere: outside clients are dropped (timeout, not refused)');
  t.match(await get(topo.cpod, `http://${NODE_IP}:30090/`), /^pod2 10\.244\.3\.2$/, 'a pod reaching that NodePort is sent to the endpoint elsewhere (Cluster), unmasqueraded');

  t.same(pods(await Promise.all(Array.from({ length: 10 }, () => get(topo.cpod, 'http://10.96.0.25/')))), ['pod1'], 'internalTrafficPolicy Local: only the local endpoint');

  // NodePorts only on 10.244.3.1 (the node's address towards cpod).
  await driver.sync(planSet(open, closed, masqAll, hairpin, elsewhere, internalLocal, nodePortOnly), { full: true, nodePortAddresses: ['10.244.3.1'] });
  t.match(await get(topo.cpod, 'http://10.244.3.1:30091/'), /^pod2 /, 'nodePortAddresses: the listed address answers');
  t.not((await curlCode(topo.ext, `http://${NODE_IP}:30091/`, 1)).code, 0, 'and another node address does not');
});

t.test('UDP: spread, no endpoints refused, an endpoint removed by a partial sync', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('nft');
  t.teardown(() => topo.lab.cleanup());
  startUdpServer(topo.lab, topo.pod1, 'pod1');
  startUdpServer(topo.lab, topo.pod2, 'pod2');
  const driver = new NftDriver(topo);
  const udp = (name: string, ip: string, eps: string[]) =>
    plan('default', name, { protocol: 'udp', portName: 'dns', clusterIP: ip, port: 53, clusterEndpoints: eps.map((e) => local(e, UDP_PORT)) });
  const plans = planSet(udp('dns', '10.96.0.30', ['10.244.1.2', '10.244.2.2']), udp('nodns', '10.96.0.31', []));
  await driver.sync(plans, { full: true });
  await eventually(() => udpAsk(topo.cpod, '10.244.1.2', UDP_PORT).then((r) => (r.startsWith('pod1') ? r : Promise.reject(new Error(r)))), 10_000, 200);
  const answers: string[] = [];
  for (let i = 0; i < 20; i++) answers.push(await udpAsk(topo.cpod, '10.96.0.30', 53));
  t.same(pods(answers), ['pod1', 'pod2'], 'UDP ClusterIP spread over both endpoints');
  t.equal(await udpAsk(topo.cpod, '10.96.0.31', 53), 'ERROR ECONNREFUSED', 'UDP with no endpoints: ICMP port unreachable');

  const after = udp('dns', '10.96.0.30', ['10.244.2.2']);
  plans.set('default/dns:dns/udp', after);
  await driver.sync(plans, { changed: ['default/dns:dns/udp'] });
  const later: string[] = [];
  for (let i = 0; i < 10; i++) later.push(await udpAsk(topo.cpod, '10.96.0.30', 53));
  t.same(pods(later), ['pod2'], 'after the partial sync only the remaining endpoint answers');
});

t.test('IPv6: ClusterIP, NodePort and no endpoints', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('nft');
  t.teardown(() => topo.lab.cleanup());
  await topo.node.ip('-6', 'addr', 'add', 'fd00:100::1/64', 'dev', (await topo.node.exec('ip', ['-o', '-4', 'addr', 'show'])).split('\n').find((l) => l.includes(` ${NODE_IP}/`))!.split(/\s+/)[1], 'nodad');
  await topo.ext.ip('-6', 'addr', 'add', 'fd00:100::2/64', 'dev', (await topo.ext.exec('ip', ['-o', '-4', 'addr', 'show'])).split('\n').find((l) => l.includes(` ${EXT_IP}/`))!.split(/\s+/)[1], 'nodad');
  const driver = new NftDriver(topo, 6);
  const v6 = plan('default', 'web6', {
    family: 6,
    clusterIP: 'fd00:96::10',
    nodePort: 30100,
    clusterCIDRs: ['fd00:244::/32'],
    clusterEndpoints: [local('fd00:244:1::2'), local('fd00:244:2::2')],
  });
  const sticky6 = plan('default', 'sticky6', { family: 6, clusterIP: 'fd00:96::11', affinityTimeoutSeconds: 60, clusterCIDRs: ['fd00:244::/32'], clusterEndpoints: [local('fd00:244:1::2'), local('fd00:244:2::2')] });
  const empty6 = plan('default', 'empty6', { family: 6, clusterIP: 'fd00:96::12', clusterCIDRs: ['fd00:244::/32'] });
  await driver.sync(planSet(v6, sticky6, empty6), { full: true });
  await eventually(() => get(topo.cpod, 'http://[fd00:96::10]/'), 10_000, 200);
  const got: string[] = [];
  for (let i = 0; i < 20; i++) got.push(await get(topo.cpod, 'http://[fd00:96::10]/'));
  t.same(pods(got), ['pod1', 'pod2'], 'both IPv6 endpoints reached');
  t.ok(got.every((b) => b.endsWith(' fd00:244:3::2')), `pod source kept (${got[0]})`);
  const np = await eventually(() => get(topo.ext, 'http://[fd00:100::1]:30100/'), 10_000, 200);
  t.match(np, /^pod[12] fd00:244:[12]::1$/, `IPv6 NodePort from outside, masqueraded (${np})`);
  const sticky: string[] = [];
  for (let i = 0; i < 10; i++) sticky.push(await get(topo.cpod, 'http://[fd00:96::11]/'));
  t.equal(pods(sticky).length, 1, 'IPv6 affinity sticks');
  t.equal((await curlCode(topo.cpod, 'http://[fd00:96::12]/', 3)).code, 7, 'IPv6 no endpoints: refused');
  t.match(await topo.node.exec('nft', ['list', 'tables']), /table ip6 netlet/, 'in its own ip6 table');
});

t.test('the node reaching its own LB IP through source ranges that admit it; SCTP rules load', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('nft');
  t.teardown(() => topo.lab.cleanup());
  await topo.node.ip('addr', 'add', '192.0.2.210/32', 'dev', 'lo');
  const driver = new NftDriver(topo);
  const own = plan('default', 'own-lb', {
    clusterIP: '10.96.0.40',
    loadBalancerIPs: ['192.0.2.210'],
    loadBalancerSourceRanges: ['10.0.0.0/8', `${NODE_IP}/32`],
    loadBalancerSourceRangesIncludeNode: true,
    clusterEndpoints: [local('10.244.1.2')],
  });
  const notAdmitted = plan('default', 'other-lb', {
    clusterIP: '10.96.0.41',
    loadBalancerIPs: ['192.0.2.210'],
    port: 81,
    loadBalancerSourceRanges: ['10.0.0.0/8'],
    clusterEndpoints: [local('10.244.1.2')],
  });
  // No SCTP in this kernel's modules to send traffic with; the rules must still load.
  const sctp = plan('default', 'sig', { protocol: 'sctp', port: 3868, clusterIP: '10.96.0.42', nodePort: 30868, clusterEndpoints: [local('10.244.1.2', 3868)] });
  await driver.sync(planSet(own, notAdmitted, sctp), { full: true });
  t.match(await get(topo.node, 'http://192.0.2.210/'), /^pod1 /, 'the node reaches its own LB IP (its source is the LB IP, admitted with the node)');
  t.equal((await curlCode(topo.node, 'http://192.0.2.210:81/', 1)).code, 28, 'not when the ranges do not admit the node');
  const text = await topo.node.exec('nft', ['list', 'table', 'ip', 'netlet']);
  t.match(text, /10\.96\.0\.42 \. sctp \. 3868 : goto pick-sctp-1/, 'SCTP ClusterIP element');
  t.match(text, /dnat ip to ip daddr \. sctp dport \. numgen random mod 1 map @endpoints-sctp-1/, 'SCTP pick chain');
});
