// The nftables backend's life: partial syncs, a restart that adopts the
// table under a request loop, someone else changing the table, cleanup.

import t from 'tap';
import { eventually, rootSkip } from '../../helpers/netns.ts';
import { ep, plan, planSet } from '../../unit/iptables/plans.ts';
import { planKey } from '../../../src/proxier/plan.ts';
import { NODE_IP, buildTopology, curlCode, get, requestLoop } from '../iptables/topology.ts';
import { NftDriver } from './nft-driver.ts';

const local = (ip: string, port = 8080) => ep(ip, port, { isLocal: true, nodeName: 'node1' });
const pods = (list: string[]) => [...new Set(list.map((b) => b.split(' ')[0]))].sort();

const web = plan('default', 'web', { clusterIP: '10.96.0.10', nodePort: 30080, clusterEndpoints: [local('10.244.1.2'), local('10.244.2.2')] });
const sticky = plan('default', 'sticky', { clusterIP: '10.96.0.13', affinityTimeoutSeconds: 600, clusterEndpoints: [local('10.244.1.2'), local('10.244.2.2')] });

const table = (topo: { node: { exec(c: string, a: string[]): Promise<string> } }) => topo.node.exec('nft', ['list', 'table', 'ip', 'netlet']);

t.test('partial syncs: an endpoint removed, a service deleted, the rest untouched', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('nft');
  t.teardown(() => topo.lab.cleanup());
  const driver = new NftDriver(topo);
  const plans = planSet(web, sticky);
  await driver.sync(plans, { full: true });
  t.same(pods(await Promise.all(Array.from({ length: 20 }, () => get(topo.cpod, 'http://10.96.0.10/')))), ['pod1', 'pod2'], 'both endpoints at first');
  // One request first: concurrent first connections can each miss the affinity entry (as with kube-proxy's rules).
  const stuckTo = pods([await get(topo.cpod, 'http://10.96.0.13/')]);

  const oneLeft = plan('default', 'web', { clusterIP: '10.96.0.10', nodePort: 30080, clusterEndpoints: [local('10.244.2.2')] });
  plans.set(planKey(oneLeft), oneLeft);
  await driver.sync(plans, { changed: [planKey(oneLeft)] });
  const after: string[] = [];
  for (let i = 0; i < 15; i++) after.push(await get(topo.cpod, 'http://10.96.0.10/'));
  t.same(pods(after), ['pod2'], 'the removed endpoint gets no new connection');
  t.match(await table(topo), /chain pick-tcp-1 /, 'the one-endpoint pick chain was added by the partial sync');
  t.same(pods(await Promise.all(Array.from({ length: 8 }, () => get(topo.cpod, 'http://10.96.0.13/')))), stuckTo, 'the untouched sticky service still sticks to the same pod');

  plans.delete(planKey(sticky));
  await driver.sync(plans, { changed: [planKey(sticky)] });
  t.not((await curlCode(topo.cpod, 'http://10.96.0.13/', 1)).code, 0, 'a deleted service no longer answers');
  t.notMatch(await table(topo), /sticky/, "and its own chains and affinity sets are gone");
  t.match(await get(topo.cpod, 'http://10.96.0.10/'), /^pod2 /, 'web still served');
});

t.test('an endpoint replaced (an element-only partial sync: one netlink batch): ClusterIP and NodePort follow it', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('nft');
  t.teardown(() => topo.lab.cleanup());
  const driver = new NftDriver(topo);
  const one = plan('default', 'one', { clusterIP: '10.96.0.20', nodePort: 30081, clusterEndpoints: [local('10.244.1.2')] });
  const plans = planSet(one);
  await driver.sync(plans, { full: true });
  t.match(await get(topo.cpod, 'http://10.96.0.20/'), /^pod1 /);

  const moved = plan('default', 'one', { clusterIP: '10.96.0.20', nodePort: 30081, clusterEndpoints: [local('10.244.2.2')] });
  plans.set(planKey(moved), moved);
  await driver.sync(plans, { changed: [planKey(moved)] });
  const answers = await Promise.all(Array.from({ length: 10 }, () => get(topo.cpod, 'http://10.96.0.20/')));
  t.same(pods(answers), ['pod2'], 'every new connection to the ClusterIP goes to the new endpoint');
  t.match(await get(topo.ext, `http://${NODE_IP}:30081/`), /^pod2 /, 'and the NodePort from outside');
  const listing = await topo.node.exec('nft', ['list', 'map', 'ip', 'netlet', 'endpoints-tcp-1']);
  t.match(listing, /10\.96\.0\.20 \. 80 \. 0 : 10\.244\.2\.2 \. 8080/);
  t.notMatch(listing, /10\.244\.1\.2/, 'the old endpoint element is gone');
});

t.test('a restarted backend adopts the table without a flush, under a request loop', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('nft');
  t.teardown(() => topo.lab.cleanup());
  // Someone else's table, which netlet must leave alone.
  await topo.node.exec('nft', ['-f', '-'], { input: 'table ip foreign {\n chain post { type nat hook postrouting priority 100; ip saddr 172.17.0.0/16 masquerade; }\n}\n' });
  const first = new NftDriver(topo);
  await first.sync(planSet(web, sticky), { full: true });
  first.stop();

  const loop = requestLoop(topo.cpod, 'http://10.96.0.10/');
  const second = new NftDriver(topo);
  await second.sync(planSet(web), { full: true });
  await eventually(() => loop.requests >= 5, 10_000);
  await loop.stop();
  t.equal(loop.failures, 0, `no request failed across the restart (${loop.requests} requests)`);

  const text = await table(topo);
  t.notMatch(text, /sticky/, 'the service that went away while the agent was down lost its chains and sets');
  t.notMatch(text, /10\.96\.0\.13/, 'and its elements');
  t.equal(text.match(/jump services/g)?.length, 2, 'hooks not duplicated (prerouting + output)');
  t.match(await topo.node.exec('nft', ['list', 'table', 'ip', 'foreign']), /172\.17\.0\.0\/16 masquerade/, "the foreign table is untouched");
  // A second full sync over the same table writes the same thing.
  await second.sync(planSet(web), { full: true });
  t.equal(await table(topo), text, 'a full sync over its own result changes nothing');
});

t.test('intact(): a flushed or deleted table is seen and a full sync repairs it; cleanup removes only netlet', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('nft');
  t.teardown(() => topo.lab.cleanup());
  await topo.node.exec('nft', ['add', 'table', 'ip', 'foreign']);
  const driver = new NftDriver(topo);
  const plans = planSet(web);
  await driver.sync(plans, { full: true });
  t.equal(await driver.intact(), true, 'intact after a sync');

  await topo.node.exec('nft', ['flush', 'table', 'ip', 'netlet']);
  t.not((await curlCode(topo.cpod, 'http://10.96.0.10/', 1)).code, 0, 'the service is down without its rules');
  t.equal(await driver.intact(), false, 'a flushed table is seen');
  await driver.sync(plans, { full: true });
  t.equal(await driver.intact(), true, 'and repaired by the full sync');
  t.match(await get(topo.cpod, 'http://10.96.0.10/'), /^pod[12] /, 'served again');

  // One chain flushed, the table and its sets still there: seen on the very next poll (a rule dump, no nft listing).
  for (const chain of ['services', 'pick-tcp-2', 'nat-postrouting']) {
    await topo.node.exec('nft', ['flush', 'chain', 'ip', 'netlet', chain]);
    t.equal(await driver.intact(), false, `the ${chain} chain flushed is seen on the next poll`);
    await driver.sync(plans, { full: true });
    t.equal(await driver.intact(), true, `and repaired (${chain})`);
  }

  await topo.node.exec('nft', ['delete', 'table', 'ip', 'netlet']);
  t.equal(await driver.intact(), false, 'a deleted table (nft flush ruleset, a firewall reload) is seen');
  await driver.sync(plans, { full: true });
  t.match(await get(topo.cpod, 'http://10.96.0.10/'), /^pod[12] /, 'served again after the full sync');

  await driver.cleanup();
  const tables = await topo.node.exec('nft', ['list', 'tables']);
  t.notMatch(tables, /netlet/, 'cleanup removed the table');
  t.match(tables, /table ip foreign/, 'and left the foreign one');
});

t.test('bad input: nft refuses the whole transaction, nothing changes, the next full sync is clean', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('nft');
  t.teardown(() => topo.lab.cleanup());
  const driver = new NftDriver(topo);
  const plans = planSet(web);
  await driver.sync(plans, { full: true });
  const before = await table(topo);
  const bad = plan('default', 'bad', { clusterIP: '10.96.0.999', clusterEndpoints: [local('10.244.1.2')] });
  plans.set(planKey(bad), bad);
  await t.rejects(driver.sync(plans, { changed: [planKey(bad)] }), /nft -f failed[\s\S]*10\.96\.0\.999/, "nft's message names the bad element");
  t.equal(await table(topo), before, 'the failed transaction changed nothing');
  t.match(await get(topo.cpod, 'http://10.96.0.10/'), /^pod[12] /, 'still served');
  plans.delete(planKey(bad));
  await driver.sync(plans, { full: true });
  t.equal(await table(topo), before, 'the next full sync writes the same table');

  // Two services with one external IP and port: the kernel would refuse the second value for the key, and every sync with it.
  const a = plan('default', 'a', { clusterIP: '10.96.0.41', externalIPs: ['192.0.2.9'], clusterEndpoints: [local('10.244.1.2')] });
  const b = plan('default', 'b', { clusterIP: '10.96.0.42', externalIPs: ['192.0.2.9'], clusterEndpoints: [local('10.244.2.2'), local('10.244.1.2')] });
  plans.set(planKey(a), a);
  plans.set(planKey(b), b);
  await driver.sync(plans, { full: true });
  const text = await table(topo);
  t.equal(text.match(/192\.0\.2\.9 \. tcp \. 80 :/g)?.length, 1, 'a contested address: one element, the full sync lands');
  t.match(text, /10\.96\.0\.41 \. tcp \. 80/, 'the first service by key keeps it');
  t.notMatch(text, /10\.96\.0\.42/, 'the other is left out');
  t.match(await get(topo.cpod, 'http://10.96.0.10/'), /^pod[12] /, 'and the rest is served');
});

t.test('a periodic full sync removes the services gone since, their sets and unused pick maps', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('nft');
  t.teardown(() => topo.lab.cleanup());
  const driver = new NftDriver(topo);
  const three = plan('default', 'three', { clusterIP: '10.96.0.32', clusterEndpoints: [local('10.244.1.2'), local('10.244.2.2'), local('10.244.3.2')] });
  await driver.sync(planSet(web, sticky, three), { full: true });
  t.match(await table(topo), /map endpoints-tcp-3 /);
  await driver.sync(planSet(web), { full: true });
  const text = await table(topo);
  t.notMatch(text, /sticky|10\.96\.0\.13|10\.96\.0\.32/, "the gone services' chains, sets and elements");
  t.notMatch(text, /endpoints-tcp-3|pick-tcp-3/, 'the pick group no service uses');
  t.match(await get(topo.cpod, 'http://10.96.0.10/'), /^pod[12] /, 'web still served');
});
