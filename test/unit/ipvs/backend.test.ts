// The IPVS backend against fakes of the kernel parts (IPVS table, ipset,
// kube-ipvs0, iptables): what each plan turns into, partial syncs touching
// only what changed, a failure making the next sync read the kernel again.
// The real kernel is exercised in the UML suite (test/integration/ipvs).
import t from 'tap';
import { IpvsBackend } from '../../../src/ipvs/backend.ts';
import { IpsetSync, restoreInput, parseSave } from '../../../src/ipvs/ipsets.ts';
import type { IpsetRunner } from '../../../src/ipvs/ipsets.ts';
import type { AddressHolder } from '../../../src/ipvs/dummy-device.ts';
import type { IpvsRulesWriter } from '../../../src/ipvs/iptables-writer.ts';
import type { IpvsRulesContext } from '../../../src/ipvs/iptables-rules.ts';
import { ipvsRulesText } from '../../../src/ipvs/iptables-rules.ts';
import { SET, setName } from '../../../src/ipvs/ipset-names.ts';
import { silentLogger } from '../../../src/base/log.ts';
import type { Family } from '../../../src/base/family.ts';
import { FakeIpvsTable } from './fake-ipvs-table.ts';
import { ep, plan, planSet } from '../iptables/plans.ts';
import { planKey } from '../../../src/proxier/plan.ts';
import type { PlanSet } from '../../../src/proxier/plan.ts';

class FakeIpset {
  sets = new Map<string, Set<string>>();
  restores: string[] = [];
  fail = false;
  run: IpsetRunner = async (args, input = '') => {
    if (args[0] === 'save') {
      const lines: string[] = [];
      for (const [n, es] of this.sets) lines.push(`create ${n} x`, ...[...es].map((e) => `add ${n} ${e}`));
      return { code: 0, stdout: lines.join('\n'), stderr: '' };
    }
    if (args[0] === 'list') {
      const lines: string[] = [];
      for (const [n, es] of this.sets) lines.push(`Name: ${n}`, 'Type: hash:ip,port', `Number of entries: ${es.size}`);
      return { code: 0, stdout: lines.join('\n'), stderr: '' };
    }
    if (this.fail) return { code: 1, stdout: '', stderr: 'ipset v7.17: Kernel error received: set type not supported' };
    this.restores.push(input);
    for (const line of input.split('\n')) {
      const [verb, name, entry] = line.split(' ');
      if (verb === 'create' && !this.sets.has(name)) this.sets.set(name, new Set());
      if (verb === 'add') this.sets.get(name)!.add(entry);
      if (verb === 'del') this.sets.get(name)!.delete(entry);
    }
    return { code: 0, stdout: '', stderr: '' };
  };
}

class FakeDevice implements AddressHolder {
  held = new Set<string>();
  async sync(_f: Family, wanted: ReadonlySet<string>): Promise<number> {
    const n = [...wanted].filter((a) => !this.held.has(a)).length + [...this.held].filter((a) => !wanted.has(a)).length;
    this.held = new Set(wanted);
    return n;
  }
  async addresses(): Promise<string[]> {
    return [...this.held];
  }
  async applyDelta(_f: Family, adds: readonly string[], dels: readonly string[]): Promise<number> {
    for (const a of adds) this.held.add(a);
    for (const a of dels) this.held.delete(a);
    return adds.length + dels.length;
  }
  invalidate(): void {}
}

class FakeRules implements IpvsRulesWriter {
  writes: Array<{ ctx: IpvsRulesContext; jumps: boolean }> = [];
  /** Whether the "kernel" still has the chains as written (a test flushes them). */
  held = false;
  async write(ctx: IpvsRulesContext, checkJumps: boolean): Promise<void> {
    this.writes.push({ ctx, jumps: checkJumps });
    this.held = true;
  }
  async intact(): Promise<boolean> {
    return this.held;
  }
}

function setup(over: { scheduler?: string; excludeCIDRs?: string[] } = {}) {
  const table = new FakeIpvsTable();
  const ipset = new FakeIpset();
  const device = new FakeDevice();
  const rules = new FakeRules();
  const backend = new IpvsBackend({
    family: 4,
    log: silentLogger,
    scheduler: over.scheduler ?? 'rr',
    excludeCIDRs: over.excludeCIDRs ?? [],
    masqueradeBit: 14,
    tcpBeLiberal: false,
    table,
    ipsets: new IpsetSync(4, ipset.run),
    device,
    rules,
    nodeAddresses: () => ({ nodeIPs: ['192.168.1.10'], local: new Set(['192.168.1.10', '127.0.0.1', '203.0.113.9']) }),
  });
  return { table, ipset, device, rules, backend };
}

const sync = (b: IpvsBackend, plans: PlanSet, changed: string[] | 'full' = 'full') =>
  b.sync({ family: 4, plans, changed: new Set(changed === 'full' ? [] : changed), full: changed === 'full', nodePortAddresses: [] });

const web = plan('default', 'web', {
  clusterIP: '10.96.0.10',
  port: 80,
  nodePort: 30080,
  externalIPs: ['198.51.100.7', '203.0.113.9'],
  clusterEndpoints: [ep('10.244.1.2', 8080, { isLocal: true, nodeName: 'node1' }), ep('10.244.2.2', 8080)],
  localEndpoints: [ep('10.244.1.2', 8080, { isLocal: true, nodeName: 'node1' })],
});

t.test('a service: virtual servers for the ClusterIP, external IPs and node IP × nodePort', async (t) => {
  const { table, backend, device, ipset, rules } = setup();
  const r = await sync(backend, planSet(web));
  t.same(table.text(), [
    'tcp/10.96.0.10/80 rr',
    '  -> 10.244.1.2:8080 1',
    '  -> 10.244.2.2:8080 1',
    'tcp/192.168.1.10/30080 rr',
    '  -> 10.244.1.2:8080 1',
    '  -> 10.244.2.2:8080 1',
    'tcp/198.51.100.7/80 rr',
    '  -> 10.244.1.2:8080 1',
    '  -> 10.244.2.2:8080 1',
    'tcp/203.0.113.9/80 rr',
    '  -> 10.244.1.2:8080 1',
    '  -> 10.244.2.2:8080 1',
  ]);
  t.same([...device.held].sort(), ['10.96.0.10', '198.51.100.7'], 'an external IP already on an interface is not bound to kube-ipvs0');
  t.same([...ipset.sets.get('KUBE-CLUSTER-IP')!], ['10.96.0.10,tcp:80']);
  t.same([...ipset.sets.get('KUBE-EXTERNAL-IP')!].sort(), ['198.51.100.7,tcp:80', '203.0.113.9,tcp:80']);
  t.same([...ipset.sets.get('KUBE-NODE-PORT-TCP')!], ['30080']);
  t.same([...ipset.sets.get('KUBE-LOOP-BACK')!], ['10.244.1.2,tcp:8080,10.244.1.2'], 'hairpin for the local endpoint only');
  t.same([...ipset.sets.get('KUBE-IPVS-IPS')!].sort(), ['10.96.0.10', '198.51.100.7']);
  t.equal(ipset.restores.length, 1, 'one ipset restore per sync');
  t.equal(rules.writes.length, 1);
  t.equal(rules.writes[0].jumps, true, 'a full sync checks the jumps');
  t.equal(r.ruleCount, 4 + 8);
});

t.test('affinity, Local policy, scheduler flags', async (t) => {
  const { table, backend, ipset } = setup({ scheduler: 'mh' });
  const local = plan('default', 'local', {
    clusterIP: '10.96.0.11',
    nodePort: 30081,
    loadBalancerIPs: ['198.51.100.20'],
    affinityTimeoutSeconds: 600,
    externalTraffic: 'local',
    healthCheckNodePort: 32000,
    clusterEndpoints: [ep('10.244.1.2', 8080, { isLocal: true }), ep('10.244.2.2', 8080)],
    localEndpoints: [ep('10.244.1.2', 8080, { isLocal: true })],
  });
  await sync(backend, planSet(local));
  t.same(table.text(), [
    'tcp/10.96.0.11/80 mh persistent 600',
    '  -> 10.244.1.2:8080 1',
    '  -> 10.244.2.2:8080 1',
    'tcp/192.168.1.10/30081 mh persistent 600',
    '  -> 10.244.1.2:8080 1',
    'tcp/198.51.100.20/80 mh persistent 600',
    '  -> 10.244.1.2:8080 1',
  ], 'external traffic to local endpoints only; ClusterIP to all');
  t.equal(table.services.get('tcp/10.96.0.11/80')!.service.flags, 0x1 | 0x10, 'persistent + mh-port');
  t.same([...ipset.sets.get('KUBE-NODE-PORT-LOCAL-TCP')!], ['30081']);
  t.same([...ipset.sets.get('KUBE-LOAD-BALANCER-LOCAL')!], ['198.51.100.20,tcp:80']);
  t.same([...ipset.sets.get('KUBE-HEALTH-CHECK-NODE-PORT')!], ['32000']);
});

t.test('Local policy with endpoints only on other nodes: its external addresses in the drop set, matched before any ACCEPT', async (t) => {
  const { backend, ipset } = setup();
  const elsewhere = plan('default', 'elsewhere', {
    clusterIP: '10.96.0.40',
    nodePort: 30085,
    loadBalancerIPs: ['198.51.100.40'],
    externalTraffic: 'local',
    clusterEndpoints: [ep('10.244.2.2', 8080)],
    localEndpoints: [],
  });
  t.equal(elsewhere.noEndpoints.external, 'drop', 'the plan says drop');
  await sync(backend, planSet(elsewhere, web));
  t.same([...ipset.sets.get('KUBE-NO-LOCAL-ENDPOINTS')!].sort(), ['192.168.1.10,tcp:30085', '198.51.100.40,tcp:80'], 'the LB IP and node IP × nodePort; not the ClusterIP (Cluster policy inside)');
  await sync(backend, planSet(plan('default', 'elsewhere', { ...elsewhere, localEndpoints: [ep('10.244.1.2', 8080, { isLocal: true })] }), web), [planKey(elsewhere)]);
  t.same([...ipset.sets.get('KUBE-NO-LOCAL-ENDPOINTS')!], [], 'a local endpoint appears: no longer dropped');
  const filter = ipvsRulesText({ family: 4, masqMark: '0x4000', masqueradeAll: false, clusterCIDRs: [], nodePortAddresses: [], tcpBeLiberal: false }).split('\n');
  const drop = filter.findIndex((l) => l.includes('--match-set KUBE-NO-LOCAL-ENDPOINTS dst,dst -j DROP'));
  t.ok(drop > 0 && filter[drop].startsWith('-A KUBE-PROXY-FIREWALL'), 'dropped in KUBE-PROXY-FIREWALL, the first jump of INPUT and FORWARD');
});

t.test('a partial sync sends only the changed service, with no dump', async (t) => {
  const { table, backend, ipset } = setup();
  const other = plan('default', 'other', { clusterIP: '10.96.0.20', clusterEndpoints: [ep('10.244.2.9', 80)] });
  await sync(backend, planSet(web, other));
  const rt = table.roundTrips;
  const changed = plan('default', 'other', { clusterIP: '10.96.0.20', clusterEndpoints: [ep('10.244.2.9', 80), ep('10.244.3.9', 80)] });
  await sync(backend, planSet(web, changed), [planKey(changed)]);
  t.equal(table.roundTrips - rt, 1, 'one batch');
  t.same(table.log.at(-1), { op: 'add-dest', service: table.services.get('tcp/10.96.0.20/80')!.service, dest: { address: '10.244.3.9', port: 80, weight: 1 } });
  t.equal(ipset.restores.length, 1, 'no ipset restore when no entry changed');
  // The service goes: its virtual server, address and set entries with it.
  await sync(backend, planSet(web), [planKey(changed)]);
  t.notOk(table.services.has('tcp/10.96.0.20/80'));
  t.notOk(ipset.sets.get('KUBE-CLUSTER-IP')!.has('10.96.0.20,tcp:80'));
  t.match(ipset.restores.at(-1), /^del KUBE-CLUSTER-IP 10\.96\.0\.20,tcp:80$/m);
});

t.test('LB source ranges: the firewall set, and the node through its own LB IP (k/k#119656)', async (t) => {
  const { backend, ipset } = setup();
  const lb = plan('default', 'lb', {
    clusterIP: '10.96.0.30',
    loadBalancerIPs: ['198.51.100.30'],
    loadBalancerSourceRanges: ['203.0.113.0/24', '192.168.1.10/32'],
    loadBalancerSourceRangesIncludeNode: true,
    clusterEndpoints: [ep('10.244.2.2', 8080)],
  });
  await sync(backend, planSet(lb));
  t.same([...ipset.sets.get('KUBE-LOAD-BALANCER-FW')!], ['198.51.100.30,tcp:80']);
  t.same([...ipset.sets.get('KUBE-LOAD-BALANCER-SOURCE-CIDR')!].sort(), [
    '198.51.100.30,tcp:80,192.168.1.10',
    '198.51.100.30,tcp:80,198.51.100.30',
    '198.51.100.30,tcp:80,203.0.113.0/24',
  ]);
});

t.test('a failed ipset restore fails the sync as a counted restore failure; the next sync reads the sets again', async (t) => {
  const { backend, ipset } = setup();
  ipset.fail = true;
  await t.rejects(sync(backend, planSet(web)), { code: 'ERR_PROXY_SYNC', kind: 'restore', message: /ipset restore failed: .*set type not supported/ });
  ipset.fail = false;
  await sync(backend, planSet(web));
  t.ok(ipset.sets.get('KUBE-CLUSTER-IP')!.has('10.96.0.10,tcp:80'));
});

t.test('intact(): a flushed IPVS table is found, and the next sync dumps and repairs it', async (t) => {
  const { table, backend } = setup();
  await sync(backend, planSet(web));
  t.equal(await backend.intact(), true);
  await table.flush();
  t.equal(await backend.intact(), false);
  await sync(backend, planSet(web), []);
  t.equal(table.services.size, 4);
});

t.test('intact(): a deleted real server, a kube-ipvs0 address, a set entry or the chains are each found, and a full sync repairs them', async (t) => {
  const { table, backend, device, ipset, rules } = setup();
  await sync(backend, planSet(web));
  const clusterIP = table.services.get('tcp/10.96.0.10/80')!.service;
  const damages: Array<[string, () => void, () => boolean]> = [
    ['real server', () => void table.apply([{ op: 'delete-dest', service: clusterIP, dest: { address: '10.244.2.2', port: 8080 } }]), () => table.services.get('tcp/10.96.0.10/80')!.dests.size === 2],
    ['kube-ipvs0 address', () => device.held.delete('10.96.0.10'), () => device.held.has('10.96.0.10')],
    ['set entry', () => ipset.sets.get('KUBE-CLUSTER-IP')!.clear(), () => ipset.sets.get('KUBE-CLUSTER-IP')!.has('10.96.0.10,tcp:80')],
    ['chains', () => (rules.held = false), () => rules.held],
  ];
  for (const [what, damage, repaired] of damages) {
    t.equal(await backend.intact(), true, `${what}: intact before`);
    damage();
    t.equal(await backend.intact(), false, `${what}: the damage is found`);
    await sync(backend, planSet(web));
    t.ok(repaired(), `${what}: repaired by the full sync`);
    t.equal(await backend.intact(), true, `${what}: intact after`);
  }
});

t.test('excludeCIDRs: virtual servers there are kept', async (t) => {
  const { table, backend } = setup({ excludeCIDRs: ['192.168.50.0/24'] });
  await table.apply([{ op: 'add-service', service: { family: 4, protocol: 'tcp', address: '192.168.50.5', port: 443, scheduler: 'wrr', flags: 0, timeout: 0 } }, { op: 'add-service', service: { family: 4, protocol: 'tcp', address: '10.96.99.99', port: 80, scheduler: 'rr', flags: 0, timeout: 0 } }]);
  await sync(backend, planSet(web));
  t.ok(table.services.has('tcp/192.168.50.5/443'), 'excluded: kept');
  t.notOk(table.services.has('tcp/10.96.99.99/80'), 'a stale one of ours: gone');
});

t.test('ipset restore input: creates once, adds and deletes only the difference, IPv6 names', async (t) => {
  const wanted = new Map([[SET.clusterIP, new Set(['fd00::10,tcp:80'])]]);
  const first = restoreInput(6, undefined, wanted);
  t.match(first, /^create KUBE-6-CLUSTER-IP hash:ip,port family inet6 hashsize 1024 maxelem 65536$/m);
  t.match(first, /^create KUBE-6-NODE-PORT-TCP bitmap:port range 0-65535$/m);
  t.match(first, /^create KUBE-6-LOAD-BALANCER-SOURCE-CID hash:ip,port,net/m, "cut at the kernel's 31 characters, as kube-proxy");
  t.match(first, /^add KUBE-6-CLUSTER-IP fd00::10,tcp:80$/m);
  const known = parseSave(first.replace(/^create (\S+) .*$/gm, 'create $1 x'));
  t.equal(restoreInput(6, known, wanted), '', 'nothing to do');
  t.equal(setName(SET.nodePortLocalSCTP, 6), 'KUBE-6-NODE-PORT-LOCAL-SCTP-HAS');
});

t.test('the iptables rules match sets, never services: their number does not grow', async (t) => {
  const text = ipvsRulesText({ family: 4, masqMark: '0x4000', masqueradeAll: false, clusterCIDRs: ['10.244.0.0/16'], nodePortAddresses: [], tcpBeLiberal: false });
  t.match(text, /-A KUBE-SERVICES ! -s 10\.244\.0\.0\/16 .*--match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ/);
  t.match(text, /-A KUBE-POSTROUTING .*--match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE/);
  t.match(text, /-A KUBE-NODE-PORT -p tcp -m addrtype --dst-type LOCAL -m set --match-set KUBE-NODE-PORT-TCP dst -j ACCEPT/, 'NodePorts accepted whatever the INPUT policy (k/k#98465)');
  t.match(text, /-A KUBE-IPVS-FILTER .*--ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT/, 'other ports of service IPs rejected (k/k#72236)');
  t.match(text, /-A KUBE-SOURCE-RANGES-FIREWALL -m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN\n-A KUBE-SOURCE-RANGES-FIREWALL -j DROP/);
  const v6 = ipvsRulesText({ family: 6, masqMark: '0x4000', masqueradeAll: true, clusterCIDRs: [], nodePortAddresses: ['fd00::1'], tcpBeLiberal: true });
  t.match(v6, /--match-set KUBE-6-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ/);
  t.match(v6, /-A KUBE-SERVICES -d fd00::1 -j KUBE-NODE-PORT/);
  t.notMatch(v6, /INVALID/, 'tcpBeLiberal: no INVALID drop');
});
