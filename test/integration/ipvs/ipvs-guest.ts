// Inside User-Mode Linux (test/helpers/uml.ts): the IPVS mode against the
// real kernel. Scenarios run in order and share the guest; each cleans up.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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
  constructor(topo: Topology, env: Record<string, string> = {}) {
    void env;
    super(topo, new URL('./driver.ts', import.meta.url), ['4']);
  }
}

let topo: Topology;
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

process.exitCode = await runScenarios();
