// The iptables backend against the real kernel: plans built by hand, synced
// by a backend inside a node namespace, real TCP traffic from pod and
// external-client namespaces (topology.ts).

import t from 'tap';
import { rootSkip, eventually } from '../../helpers/netns.ts';
import { plan, planSet } from '../../unit/iptables/plans.ts';
import { planKey } from '../../../src/proxier/plan.ts';
import { svcChain } from '../../../src/iptables/chain-names.ts';
import { Driver, buildTopology, curlCode, get, requestLoop } from './topology.ts';
import { bodies, checkDataPath, checkTrace, empty, local, onlyLocal, pods, sticky, web } from '../proxier/data-path.ts';

for (const mode of ['nft', 'legacy'] as const) {
  t.test(`data path through ${mode} rules`, { skip: rootSkip() }, async (t) => {
    const topo = await buildTopology('ipt');
    t.teardown(() => topo.lab.cleanup());
    const driver = new Driver(topo, mode);
    const plans = planSet(web, empty, sticky, onlyLocal);
    await driver.sync(plans, { full: true });

    await checkDataPath(t, topo, { stickyAndLocal: mode === 'nft' });
  });
}

t.test('partial sync rewrites only the changed service', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('ipt');
  t.teardown(() => topo.lab.cleanup());
  const driver = new Driver(topo, 'nft');
  const plans = planSet(web, sticky);
  await driver.sync(plans, { full: true });
  await bodies(topo.cpod, 'http://10.96.0.10/', 5);

  const webChain = svcChain('default/web:http', 'tcp');
  const countersOf = async (chain: string) =>
    (await topo.node.exec('iptables-nft-save', ['-c', '-t', 'nat'])).split('\n').filter((l) => l.includes(`-A ${chain} `));
  const before = await countersOf(webChain);
  t.ok(before.some((l) => !l.startsWith('[0:0]')), 'traffic counted on the web service chain');

  // Only "sticky" changes: one endpoint goes away.
  const changed = plan('default', 'sticky', { clusterIP: '10.96.0.13', affinityTimeoutSeconds: 600, clusterEndpoints: [local('10.244.2.2')] });
  plans.set(planKey(changed), changed);
  await driver.sync(plans, { changed: [planKey(changed)] });
  t.same(await countersOf(webChain), before, 'the unchanged service chain was not rewritten (its counters survive)');
  t.same(pods(await bodies(topo.cpod, 'http://10.96.0.13/', 6)), ['pod2'], 'the changed service uses its new endpoint only');
  const nat = await topo.node.exec('iptables-nft-save', ['-t', 'nat']);
  t.equal(nat.match(/^:KUBE-SEP-/gm)?.length, 3, 'the removed endpoint chain is deleted (2 web + 1 sticky left)');
});

// Legacy's full sync writes its one restore as it is rendered (render-sync.ts, streamed).
for (const mode of ['nft', 'legacy'] as const) {
  t.test(`${mode}: a restarted backend adopts the rules without a flush and removes stale ones`, { skip: rootSkip() }, async (t) => {
    const topo = await buildTopology('ipt');
    t.teardown(() => topo.lab.cleanup());
    await topo.node.exec(`iptables-${mode}`, ['-t', 'nat', '-A', 'POSTROUTING', '-s', '172.17.0.0/16', '-j', 'MASQUERADE']);
    const first = new Driver(topo, mode);
    await first.sync(planSet(web, sticky), { full: true });
    first.stop();

    // Requests keep flowing while the second instance starts and resyncs.
    const loop = requestLoop(topo.cpod, 'http://10.96.0.10/');
    const second = new Driver(topo, mode);
    await second.sync(planSet(web), { full: true });
    await eventually(() => loop.requests >= 5, 10_000);
    await loop.stop();
    t.equal(loop.failures, 0, `no request failed across the restart (${loop.requests} requests)`);

    const nat = await topo.node.exec(`iptables-${mode}-save`, ['-t', 'nat']);
    t.notMatch(nat, new RegExp(svcChain('default/sticky:http', 'tcp')), "the service that went away while the agent was down lost its chains");
    t.match(nat, /-A POSTROUTING -s 172\.17\.0\.0\/16 -j MASQUERADE/, 'a foreign rule survives');
    t.equal(nat.match(/-j KUBE-SERVICES/g)?.length, 2, 'jumps not duplicated (PREROUTING + OUTPUT)');

    t.match(await topo.node.exec(`iptables-${mode}-save`, ['-t', 'mangle']), /:KUBE-PROXY-CANARY /, 'the full sync put the canary in mangle too');
    await second.cleanup();
    const after = await topo.node.exec(`iptables-${mode}-save`, ['-t', 'nat']);
    t.notMatch(after, /KUBE-/, 'cleanup removed every chain and jump of ours');
    t.notMatch(await topo.node.exec(`iptables-${mode}-save`, ['-t', 'mangle']), /KUBE-PROXY-CANARY/, "and mangle's canary");
    t.match(after, /-A POSTROUTING -s 172\.17\.0\.0\/16 -j MASQUERADE/, 'and left the foreign rule');
  });
}

for (const mode of ['nft', 'legacy'] as const) {
  t.test(`${mode}: a periodic full sync deletes the chains of services gone since, and chains nobody uses`, { skip: rootSkip() }, async (t) => {
    const topo = await buildTopology('ipt');
    t.teardown(() => topo.lab.cleanup());
    const driver = new Driver(topo, mode);
    await driver.sync(planSet(web, sticky), { full: true });
    // Left by someone else (or an older netlet) while this one runs.
    await topo.node.exec(`iptables-${mode}`, ['-t', 'nat', '-N', 'KUBE-SEP-LEFTOVER0000000']);
    await driver.sync(planSet(web), { full: true });
    const nat = await topo.node.exec(`iptables-${mode}-save`, ['-t', 'nat']);
    t.notMatch(nat, new RegExp(svcChain('default/sticky:http', 'tcp')), "the removed service's chains are gone");
    t.notMatch(nat, /KUBE-SEP-LEFTOVER/, 'so is the chain no plan uses');
    t.equal(nat.match(/^:KUBE-SEP-/gm)?.length, 2, "web's two endpoint chains stay");
    t.match(await get(topo.cpod, 'http://10.96.0.10/'), /^pod[12] /, 'web still served');
  });
}

t.test('legacy: a streamed full sync that fails applies none of it and shows the line', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('ipt');
  t.teardown(() => topo.lab.cleanup());
  const driver = new Driver(topo, 'legacy');
  // Enough plans that the input goes out in several pieces before the bad one.
  const fillers = Array.from({ length: 300 }, (_, i) => plan('default', `f${i}`, { clusterIP: `10.96.${2 + (i >> 8)}.${i & 255}`, clusterEndpoints: [local('10.244.1.2')] }));
  const plans = planSet(web, ...fillers);
  await driver.sync(plans, { full: true });
  t.match(await get(topo.cpod, 'http://10.96.0.10/'), /^pod[12] /, 'served');
  const before = await topo.node.exec('iptables-legacy-save', ['-t', 'nat']);

  const bad = plan('default', 'zbad', { clusterIP: '10.96.0.999', clusterEndpoints: [local('10.244.1.2')] });
  plans.set(planKey(bad), bad);
  await t.rejects(
    driver.sync(plans, { full: true }),
    /iptables-legacy-restore failed[\s\S]*around line \d+:[\s\S]*-d 10\.96\.0\.999/,
    'the error quotes the lines around the one that failed',
  );
  const after = await topo.node.exec('iptables-legacy-save', ['-t', 'nat']);
  const rules = (s: string) => s.split('\n').filter((l) => l.startsWith('-A')).join('\n');
  t.equal(rules(after), rules(before), 'the failed restore changed nothing');
  t.match(await get(topo.cpod, 'http://10.96.0.10/'), /^pod[12] /, 'still served');
  plans.delete(planKey(bad));
  await driver.sync(plans, { full: true });
  t.equal(rules(await topo.node.exec('iptables-legacy-save', ['-t', 'nat'])), rules(before), 'the next full sync writes the same rules again');
});

t.test('IPv6 ClusterIP', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('ipt');
  t.teardown(() => topo.lab.cleanup());
  const driver = new Driver(topo, 'nft', 6);
  const v6 = plan('default', 'web6', {
    family: 6,
    clusterIP: 'fd00:96::10',
    clusterCIDRs: ['fd00:244::/32'],
    clusterEndpoints: [local('fd00:244:1::2'), local('fd00:244:2::2')],
  });
  await driver.sync(planSet(v6), { full: true });
  // The first packets may wait for IPv6 neighbour discovery on the fresh veths.
  await eventually(() => get(topo.cpod, 'http://[fd00:96::10]/'), 10_000, 200);
  const got = await bodies(topo.cpod, 'http://[fd00:96::10]/', 20);
  t.same(pods(got), ['pod1', 'pod2'], 'both IPv6 endpoints reached through ip6tables');
  t.ok(got.every((b) => b.endsWith(' fd00:244:3::2')), `pod source kept (${got[0]})`);
  // The IPv6 canaries: in ip6tables' mangle, nat and filter, and a mangle flush is noticed.
  for (const table of ['mangle', 'nat', 'filter']) {
    t.match(await topo.node.exec('ip6tables-nft-save', ['-t', table]), /:KUBE-PROXY-CANARY /, `IPv6 canary in ${table}`);
  }
  t.equal(await driver.intact(), true, 'IPv6 rules intact');
  await topo.node.exec('ip6tables-nft', ['-t', 'mangle', '-X', 'KUBE-PROXY-CANARY']);
  t.equal(await driver.intact(), false, 'the IPv6 mangle canary gone is seen');
  await driver.cleanup();
  for (const table of ['mangle', 'nat', 'filter']) {
    t.notMatch(await topo.node.exec('ip6tables-nft-save', ['-t', table]), /KUBE-/, `IPv6 cleanup leaves nothing of ours in ${table}`);
  }
});

t.test('recovery: deleted chains come back on the next sync; bad input loses nothing', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('ipt');
  t.teardown(() => topo.lab.cleanup());
  const driver = new Driver(topo, 'nft');
  const plans = planSet(web);
  await driver.sync(plans, { full: true });
  t.match(await get(topo.cpod, 'http://10.96.0.10/'), /^pod[12] /, 'served');

  // Someone wipes the nat table (a firewall reload). The canary check (polled by the
  // proxier apart from syncs) notices, and the full sync it queues puts everything back.
  t.equal(await driver.intact(), true, 'canary there after a sync');
  await topo.node.exec('iptables-nft', ['-t', 'nat', '-F']);
  await topo.node.exec('iptables-nft', ['-t', 'nat', '-X']);
  t.not((await curlCode(topo.cpod, 'http://10.96.0.10/', 1)).code, 0, 'the service is down without its rules');
  t.equal(await driver.intact(), false, 'the canary check sees the flush');
  await driver.sync(plans, { full: true });
  t.equal(await driver.intact(), true, 'canary back after the full sync');
  // Only filter's chains deleted (its jumps go with them) is noticed too.
  await topo.node.exec('iptables-nft', ['-t', 'filter', '-F']);
  await topo.node.exec('iptables-nft', ['-t', 'filter', '-X']);
  t.equal(await driver.intact(), false, 'a flushed filter table is seen too');
  await driver.sync(plans, { full: true });
  t.equal(await driver.intact(), true, 'and repaired by the full sync');
  // kube-proxy's Monitor polls mangle's canary first; a mangle flush alone is seen as well.
  await topo.node.exec('iptables-nft', ['-t', 'mangle', '-F']);
  await topo.node.exec('iptables-nft', ['-t', 'mangle', '-X']);
  t.equal(await driver.intact(), false, 'a flushed mangle table is seen too');
  await driver.sync(plans, { full: true });
  t.equal(await driver.intact(), true, 'and its canary put back by the full sync');
  t.match(await topo.node.exec('iptables-nft-save', ['-t', 'mangle']), /:KUBE-PROXY-CANARY /, 'the mangle canary is there again');
  t.match(await get(topo.cpod, 'http://10.96.0.10/'), /^pod[12] /, 'served again after the full sync');

  const before = await topo.node.exec('iptables-nft-save', ['-t', 'nat']);
  const bad = plan('default', 'bad', { clusterIP: '10.96.0.999', clusterEndpoints: [local('10.244.1.2')] });
  plans.set(planKey(bad), bad);
  await t.rejects(driver.sync(plans, { changed: [planKey(bad)] }), /iptables-nft-restore failed[\s\S]*10\.96\.0\.999/, 'the error shows the offending rule');
  const after = await topo.node.exec('iptables-nft-save', ['-t', 'nat']);
  const rules = (s: string) => s.split('\n').filter((l) => l.startsWith('-A')).join('\n');
  t.equal(rules(after), rules(before), 'the failed restore changed nothing');
  t.match(await get(topo.cpod, 'http://10.96.0.10/'), /^pod[12] /, 'still served');
});

t.test('netlet trace reads the live rules (iptables-save format) and agrees with real traffic', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('ipt');
  t.teardown(() => topo.lab.cleanup());
  const driver = new Driver(topo, 'nft');
  await driver.sync(planSet(web, empty, onlyLocal), { full: true });
  await checkTrace(t, topo, []);
});
