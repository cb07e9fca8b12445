// Inside User-Mode Linux (test/helpers/uml.ts): the IPVS mode against the
// real kernel. Scenarios run in order and share the guest; each cleans up.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { nodeYaml, serviceYaml, sliceYaml } from '../../helpers/manifest-yaml.ts';
import { runScenarios, scenario } from '../../helpers/uml-guest.ts';
import type { ScenarioContext } from '../../helpers/uml-guest.ts';
import { eventually } from '../../helpers/netns.ts';
import { openIpvs } from '../../../src/netlink/ipvs.ts';
import { SVC_F } from '../../../src/netlink/ipvs-codec.ts';
import { buildTopology, curlCode, get, requestLoop, EXT_IP, NODE_IP } from '../iptables/topology.ts';
import type { Topology } from '../iptables/topology.ts';
import { BackendDriver } from '../proxier/backend-driver.ts';
import { bodies, checkDataPath, empty, local, onlyLocal, pods, sticky, web } from '../proxier/data-path.ts';
import { ep, plan, planSet } from '../../unit/iptables/plans.ts';
import { planKey } from '../../../src/proxier/plan.ts';
import type * as Tap from 'tap';

const UDP_SEND = new URL('../proxier/udp-send.ts', import.meta.url).pathname;
const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });

scenario('codec: what netlet writes is what ipvsadm reads, and back', async (s) => {
  const table = await openIpvs();
  try {
    const service = { family: 4 as const, protocol: 'tcp' as const, address: '10.102.128.4', port: 80, scheduler: 'rr', flags: 0, timeout: 0 };
    const udp = { family: 4 as const, protocol: 'udp' as const, address: '10.96.0.10', port: 53, scheduler: 'mh', flags: SVC_F.PERSISTENT | SVC_F.SCHED2, timeout: 10800 };
    const v6 = { family: 6 as const, protocol: 'tcp' as const, address: 'fd00:10::4', port: 443, scheduler: 'rr', flags: 0, timeout: 0 };
    const failures = await table.apply([
      { op: 'add-service', service },
      { op: 'add-dest', service, dest: { address: '10.244.3.6', port: 9376, weight: 1 } },
      { op: 'add-dest', service, dest: { address: '10.244.1.7', port: 9376, weight: 1 } },
      { op: 'add-service', service: udp },
      { op: 'add-dest', service: udp, dest: { address: '10.244.1.8', port: 53, weight: 1 } },
      { op: 'add-service', service: v6 },
      { op: 'add-dest', service: v6, dest: { address: 'fd00:244::6', port: 8443, weight: 1 } },
      { op: 'add-service', service },
    ]);
    assert.deepEqual(failures.map((f) => `${f.change.op} ${f.errno}`), ['add-service EEXIST'], 'the duplicate alone refused, the rest applied');
    const text = run('ipvsadm', ['-Ln']);
    s.note(text);
    assert.match(text, /TCP {2}10\.102\.128\.4:80 rr\n {2}-> 10\.244\.1\.7:9376 +Masq +1 +0 +0 *\n {2}-> 10\.244\.3\.6:9376 +Masq +1/);
    assert.match(text, /UDP {2}10\.96\.0\.10:53 mh \(mh-port\) persistent 10800/);
    assert.match(text, /TCP {2}\[fd00:10::4\]:443 rr\n {2}-> \[fd00:244::6\]:8443 +Masq +1/);
    const listed = await table.listServices();
    assert.deepEqual(listed.map((s) => `${s.protocol} ${s.address} ${s.port} ${s.scheduler} ${s.flags} ${s.timeout}`).sort(), [
      'tcp 10.102.128.4 80 rr 0 0',
      'tcp fd00:10::4 443 rr 0 0',
      `udp 10.96.0.10 53 mh ${SVC_F.PERSISTENT | SVC_F.SCHED2} 10800`,
    ]);
    const dests = await table.listDests(service);
    assert.deepEqual(dests.map((d) => `${d.address}:${d.port}/${d.weight}`).sort(), ['10.244.1.7:9376/1', '10.244.3.6:9376/1']);
    await table.apply([{ op: 'update-dest', service, dest: { address: '10.244.1.7', port: 9376, weight: 0 } }, { op: 'delete-dest', service, dest: { address: '10.244.3.6', port: 9376 } }]);
    assert.match(run('ipvsadm', ['-Ln', '-t', '10.102.128.4:80']), /-> 10\.244\.1\.7:9376 +Masq +0/);
    await table.setTimeouts({ tcp: 900, tcpFin: 0, udp: 60 });
    const t = await table.getTimeouts();
    assert.equal(t.tcp, 900);
    assert.equal(t.udp, 60);
    assert.equal(t.tcpFin, 120, 'a 0 leaves the kernel value');
    await table.flush();
    assert.equal((await table.listServices()).length, 0);
  } finally {
    table.close();
  }
});

/** The tap assertions the shared data-path checks use, as node:assert, each noted for the host. */
function tapLike(s: ScenarioContext): Tap.Test {
  const note = (msg: string | undefined) => msg && s.note(`ok - ${msg}`);
  return {
    same: (a: unknown, b: unknown, msg?: string) => (assert.deepEqual(a, b, msg), note(msg)),
    equal: (a: unknown, b: unknown, msg?: string) => (assert.equal(a, b, msg), note(msg)),
    ok: (a: unknown, msg?: string) => (assert.ok(a, msg), note(msg)),
    notOk: (a: unknown, msg?: string) => (assert.ok(!a, msg), note(msg)),
    match: (a: string, re: RegExp, msg?: string) => (assert.match(a, re, msg), note(msg)),
  } as unknown as Tap.Test;
}

class IpvsDriver extends BackendDriver {
  constructor(topo: Topology, family: 4 | 6 = 4) {
    super(topo, new URL('./driver.ts', import.meta.url), [String(family)]);
  }
}

let topo: Topology = undefined as unknown as Topology;
let driver: IpvsDriver;
const inNode = (cmd: string, args: string[]) => topo.node.exec(cmd, args);

scenario('setup: a node, three pods and an external client in namespaces; the IPVS backend in the node', async () => {
  topo = await buildTopology('iv');
  driver = new IpvsDriver(topo);
}, 180_000);

scenario('data path: spread, NodePort, externalIP, no endpoints refused, affinity, Local policy', async (s) => {
  await driver.sync(planSet(web, empty, sticky, onlyLocal), { full: true });
  const ipvsadm = await inNode('ipvsadm', ['-Ln']);
  s.note(ipvsadm);
  assert.match(ipvsadm, /TCP {2}10\.96\.0\.10:80 rr\n {2}-> 10\.244\.1\.2:8080 +Masq +1 +\d+ +\d+ *\n {2}-> 10\.244\.2\.2:8080 +Masq +1/);
  assert.match(ipvsadm, /TCP {2}10\.96\.0\.13:80 rr persistent 600/);
  const dev = await inNode('ip', ['addr', 'show', 'kube-ipvs0']);
  s.note(dev);
  assert.match(dev, /kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN/, 'kube-ipvs0 left down');
  assert.match(dev, /inet 10\.96\.0\.10\/32 scope global kube-ipvs0/);
  assert.match(await inNode('ipset', ['list', 'KUBE-CLUSTER-IP']), /10\.96\.0\.10,tcp:80/);
  await checkDataPath(tapLike(s), topo, { stickyAndLocal: true });
}, 300_000);

const elsewhere = (localEndpoints: string[]) =>
  plan('default', 'elsewhere', {
    clusterIP: '10.96.0.15',
    nodePort: 30085,
    externalIPs: ['192.0.2.101'],
    externalTraffic: 'local',
    clusterEndpoints: [ep('10.244.9.9', 8080), ...localEndpoints.map((ip) => local(ip))],
    localEndpoints: localEndpoints.map((ip) => local(ip)),
  });

scenario('Local policy with no local endpoint: NodePort and external IP dropped (a timeout, not a refusal), netlet trace says so; a local endpoint lifts it', async (s) => {
  await driver.sync(planSet(web, elsewhere([])), { full: true });
  s.note(await inNode('ipset', ['list', 'KUBE-NO-LOCAL-ENDPOINTS']));
  const nodePort = await curlCode(topo.ext, `http://${NODE_IP}:30085/`, 2);
  assert.equal(nodePort.code, 28, `NodePort: dropped, the client times out (curl ${nodePort.code} after ${nodePort.ms} ms)`);
  assert.equal((await curlCode(topo.ext, 'http://192.0.2.101/', 2)).code, 28, 'external IP: dropped');
  const netlet = new URL('../../../bin/netlet.js', import.meta.url).pathname;
  const trace = await inNode(process.execPath, [netlet, 'trace', EXT_IP, `${NODE_IP}:30085`, '--proxy-mode', 'ipvs']);
  s.note(trace);
  assert.match(trace, /no endpoint on this node: dropped/);
  await driver.sync(planSet(web, elsewhere(['10.244.1.2'])), { changed: [planKey(elsewhere([]))] });
  assert.match(await get(topo.ext, `http://${NODE_IP}:30085/`, 5), /^pod1 /, 'a local endpoint: the NodePort answers');
  await driver.sync(planSet(web), { changed: [planKey(elsewhere([]))] });
});

/** A TCP connection held open from `from` to `url`'s host:port; `request()` sends one HTTP request over it and returns the answer. */
async function heldConnection(from: Topology['cpod'], host: string, port: number) {
  const script = `
const net = require('net');
const c = net.connect(${port}, '${host}', () => console.log('connected'));
let buf = '';
c.on('data', (d) => { buf += d; if (buf.includes('\\n') || buf.match(/pod\\d /)) { console.log('answer ' + buf.split('\\r\\n\\r\\n')[1]); buf = ''; } });
process.stdin.on('data', (d) => { if (String(d).startsWith('go')) c.write('GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'); else c.end(() => process.exit(0)); });
`;
  const child = topo.lab.track(from.spawn('node', ['-e', script]));
  const lines: string[] = [];
  child.stdout!.on('data', (d: Buffer) => lines.push(...String(d).split('\n').filter(Boolean)));
  await eventually(() => lines.includes('connected'), 20_000, 50);
  return {
    async request(): Promise<string> {
      const before = lines.length;
      child.stdin!.write('go\n');
      await eventually(() => lines.slice(before).some((l) => l.startsWith('answer ')), 20_000, 50);
      return lines.slice(before).find((l) => l.startsWith('answer '))!.slice('answer '.length);
    },
    close: () => child.stdin!.write('end\n'),
  };
}

const drainSvc = (endpoints: string[]) => plan('default', 'drain', { clusterIP: '10.96.0.20', clusterEndpoints: endpoints.map((ip) => local(ip)) });

scenario('graceful termination: a removed endpoint keeps its open connection at weight 0, gets no new one, and goes once it closes', async (s) => {
  await driver.sync(planSet(drainSvc(['10.244.2.2'])), { changed: [planKey(drainSvc([]))] });
  const held = await heldConnection(topo.cpod, '10.96.0.20', 80);
  assert.match(await held.request(), /^pod2 /);
  await driver.sync(planSet(drainSvc(['10.244.1.2'])), { changed: [planKey(drainSvc([]))] });
  const table = await inNode('ipvsadm', ['-Ln', '-t', '10.96.0.20:80']);
  s.note(table);
  assert.match(table, /-> 10\.244\.2\.2:8080 +Masq +0 +1 /, 'pod2 at weight 0 with its active connection');
  assert.deepEqual(pods(await bodies(topo.cpod, 'http://10.96.0.20/', 6)), ['pod1'], 'new connections go to pod1 only');
  assert.match(await held.request(), /^pod2 /, 'the open connection still reaches pod2');
  held.close();
  await eventually(async () => {
    await driver.sync(planSet(drainSvc(['10.244.1.2'])), { changed: [] });
    return !(await inNode('ipvsadm', ['-Ln', '-t', '10.96.0.20:80'])).includes('10.244.2.2');
  }, 60_000, 1000);
  s.note(await inNode('ipvsadm', ['-Ln', '-t', '10.96.0.20:80']));
  await driver.sync(planSet(), { changed: [planKey(drainSvc([]))] });
}, 180_000);

scenario('UDP: a removed real server goes in the same sync, no draining (k/k#71514)', async (s) => {
  const dns = (ips: string[]) => plan('kube-system', 'dns', { protocol: 'udp', clusterIP: '10.96.0.53', port: 53, clusterEndpoints: ips.map((ip) => local(ip, 53)) });
  await driver.sync(planSet(dns(['10.244.1.2', '10.244.2.2'])), { changed: [planKey(dns([]))] });
  assert.match(await inNode('ipvsadm', ['-Ln', '-u', '10.96.0.53:53']), /10\.244\.2\.2:53/);
  await driver.sync(planSet(dns(['10.244.1.2'])), { changed: [planKey(dns([]))] });
  const after = await inNode('ipvsadm', ['-Ln', '-u', '10.96.0.53:53']);
  s.note(after);
  assert.doesNotMatch(after, /10\.244\.2\.2/);
  await driver.sync(planSet(), { changed: [planKey(dns([]))] });
});

const HOST_SERVER = `require('http').createServer((q, s) => s.end('host')).listen(2222, '0.0.0.0')`;

scenario('host services are not reachable on ClusterIPs (k/k#72236)', async (s) => {
  await driver.sync(planSet(web), { full: true });
  topo.lab.track(topo.node.spawn('node', ['-e', HOST_SERVER]));
  await eventually(() => get(topo.ext, `http://${NODE_IP}:2222/`), 20_000, 200);
  s.note('the host service answers on the node IP');
  const fromPod = await curlCode(topo.cpod, 'http://10.96.0.10:2222/', 5);
  assert.equal(fromPod.code, 7, `a pod to ClusterIP:2222 is refused (curl ${fromPod.code})`);
  const fromNode = await curlCode(topo.node, 'http://10.96.0.10:2222/', 5);
  assert.equal(fromNode.code, 7, `the node to ClusterIP:2222 is refused (curl ${fromNode.code})`);
  assert.match(await get(topo.cpod, 'http://10.96.0.10/'), /^pod[12] /, 'the service port still answers');
});

scenario('NodePorts and ClusterIPs work with INPUT policy DROP (k/k#98465)', async () => {
  await driver.sync(planSet(web), { full: true });
  await inNode('iptables-legacy', ['-P', 'INPUT', 'DROP']);
  try {
    assert.match(await get(topo.ext, `http://${NODE_IP}:30080/`, 5), /^pod[12] /, 'NodePort from outside');
    assert.match(await get(topo.cpod, 'http://10.96.0.10/', 5), /^pod[12] /, 'ClusterIP from a pod');
    assert.match(await get(topo.ext, 'http://192.0.2.100/', 5), /^pod[12] /, 'externalIP from outside');
  } finally {
    await inNode('iptables-legacy', ['-P', 'INPUT', 'ACCEPT']);
  }
});

scenario('loadBalancerSourceRanges: outside ranges dropped, inside admitted, and the node reaches its own LB IP (k/k#119656)', async (s) => {
  const lb = plan('default', 'lb', {
    clusterIP: '10.96.0.30',
    loadBalancerIPs: ['192.0.2.50'],
    loadBalancerSourceRanges: ['192.168.100.0/24'],
    loadBalancerSourceRangesIncludeNode: true,
    clusterEndpoints: [local('10.244.1.2')],
  });
  await driver.sync(planSet(web, lb), { full: true });
  s.note(await inNode('ipset', ['list', 'KUBE-LOAD-BALANCER-SOURCE-CIDR']));
  assert.match(await get(topo.ext, 'http://192.0.2.50/', 5), /^pod1 /, 'a client inside the ranges');
  assert.equal((await curlCode(topo.cpod, 'http://192.0.2.50/', 3)).code, 28, 'a client outside them: dropped (timeout)');
  assert.match(await get(topo.node, 'http://192.0.2.50/', 5), /^pod1 /, 'the node itself, whose IP is in the ranges');
});

scenario('restart: a new backend process adopts the table; no request fails meanwhile', async (s) => {
  await driver.sync(planSet(web), { full: true });
  const before = await inNode('ipvsadm', ['-Ln']);
  const loop = requestLoop(topo.cpod, 'http://10.96.0.10/');
  await new Promise((r) => setTimeout(r, 2000));
  driver = new IpvsDriver(topo);
  await driver.sync(planSet(web), { full: true });
  await new Promise((r) => setTimeout(r, 2000));
  await loop.stop();
  s.note(`${loop.requests} requests, ${loop.failures} failed`);
  assert.ok(loop.requests > 3, `requests ran through the restart (${loop.requests})`);
  assert.equal(loop.failures, 0);
  const strip = (t: string) => t.replace(/ +\d+ +\d+ *$/gm, '');
  assert.equal(strip(await inNode('ipvsadm', ['-Ln'])), strip(before), 'the same table');
});

scenario('damage behind netlet (a virtual server, a real server, a kube-ipvs0 address, a set, a chain, a jump) is found by intact() and repaired by the full sync', async (s) => {
  await driver.sync(planSet(web), { full: true });
  const damages: Array<[string, string[], () => Promise<boolean>]> = [
    ['virtual server', ['ipvsadm', '-D', '-t', '10.96.0.10:80'], async () => /10\.96\.0\.10:80/.test(await inNode('ipvsadm', ['-Ln']))],
    ['real server', ['ipvsadm', '-d', '-t', '10.96.0.10:80', '-r', '10.244.2.2:8080'], async () => /10\.244\.2\.2:8080/.test(await inNode('ipvsadm', ['-Ln', '-t', '10.96.0.10:80']))],
    ['kube-ipvs0 address', ['ip', 'addr', 'del', '10.96.0.10/32', 'dev', 'kube-ipvs0'], async () => /10\.96\.0\.10\/32/.test(await inNode('ip', ['addr', 'show', 'kube-ipvs0']))],
    ['ipset', ['ipset', 'flush', 'KUBE-CLUSTER-IP'], async () => /10\.96\.0\.10,tcp:80/.test(await inNode('ipset', ['list', 'KUBE-CLUSTER-IP']))],
    ['chain', ['iptables-legacy', '-t', 'filter', '-F', 'KUBE-IPVS-FILTER'], async () => /-A KUBE-IPVS-FILTER .*REJECT/.test(await inNode('iptables-legacy-save', ['-t', 'filter']))],
    ['jump', ['iptables-legacy', '-t', 'nat', '-D', 'PREROUTING', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'], async () => /-A PREROUTING .*-j KUBE-SERVICES/.test(await inNode('iptables-legacy-save', ['-t', 'nat']))],
  ];
  for (const [what, cmd, repaired] of damages) {
    assert.equal(await driver.intact(), true, `${what}: intact before`);
    await inNode(cmd[0], cmd.slice(1));
    assert.equal(await repaired(), false, `${what}: damaged`);
    assert.equal(await driver.intact(), false, `${what}: intact() finds it`);
    await driver.sync(planSet(web), { full: true });
    assert.equal(await repaired(), true, `${what}: the full sync repaired it`);
    s.note(`ok - ${what}: found and repaired`);
  }
  assert.equal(await driver.intact(), true);
  assert.deepEqual(pods(await bodies(topo.cpod, 'http://10.96.0.10/', 10)), ['pod1', 'pod2'], 'the ClusterIP spreads again');
  assert.match(await get(topo.ext, `http://${NODE_IP}:30080/`, 5), /^pod[12] /, 'and the NodePort answers');
});

scenario('IPv6: an IPv6 ClusterIP and NodePort spread over IPv6 pods (kube-ipvs0 /128, KUBE-6- sets), beside the IPv4 table', async (s) => {
  const v6 = new IpvsDriver(topo, 6);
  const svc6 = plan('default', 'web6', {
    family: 6,
    clusterIP: 'fd00:96::10',
    nodePort: 30086,
    clusterCIDRs: ['fd00:244::/48'],
    clusterEndpoints: [ep('fd00:244:1::2', 8080, { isLocal: true }), ep('fd00:244:2::2', 8080, { isLocal: true })],
  });
  // An IPv6 node address facing the external client, for the NodePort (read on the full sync).
  const extIf = (await inNode('ip', ['-o', '-4', 'addr', 'show'])).split('\n').find((l) => l.includes(` ${NODE_IP}/`))!.split(/\s+/)[1];
  await inNode('ip', ['-6', 'addr', 'add', 'fd00:100::1/64', 'dev', extIf, 'nodad']);
  await topo.ext.exec('ip', ['-6', 'addr', 'add', 'fd00:100::2/64', 'dev', (await topo.ext.exec('ip', ['-o', '-4', 'addr', 'show'])).split('\n').find((l) => l.includes(` ${EXT_IP}/`))!.split(/\s+/)[1], 'nodad']);
  await v6.sync(planSet(svc6), { full: true });
  s.note(await inNode('ipvsadm', ['-Ln', '-t', '[fd00:96::10]:80']));
  s.note(await inNode('ipvsadm', ['-Ln', '-t', '[fd00:100::1]:30086']));
  assert.match(await inNode('ipset', ['list', 'KUBE-6-NODE-PORT-TCP']), /^30086$/m);
  assert.deepEqual(pods(await bodies(topo.ext, 'http://[fd00:100::1]:30086/', 10)), ['pod1', 'pod2'], 'IPv6 NodePort from outside, spread');
  assert.match(await inNode('ip', ['-6', 'addr', 'show', 'kube-ipvs0']), /inet6 fd00:96::10\/128/);
  assert.match(await inNode('ipset', ['list', 'KUBE-6-CLUSTER-IP']), /fd00:96::10,tcp:80/);
  assert.deepEqual(pods(await bodies(topo.cpod, 'http://[fd00:96::10]/', 10)), ['pod1', 'pod2'], 'ClusterIP spread');
  await v6.sync(planSet(), { full: true });
  assert.doesNotMatch(await inNode('ipvsadm', ['-Ln']), /fd00:96::10/, 'the IPv6 virtual server goes; the IPv4 ones stay');
  assert.match(await inNode('ipvsadm', ['-Ln']), /10\.96\.0\.10:80/);
});

scenario('netlet trace answers from the IPVS table', async (s) => {
  await driver.sync(planSet(web, empty), { full: true });
  const netlet = new URL('../../../bin/netlet.js', import.meta.url).pathname;
  const trace = (dst: string) => inNode(process.execPath, [netlet, 'trace', '10.244.3.2', dst, '--proxy-mode', 'ipvs']);
  const out = await trace('10.96.0.10:80');
  s.note(out);
  assert.match(out, /IPVS virtual server tcp\/10\.96\.0\.10\/80, scheduler rr/);
  assert.match(out, /10\.244\.1\.2:8080, 10\.244\.2\.2:8080/);
  assert.match(await trace('10.96.0.12:80'), /no real server: the connection is refused/);
  assert.match(await trace('10.96.0.99:80'), /not a service/);
});

scenario('netlet cleanup removes the virtual servers, kube-ipvs0, the ipsets and the chains, and nothing else', async (s) => {
  await driver.sync(planSet(web), { full: true });
  await inNode('ipvsadm', ['-A', '-t', '172.16.0.1:443', '-s', 'wrr']);
  const netlet = new URL('../../../bin/netlet.js', import.meta.url).pathname;
  const out = await inNode(process.execPath, [netlet, 'cleanup']).catch((e: Error) => e.message);
  s.note(out);
  const table = await inNode('ipvsadm', ['-Ln']);
  assert.match(table, /TCP {2}172\.16\.0\.1:443 wrr/, "someone else's virtual server is left");
  assert.doesNotMatch(table, /10\.96\.0\.10|30080/);
  assert.doesNotMatch(await inNode('ip', ['link']), /kube-ipvs0/);
  assert.doesNotMatch(await inNode('ipset', ['list', '-n']), /KUBE-/);
  const rules = (await inNode('iptables-legacy-save', [])) as string;
  assert.doesNotMatch(rules, /KUBE-/);
});

/** What kube-proxy's IPVS mode leaves on a node: its ipsets (its create options, `comment` included), kube-ipvs0, virtual servers and chains. */
function kubeProxyState(): { ipsets: string; iptables: string } {
  const hash = 'family inet hashsize 1024 maxelem 65536 comment';
  const sets: Array<[string, string]> = [
    ['KUBE-LOOP-BACK', `hash:ip,port,ip ${hash}`],
    ['KUBE-CLUSTER-IP', `hash:ip,port ${hash}`],
    ['KUBE-EXTERNAL-IP', `hash:ip,port ${hash}`],
    ['KUBE-EXTERNAL-IP-LOCAL', `hash:ip,port ${hash}`],
    ['KUBE-LOAD-BALANCER', `hash:ip,port ${hash}`],
    ['KUBE-LOAD-BALANCER-LOCAL', `hash:ip,port ${hash}`],
    ['KUBE-LOAD-BALANCER-FW', `hash:ip,port ${hash}`],
    ['KUBE-LOAD-BALANCER-SOURCE-IP', `hash:ip,port,ip ${hash}`],
    ['KUBE-LOAD-BALANCER-SOURCE-CIDR', `hash:ip,port,net ${hash}`],
    ['KUBE-NODE-PORT-TCP', 'bitmap:port range 0-65535 comment'],
    ['KUBE-NODE-PORT-LOCAL-TCP', 'bitmap:port range 0-65535 comment'],
    ['KUBE-NODE-PORT-UDP', 'bitmap:port range 0-65535 comment'],
    ['KUBE-NODE-PORT-LOCAL-UDP', 'bitmap:port range 0-65535 comment'],
    ['KUBE-NODE-PORT-SCTP-HASH', `hash:ip,port ${hash}`],
    ['KUBE-NODE-PORT-LOCAL-SCTP-HASH', `hash:ip,port ${hash}`],
    ['KUBE-HEALTH-CHECK-NODE-PORT', 'bitmap:port range 0-65535 comment'],
    ['KUBE-IPVS-IPS', `hash:ip ${hash}`],
  ];
  const ipsets = [
    ...sets.map(([n, t]) => `create ${n} ${t}`),
    'add KUBE-CLUSTER-IP 10.96.0.10,tcp:80 comment "default/web:http"',
    'add KUBE-CLUSTER-IP 10.96.0.99,tcp:80 comment "default/gone:http"',
    'add KUBE-NODE-PORT-TCP 30099',
    'add KUBE-IPVS-IPS 10.96.0.10',
    'add KUBE-IPVS-IPS 10.96.0.99',
    '',
  ].join('\n');
  const iptables = [
    '*nat',
    ...['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', 'KUBE-NODE-PORT', 'KUBE-LOAD-BALANCER', 'KUBE-FIREWALL'].map((c) => `:${c} - [0:0]`),
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ',
    '-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT',
    '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
    '-A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE',
    '-A KUBE-FIREWALL -j MARK --set-xmark 0x8000/0x8000',
    'COMMIT',
    '*filter',
    ...['KUBE-FORWARD', 'KUBE-NODE-PORT', 'KUBE-PROXY-FIREWALL', 'KUBE-SOURCE-RANGES-FIREWALL', 'KUBE-IPVS-FILTER', 'KUBE-IPVS-OUT-FILTER'].map((c) => `:${c} - [0:0]`),
    '-A INPUT -m comment --comment "kube-proxy firewall rules" -m conntrack --ctstate NEW -j KUBE-PROXY-FIREWALL',
    '-A INPUT -m comment --comment "kubernetes health check rules" -j KUBE-NODE-PORT',
    '-A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-A OUTPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-OUT-FILTER',
    '-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT',
    '-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable',
    'COMMIT',
    '',
  ].join('\n');
  return { ipsets, iptables };
}

scenario("kube-proxy's IPVS state (its ipsets, kube-ipvs0, virtual servers, chains) is adopted by a sync, and `netlet cleanup --kube-proxy` removes it but not ipvs.excludeCIDRs nor foreign virtual servers", async (s) => {
  driver.stop();
  const kp = kubeProxyState();
  await topo.node.exec('sh', ['-c', `ipset restore <<'EOF'\n${kp.ipsets}EOF\n`]);
  await topo.node.exec('sh', ['-c', `iptables-legacy-restore --noflush <<'EOF'\n${kp.iptables}EOF\n`]);
  await inNode('ip', ['link', 'add', 'kube-ipvs0', 'type', 'dummy']);
  for (const a of ['10.96.0.10/32', '10.96.0.99/32']) await inNode('ip', ['addr', 'add', a, 'dev', 'kube-ipvs0']);
  for (const args of [
    ['-A', '-t', '10.96.0.10:80', '-s', 'rr'],
    ['-a', '-t', '10.96.0.10:80', '-r', '10.244.9.9:8080', '-m', '-w', '1'],
    ['-A', '-t', '10.96.0.99:80', '-s', 'rr'],
    ['-A', '-t', `${NODE_IP}:30099`, '-s', 'rr'],
    // keepalived's, in ipvs.excludeCIDRs.
    ['-A', '-t', '10.100.0.1:443', '-s', 'wrr'],
  ]) await inNode('ipvsadm', args);
  s.note(await inNode('ipset', ['list', '-t', 'KUBE-CLUSTER-IP']));

  process.env.IPVS_EXCLUDE = '10.100.0.0/16';
  try {
    driver = new IpvsDriver(topo);
  } finally {
    delete process.env.IPVS_EXCLUDE;
  }
  await driver.sync(planSet(web), { full: true });
  const table = await inNode('ipvsadm', ['-Ln']);
  s.note(table);
  assert.match(table, /TCP {2}10\.96\.0\.10:80 rr\n {2}-> 10\.244\.1\.2:8080 +Masq +1 +\d+ +\d+ *\n {2}-> 10\.244\.2\.2:8080/, "kube-proxy's virtual server adopted, its real servers replaced");
  assert.doesNotMatch(table, /10\.244\.9\.9|10\.96\.0\.99|30099/, 'its stale virtual servers and real server are gone');
  assert.match(table, /10\.100\.0\.1:443 wrr/, 'ipvs.excludeCIDRs kept');
  assert.deepEqual(pods(await bodies(topo.cpod, 'http://10.96.0.10/', 6)), ['pod1', 'pod2'], 'the adopted ClusterIP spreads');
  const clusterIPs = await inNode('ipset', ['list', 'KUBE-CLUSTER-IP']);
  assert.match(clusterIPs, /10\.96\.0\.10,tcp:80/);
  assert.doesNotMatch(clusterIPs, /10\.96\.0\.99/, 'the stale set entry is deleted');
  assert.doesNotMatch(await inNode('ipset', ['list', 'KUBE-NODE-PORT-TCP']), /^30099$/m);
  assert.doesNotMatch(await inNode('ip', ['addr', 'show', 'kube-ipvs0']), /10\.96\.0\.99/, 'the stale address unbound');
  const saved = (await inNode('iptables-legacy-save', [])) as string;
  for (const jump of ['-A PREROUTING .*-j KUBE-SERVICES', '-A INPUT .*-j KUBE-IPVS-FILTER', '-A FORWARD .*-j KUBE-FORWARD', '-A OUTPUT .*-j KUBE-IPVS-OUT-FILTER']) {
    assert.equal(saved.split('\n').filter((l) => new RegExp(jump).test(l)).length, 1, `one ${jump}, not two`);
  }
  assert.match(saved, /:KUBE-FIREWALL/, "kube-proxy's own nat KUBE-FIREWALL is not netlet's to rewrite");

  driver.stop();
  await inNode('ipvsadm', ['-A', '-t', '172.16.0.1:443', '-s', 'wrr']).catch(() => '');
  const netlet = new URL('../../../bin/netlet.js', import.meta.url).pathname;
  s.note(await inNode(process.execPath, [netlet, 'cleanup', '--kube-proxy']).catch((e: Error) => e.message));
  const left = await inNode('ipvsadm', ['-Ln']);
  s.note(left);
  assert.match(left, /10\.100\.0\.1:443 wrr/, 'the excluded virtual server is left');
  assert.match(left, /172\.16\.0\.1:443 wrr/, "someone else's virtual server is left");
  assert.doesNotMatch(left, /10\.96\.0\.10/);
  assert.doesNotMatch(await inNode('ip', ['link']), /kube-ipvs0/);
  assert.doesNotMatch(await inNode('ipset', ['list', '-n']), /KUBE-/);
  assert.doesNotMatch(await inNode('iptables-legacy-save', []), /KUBE-/);
  for (const vs of ['10.100.0.1:443', '172.16.0.1:443']) await inNode('ipvsadm', ['-D', '-t', vs]);
});

const LB_LOCAL = `apiVersion: v1
kind: Service
metadata: {name: lb, namespace: default}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.60
  clusterIPs: [10.96.0.60]
  externalTrafficPolicy: Local
  healthCheckNodePort: 32150
  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080, nodePort: 30150}]
status: {loadBalancer: {ingress: [{ip: 192.0.2.60}]}}
`;

scenario('netlet agent --proxy-mode ipvs: a Local LoadBalancer with its health-check node port, the client source kept, the deprecation line, UDP conntrack cleanup, the metrics', async (s) => {
  const dir = mkdtempSync('/tmp/ipvs-agent-');
  const http = { name: 'http', port: 8080, protocol: 'TCP' } as const;
  const dns = { name: 'dns', port: 53, protocol: 'UDP' } as const;
  // The DNS slice carries its change time, so the programming latency is measured.
  const cluster = (dnsIP: string) =>
    [
      nodeYaml('node1', NODE_IP),
      LB_LOCAL,
      sliceYaml('default', 'lb', 'lb-1', http, [{ ip: '10.244.1.2', nodeName: 'node1' }, { ip: '10.244.9.9', nodeName: 'node-b' }]),
      serviceYaml('kube-system', 'dns', '10.96.0.53', { ...dns, targetPort: 53 }),
      sliceYaml('kube-system', 'dns', 'dns-1', dns, [{ ip: dnsIP, nodeName: 'node1' }]).replace(
        'metadata: {name: dns-1,',
        `metadata: {annotations: {endpoints.kubernetes.io/last-change-trigger-time: '${new Date().toISOString()}'}, name: dns-1,`,
      ),
    ].join('---\n');
  writeFileSync(`${dir}/cluster.yaml`, cluster('10.244.1.2'));
  writeFileSync(`${dir}/config.json`, JSON.stringify({ proxy: { mode: 'ipvs', clusterCIDR: '10.244.0.0/16', ipvs: { minSyncPeriod: '100ms' } } }));
  const netlet = new URL('../../../bin/netlet.js', import.meta.url).pathname;
  const agent = topo.lab.track(topo.node.spawn(process.execPath, [netlet, 'agent', '--config', `${dir}/config.json`, '--manifests', dir, '--node-name', 'node1']));
  let log = '';
  agent.stdout!.on('data', (d: Buffer) => (log += d));
  agent.stderr!.on('data', (d: Buffer) => (log += d));
  try {
    await eventually(async () => (await inNode('ipvsadm', ['-Ln'])).includes('192.0.2.60:80'), 60_000, 500);
    const table = await inNode('ipvsadm', ['-Ln', '-t', '192.0.2.60:80']);
    s.note(table);
    assert.match(table, /-> 10\.244\.1\.2:8080/);
    assert.doesNotMatch(table, /10\.244\.9\.9/, 'Local: the other node\'s endpoint is not a real server of the LB IP');
    // The health-check server starts beside the first sync, not before it.
    const hc = await eventually(() => get(topo.ext, `http://${NODE_IP}:32150/`, 5), 20_000, 500);
    s.note(hc);
    assert.match(hc, /"localEndpoints":\s*1/, 'the health-check node port answers with one local endpoint');
    const body = await get(topo.ext, 'http://192.0.2.60/', 5);
    assert.match(body, new RegExp(`^pod1 ${EXT_IP.replace(/\./g, '\\.')}$`), `Local: the client source is kept (${body})`);
    assert.match(log, /deprecated upstream from Kubernetes 1\.35.*--proxy-mode nftables/, 'the start log says IPVS is deprecated');

    // UDP conntrack cleanup: a flow to the DNS ClusterIP through IPVS, its endpoint removed, the flow deleted.
    await eventually(async () => (await inNode('ipvsadm', ['-Ln', '-u', '10.96.0.53:53'])).includes('10.244.1.2:53'), 20_000, 200);
    await topo.cpod.exec(process.execPath, [UDP_SEND, '10.96.0.53', '53', '40111']);
    const ct = () => inNode('conntrack', ['-L', '-p', 'udp']).catch(() => '');
    const flow = (await ct()).split('\n').find((l) => l.includes('sport=40111'));
    s.note(`the flow: ${flow}`);
    assert.match(flow ?? '', /dst=10\.96\.0\.53 sport=40111 dport=53 .*src=10\.244\.1\.2 /, 'IPVS gave the flow a conntrack entry pointing at the endpoint');
    const file = `${dir}/cluster.yaml`;
    writeFileSync(`${file}.tmp`, cluster('10.244.2.2'));
    renameSync(`${file}.tmp`, file);
    await eventually(async () => (await inNode('ipvsadm', ['-Ln', '-u', '10.96.0.53:53'])).includes('10.244.2.2:53'), 20_000, 200);
    assert.doesNotMatch(await inNode('ipvsadm', ['-Ln', '-u', '10.96.0.53:53']), /10\.244\.1\.2/, 'the removed UDP real server is gone at once');
    await eventually(async () => !(await ct()).includes('sport=40111'), 10_000, 100);
    s.note('ok - the stale UDP flow to the removed endpoint was deleted');

    // kube-proxy's metrics, as the iptables mode serves them.
    const metrics = await inNode('curl', ['-s', 'http://127.0.0.1:10249/metrics']);
    const family = '\\{ip_family="IPv4"\\}';
    for (const re of [
      new RegExp(`kubeproxy_sync_proxy_rules_duration_seconds_count${family} [2-9]`),
      new RegExp(`kubeproxy_sync_full_proxy_rules_duration_seconds_count${family} [1-9]`),
      new RegExp(`kubeproxy_sync_partial_proxy_rules_duration_seconds_count${family} [1-9]`),
      new RegExp(`kubeproxy_sync_proxy_rules_last_timestamp_seconds${family} [1-9]`),
      new RegExp(`kubeproxy_network_programming_duration_seconds_count${family} [1-9]`),
      /kubeproxy_sync_proxy_rules_iptables_total\{ip_family="IPv4",table="ipvs"\} [1-9]/,
      /kubeproxy_sync_proxy_rules_service_changes_total \d+/,
      /kubeproxy_sync_proxy_rules_endpoint_changes_total [1-9]/,
    ]) {
      assert.match(metrics, re);
      s.note(`ok - /metrics: ${metrics.split('\n').find((l) => re.test(l))}`);
    }
    assert.doesNotMatch(metrics, /kubeproxy_sync_proxy_rules_iptables_restore_failures_total\S* [1-9]/, 'no failed sync counted');
  } finally {
    s.note(log.split('\n').slice(-15).join('\n'));
    agent.kill('SIGTERM');
  }
}, 180_000);

scenario('netlet demo --proxy-mode ipvs: two nodes, netlet-cni pods, agents in IPVS mode, services and DNS checked from the pods', async (s) => {
  await (topo as Topology | undefined)?.lab.cleanup();
  // The demo writes each pod's resolv.conf under /etc/netns: the guest's root is read-only.
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', '/etc/netns']);
  const netlet = new URL('../../../bin/netlet.js', import.meta.url).pathname;
  const run = (args: string[]) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      const c = spawn(process.execPath, [netlet, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d));
      c.stderr.on('data', (d: Buffer) => (out += d));
      c.on('close', (code) => resolve({ code: code ?? -1, out }));
    });
  const demo = await run(['demo', '--proxy-mode', 'ipvs', '--keep']);
  s.note(demo.out);
  try {
    assert.equal(demo.code, 0, 'the demo passed');
    assert.match(demo.out, /all checks passed/);
    const logs = readdirSync('/run/netlet-demo/logs').filter((f) => f.startsWith('agent-'));
    assert.ok(logs.length >= 2, `agent logs: ${logs.join(', ')}`);
    for (const f of logs) assert.match(readFileSync(`/run/netlet-demo/logs/${f}`, 'utf8'), /deprecated upstream from Kubernetes 1\.35.*--proxy-mode nftables/, `${f}: the deprecation line`);
  } finally {
    await run(['demo', '--down']);
  }
}, 400_000);

const failed = await runScenarios();
await (topo as Topology | undefined)?.lab.cleanup();
process.exit(failed);
