// The nftables backend's transactions, with a fake nft: what a full sync, a
// partial sync and an adopting full sync write, and what a failure does.

import t from 'tap';
import { NftablesBackend } from '../../../src/nftables/backend.ts';
import type { NftRunner } from '../../../src/nftables/nft.ts';
import { NftError } from '../../../src/nftables/nft.ts';
import { NoNetlinkSocket } from '../../../src/nftables/element-writer.ts';
import type { ElementChange, ElementWriter } from '../../../src/nftables/element-writer.ts';
import { BackendSyncError } from '../../../src/proxier/backend.ts';
import { silentLogger } from '../../../src/base/log.ts';
import { planKey } from '../../../src/proxier/plan.ts';
import type { PlanSet } from '../../../src/proxier/plan.ts';
import { ep, plan, planSet } from '../iptables/plans.ts';

const local = (ip: string, port = 8080) => ep(ip, port, { isLocal: true, nodeName: 'node1' });

class FakeNft implements NftRunner {
  scripts: string[] = [];
  /** What `nft -t list table` prints; undefined: no table. */
  listing: string | undefined;
  /** What `nft -j list table` prints; undefined: no table. */
  json: string | undefined;
  failNext = false;
  /** The sync-digest element `nft list set` prints; undefined: no such set. */
  digest: string | undefined;
  /** `nft list set` says the table is missing (an empty namespace). */
  noTable = false;
  /** Rules per chain of the table, as the kernel would hold them after the scripts applied (what a rule dump counts). */
  rules = new Map<string, number>();

  calls: string[] = [];

  async run(args: string[], input = '') {
    this.calls.push(args.join(' '));
    if (args[0] === '-f') {
      if (this.failNext) {
        this.failNext = false;
        return { code: 1, stdout: '', stderr: '/dev/stdin:3:1-10: Error: Could not process rule: No such file or directory' };
      }
      this.scripts.push(input);
      this.#apply(input);
      return { code: 0, stdout: '', stderr: '' };
    }
    if (args[0] === '-j') return this.json === undefined ? { code: 1, stdout: '', stderr: 'Error: No such file or directory' } : { code: 0, stdout: this.json, stderr: '' };
    if (args.includes('list') && args.includes('table')) {
      return this.listing === undefined ? { code: 1, stdout: '', stderr: 'Error: No such file or directory' } : { code: 0, stdout: this.listing, stderr: '' };
    }
    if (args.join(' ') === 'list set ip netlet sync-digest') {
      if (this.digest === undefined && this.noTable) return { code: 1, stdout: '', stderr: 'Error: No such file or directory\nlist set ip netlet sync-digest\n            ^^^^^^\n' };
      return this.digest === undefined ? { code: 1, stdout: '', stderr: 'Error: No such file or directory\nlist set ip netlet sync-digest\n                   ^^^^^^^^^^^\n' } : { code: 0, stdout: `table ip netlet {\n\tset sync-digest {\n\t\ttype ipv6_addr\n\t\telements = { ${this.digest} }\n\t}\n}\n`, stderr: '' };
    }
    if (args.join(' ') === 'list chains ip') return { code: 0, stdout: `table ip netlet {\n${[...this.rules.keys()].map((c) => `\tchain ${c} {\n\t}\n`).join('')}}\n`, stderr: '' };
    return { code: 0, stdout: 'table ip netlet {\n\tchain services {\n\t\tip daddr . meta l4proto . th dport vmap @service-ips\n\t\tjump services\n\t}\n}\n', stderr: '' };
  }

  #apply(script: string): void {
    for (const line of script.split('\n')) {
      const [verb, what, , , chain] = line.split(' ');
      if (verb === 'flush' && what === 'chain') this.rules.set(chain, 0);
      else if (verb === 'add' && what === 'chain') this.rules.set(chain, this.rules.get(chain) ?? 0);
      else if (verb === 'add' && what === 'rule') this.rules.set(chain, (this.rules.get(chain) ?? 0) + 1);
      else if (verb === 'delete' && what === 'chain') this.rules.delete(chain);
    }
  }

  /** The backend's RuleCounter over `rules`. */
  ruleCounts = async () => new Map([...this.rules].filter(([, n]) => n > 0));

  get last(): string {
    return this.scripts[this.scripts.length - 1];
  }
}

function setup() {
  const nft = new FakeNft();
  const backend = new NftablesBackend({ family: 4, log: silentLogger, masqueradeBit: 14, tcpBeLiberal: false, nft, ruleCounts: nft.ruleCounts });
  const sync = (plans: PlanSet, opts: { full?: boolean; changed?: string[]; nodePortAddresses?: string[] } = {}) =>
    backend.sync({ family: 4, plans, changed: new Set(opts.changed ?? []), full: opts.full ?? false, nodePortAddresses: opts.nodePortAddresses ?? [] });
  return { nft, backend, sync };
}

const web = plan('default', 'web', { clusterEndpoints: [local('10.244.1.2'), local('10.244.2.2')] });
const other = plan('default', 'other', { clusterIP: '10.96.0.11', clusterEndpoints: [local('10.244.1.2')] });

t.test('a full sync: one transaction with the table, hooks, maps and elements', async (t) => {
  const { nft, sync } = setup();
  const result = await sync(planSet(web, other), { full: true });
  t.equal(nft.scripts.length, 1, 'one nft -f');
  const s = nft.last;
  for (const want of [
    'add table ip netlet',
    'add chain ip netlet nat-prerouting { type nat hook prerouting priority -100; policy accept; }',
    'add chain ip netlet nat-output { type nat hook output priority -100; policy accept; }',
    'add rule ip netlet services ip daddr . meta l4proto . th dport vmap @service-ips',
    'add rule ip netlet services fib daddr type local ip daddr != 127.0.0.0/8 jump nodeports',
    'add rule ip netlet pick-tcp-2 meta l4proto tcp dnat ip to ip daddr . tcp dport . numgen random mod 2 map @endpoints-tcp-2',
    'add element ip netlet service-ips { 10.96.0.10 . tcp . 80 : goto pick-tcp-2, 10.96.0.11 . tcp . 80 : goto pick-tcp-1 }',
    'add rule ip netlet filter-forward ct state invalid drop',
  ]) {
    t.ok(s.includes(`${want}\n`), want);
  }
  t.equal(s.match(/add element ip netlet hairpin \{ [^}]*\}/)?.[0], 'add element ip netlet hairpin { 10.244.1.2 . 10.244.1.2, 10.244.2.2 . 10.244.2.2 }', 'an endpoint shared by two services is one hairpin element');
  t.notMatch(s, /^(flush|delete) table/m, 'never flushes or deletes the table');
  t.ok(s.indexOf('add map ip netlet service-ips') < s.indexOf('vmap @service-ips'), 'maps declared before the rules that read them');
  t.ok(result.ruleCount > 0);
});

t.test('a partial sync writes only the changed plan: its elements, no fixed chain', async (t) => {
  const { nft, sync } = setup();
  const plans = planSet(web, other);
  await sync(plans, { full: true });
  const changed = plan('default', 'web', { clusterEndpoints: [local('10.244.2.2'), local('10.244.3.2')] });
  plans.set(planKey(changed), changed);
  await sync(plans, { changed: [planKey(changed)] });
  t.equal(nft.scripts.length, 2);
  t.equal(
    nft.last,
    [
      'delete element ip netlet endpoints-tcp-2 { 10.96.0.10 . 80 . 0, 10.96.0.10 . 80 . 1 }',
      'add element ip netlet endpoints-tcp-2 { 10.96.0.10 . 80 . 0 : 10.244.2.2 . 8080, 10.96.0.10 . 80 . 1 : 10.244.3.2 . 8080 }',
      'add element ip netlet hairpin { 10.244.3.2 . 10.244.3.2 }',
      'flush set ip netlet sync-digest',
      nft.last.match(/^add element ip netlet sync-digest \{ fd00:2:[0-9a-f:]+ \}$/m)?.[0],
      '',
    ].join('\n'),
    "the endpoints' elements only; 10.244.1.2 keeps its hairpin element (the other service uses it)",
  );

  // The service goes: its elements go, the shared hairpin element of 10.244.1.2 stays while "other" uses it.
  plans.delete(planKey(web));
  await sync(plans, { changed: [planKey(web)] });
  t.match(nft.last, /delete element ip netlet service-ips \{ 10\.96\.0\.10 \. tcp \. 80 \}/);
  t.match(nft.last, /delete element ip netlet hairpin \{ 10\.244\.2\.2 \. 10\.244\.2\.2, 10\.244\.3\.2 \. 10\.244\.3\.2 \}/);
  t.notMatch(nft.last, /10\.244\.1\.2 \. 10\.244\.1\.2/);

  // Nothing changed: nothing run.
  await sync(plans, { changed: [] });
  t.equal(nft.scripts.length, 3, 'an empty change runs no nft');
});

t.test('a partial sync with a new endpoint count adds its pick group; a new service with affinity adds its chains', async (t) => {
  const { nft, sync } = setup();
  const plans = planSet(web);
  await sync(plans, { full: true });
  const three = plan('default', 'three', { clusterIP: '10.96.0.30', clusterEndpoints: [local('10.244.1.2'), local('10.244.2.2'), local('10.244.3.2')] });
  const sticky = plan('default', 'sticky', { clusterIP: '10.96.0.31', affinityTimeoutSeconds: 30, clusterEndpoints: [local('10.244.1.2')] });
  plans.set(planKey(three), three);
  plans.set(planKey(sticky), sticky);
  await sync(plans, { changed: [planKey(three), planKey(sticky)] });
  const s = nft.last;
  t.match(s, /^add map ip netlet endpoints-tcp-3 /m);
  t.match(s, /^add rule ip netlet pick-tcp-3 /m);
  t.match(s, /^add chain ip netlet svc_default_sticky_http_tcp$/m);
  t.match(s, /^add set ip netlet aff_default_sticky_http_tcp_10-244-1-2-8080_30s \{ type ipv4_addr; flags dynamic,timeout; timeout 30s; \}$/m);
  t.notMatch(s, /nat-prerouting/, 'the fixed chains are not rewritten');
  t.ok(s.indexOf('add chain ip netlet svc_') < s.indexOf('goto svc_default_sticky_http_tcp'), 'chains exist before elements point to them');

  plans.delete(planKey(sticky));
  await sync(plans, { changed: [planKey(sticky)] });
  const d = nft.last;
  t.ok(d.indexOf('delete element ip netlet service-ips') < d.indexOf('delete chain ip netlet svc_default_sticky_http_tcp'), 'elements go before the chain they point to');
  t.ok(d.indexOf('flush chain ip netlet svc_default_sticky_http_tcp') < d.indexOf('delete set ip netlet aff_'), 'the chain is emptied before the set it reads goes');
});

t.test('a full sync adopts the table: what no plan wants goes, in the same transaction', async (t) => {
  const { nft, sync } = setup();
  const named = (kind: string, name: string, more: object = {}) => ({ [kind]: { family: 'ip', table: 'netlet', name, ...more } });
  nft.json = JSON.stringify({
    nftables: [
      named('map', 'service-ips', { elem: [[{ concat: ['10.96.0.10', 'tcp', 80] }, { goto: { target: 'pick-tcp-2' } }], [{ concat: ['10.96.0.99', 'tcp', 80] }, { goto: { target: 'pick-tcp-7' } }]] }),
      named('set', 'hairpin', { elem: [{ concat: ['10.244.1.2', '10.244.1.2'] }, { concat: ['10.9.9.9', '10.9.9.9'] }] }),
      named('map', 'endpoints-tcp-7'),
      named('set', 'aff_default_gone_http_tcp_10-1-1-1-80_5s'),
      named('chain', 'services'),
      named('chain', 'pick-tcp-7'),
      named('chain', 'svc_default_gone_http_tcp'),
    ],
  });
  await sync(planSet(web), { full: true });
  const s = nft.last;
  t.notMatch(s, /^flush (map|set) (?!ip netlet sync-digest$)/m, 'a restart does not empty the shared maps: it reads them');
  const added = s.indexOf('add element ip netlet service-ips { 10.96.0.99 . tcp . 80 : goto pick-tcp-7 }\n');
  t.ok(added >= 0 && s.indexOf('delete element ip netlet service-ips { 10.96.0.99 . tcp . 80 }\n') > added, 'an element no plan wants is removed (added, then deleted)');
  t.match(s, /^delete element ip netlet hairpin \{ 10\.9\.9\.9 \. 10\.9\.9\.9 \}$/m, 'so is a hairpin element of an endpoint gone');
  t.notMatch(s, /delete element ip netlet service-ips \{ 10\.96\.0\.10 /, 'a wanted one stays');
  for (const want of ['flush chain ip netlet pick-tcp-7', 'delete chain ip netlet pick-tcp-7', 'delete chain ip netlet svc_default_gone_http_tcp', 'delete map ip netlet endpoints-tcp-7', 'delete set ip netlet aff_default_gone_http_tcp_10-1-1-1-80_5s']) {
    t.match(s, new RegExp(`^${want.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), want);
  }
  t.notMatch(s, /delete (chain|map) ip netlet (services|service-ips)$/m, 'what is wanted stays');
  t.ok(s.indexOf('flush chain ip netlet pick-tcp-7') < s.indexOf('delete map ip netlet endpoints-tcp-7'), 'a chain is emptied before the map it reads is deleted');
});

t.test('a failed sync is a BackendSyncError and the next sync is full', async (t) => {
  const { nft, sync, backend } = setup();
  const plans = planSet(web);
  await sync(plans, { full: true });
  nft.failNext = true;
  const changed = plan('default', 'web', { clusterEndpoints: [local('10.244.2.2')] });
  plans.set(planKey(changed), changed);
  await t.rejects(sync(plans, { changed: [planKey(changed)] }), { code: 'ERR_PROXY_SYNC', kind: 'restore', message: /nft -f failed[\s\S]*No such file/ });
  await sync(plans, { changed: [] });
  t.match(nft.last, /^add table ip netlet$/m, 'the next sync, though asked partial, is full');
  t.equal(await backend.intact(), true, 'intact after the full sync');
});

t.test('nodePortAddresses and tcpBeLiberal change the fixed rules', async (t) => {
  const nft = new FakeNft();
  const backend = new NftablesBackend({ family: 6, log: silentLogger, masqueradeBit: 14, tcpBeLiberal: true, nft });
  const v6 = plan('default', 'v6', { family: 6, clusterIP: 'fd00::10', nodePort: 30000, clusterCIDRs: ['fd00:244::/32'], clusterEndpoints: [local('fd00:244::2')] });
  await backend.sync({ family: 6, plans: planSet(v6), changed: new Set(), full: true, nodePortAddresses: ['fd00:1::1', 'fd00:2::1'] });
  t.match(nft.last, /^add rule ip6 netlet services ip6 daddr \{ fd00:1::1, fd00:2::1 \} jump nodeports$/m);
  t.notMatch(nft.last, /ct state invalid drop/, 'no INVALID drop with be_liberal');
  await backend.sync({ family: 6, plans: planSet(v6), changed: new Set(), full: false, nodePortAddresses: [] });
  t.match(nft.last, /^add rule ip6 netlet services fib daddr type local ip6 daddr != ::1 jump nodeports$/m, 'a partial sync rewrites the fixed chains when their text changed');
});

t.test('a later full sync adds over what is there and removes only what the last one wrote and no plan wants', async (t) => {
  const { nft, sync } = setup();
  await sync(planSet(web, other), { full: true });
  await sync(planSet(web), { full: true });
  const s = nft.last;
  t.notMatch(s, /^flush (map|set) (?!ip netlet sync-digest$)/m, 'the shared maps are never emptied');
  const added = s.indexOf('add element ip netlet service-ips { 10.96.0.11 . tcp . 80 : goto pick-tcp-1 }\n');
  const deleted = s.indexOf('delete element ip netlet service-ips { 10.96.0.11 . tcp . 80 }\n');
  t.ok(added >= 0 && deleted > added, "the gone service's element is added then deleted: that works whether or not the kernel still holds it");
  t.match(s, /^add element ip netlet service-ips \{ 10\.96\.0\.10 \. tcp \. 80 : goto pick-tcp-2 \}$/m, 'every wanted element is added again (a no-op where present)');
  t.notMatch(s, /delete element ip netlet hairpin \{[^}]*10\.244\.1\.2 \. 10\.244\.1\.2/, 'a hairpin element web still uses stays');
});

t.test('the rule count a partial sync keeps is the one a full sync of the same plans finds', async (t) => {
  const { sync } = setup();
  const plans = planSet(web, other);
  await sync(plans, { full: true });
  const sticky = plan('default', 'sticky', { clusterIP: '10.96.0.31', affinityTimeoutSeconds: 30, clusterEndpoints: [local('10.244.1.2'), local('10.244.2.2')] });
  plans.set(planKey(sticky), sticky);
  plans.delete(planKey(other));
  const partial = await sync(plans, { changed: [planKey(sticky), planKey(other)] });
  const full = await sync(plans, { full: true });
  t.equal(partial.ruleCount, full.ruleCount);
});

t.test("intact(): the kernel's rule counts on every poll, no nft run", async (t) => {
  const { nft, sync, backend } = setup();
  const plans = planSet(web);
  await sync(plans, { full: true });
  nft.calls = [];
  for (let i = 0; i < 3; i++) t.equal(await backend.intact(), true, `poll ${i + 1}: intact`);
  t.same(nft.calls, [], 'no nft listing (it would read every set)');

  const sticky = plan('default', 'sticky', { clusterIP: '10.96.0.31', affinityTimeoutSeconds: 30, clusterEndpoints: [local('10.244.1.2'), local('10.244.2.2')] });
  plans.set(planKey(sticky), sticky);
  await sync(plans, { changed: [planKey(sticky)] });
  t.equal(await backend.intact(), true, "a partial sync's own chains are counted");

  const rows: { name: string; damage: (rules: Map<string, number>) => void }[] = [
    { name: 'the services chain flushed', damage: (r) => r.set('services', 0) },
    { name: 'the hook chain flushed', damage: (r) => r.set('nat-prerouting', 0) },
    { name: "a service's own chain flushed", damage: (r) => r.set('svc_default_sticky_http_tcp', 0) },
    { name: 'a pick chain flushed', damage: (r) => r.set('pick-tcp-2', 0) },
    { name: 'the whole table flushed (nft flush table)', damage: (r) => r.forEach((_, k) => r.set(k, 0)) },
    { name: 'the table deleted (nft flush ruleset)', damage: (r) => r.clear() },
  ];
  for (const row of rows) {
    await sync(plans, { full: true });
    t.equal(await backend.intact(), true, `${row.name}: intact before`);
    row.damage(nft.rules);
    t.equal(await backend.intact(), false, `${row.name}: seen`);
  }
});

t.test('intact(): without a rule dump, the rules are listed through nft', async (t) => {
  const nft = new FakeNft();
  const failing = async (): Promise<Map<string, number>> => {
    throw new Error('EPERM');
  };
  const backend = new NftablesBackend({ family: 4, log: silentLogger, masqueradeBit: 14, tcpBeLiberal: false, nft, ruleCounts: failing });
  await backend.sync({ family: 4, plans: planSet(web), changed: new Set(), full: true, nodePortAddresses: [] });
  nft.calls = [];
  t.equal(await backend.intact(), true);
  t.ok(nft.calls.includes('list chain ip netlet services'), 'the services chain listed instead');
});

t.test('a later full sync lists only the chains, and deletes the sets it knows it left, adding each first', async (t) => {
  const { nft, sync } = setup();
  const sticky = plan('default', 'sticky', { clusterIP: '10.96.0.31', affinityTimeoutSeconds: 30, clusterEndpoints: [local('10.244.1.2'), local('10.244.2.2'), local('10.244.3.2')] });
  const three = plan('default', 'three', { clusterIP: '10.96.0.32', clusterEndpoints: [local('10.244.1.2'), local('10.244.2.2'), local('10.244.3.2')] });
  await sync(planSet(web, sticky, three), { full: true });
  nft.calls = [];
  await sync(planSet(web), { full: true });
  t.notOk(nft.calls.some((c) => c.includes('list table')), 'no listing of the table (it reads every element)');
  t.ok(nft.calls.includes('list chains ip'), 'the chains only');
  const s = nft.last;
  t.match(s, /^add set ip netlet aff_default_sticky_http_tcp_10-244-1-2-8080_30s \{ type ipv4_addr; flags dynamic,timeout; timeout 30s; \}\ndelete set ip netlet aff_default_sticky_http_tcp_10-244-1-2-8080_30s$/m, 'a gone affinity set: added, then deleted');
  t.match(s, /^add map ip netlet endpoints-tcp-3 \{ typeof [^}]*\}\ndelete map ip netlet endpoints-tcp-3$/m, 'a pick group no plan uses: its maps go');
});

/** The digest element a script wrote. */
const digestIn = (script: string) => /^add element ip netlet sync-digest \{ (\S+) \}$/m.exec(script)?.[1];

t.test('the digest a partial sync writes is the one a full sync of the same plans writes', async (t) => {
  const a = setup();
  const plans = planSet(web, other);
  await a.sync(plans, { full: true });
  const sticky = plan('default', 'sticky', { clusterIP: '10.96.0.31', affinityTimeoutSeconds: 30, nodePort: 30031, clusterEndpoints: [local('10.244.1.2'), local('10.244.5.2')] });
  const web2 = plan('default', 'web', { clusterEndpoints: [local('10.244.2.2'), local('10.244.3.2'), local('10.244.4.2')] });
  plans.set(planKey(sticky), sticky);
  plans.set(planKey(web2), web2);
  plans.delete(planKey(other));
  await a.sync(plans, { changed: [planKey(sticky), planKey(web2), planKey(other)] });
  const b = setup();
  await b.sync(plans, { full: true });
  t.ok(digestIn(a.nft.last), 'the partial sync wrote a digest');
  t.equal(digestIn(a.nft.last), digestIn(b.nft.last), 'the same digest');
});

t.test('a restart reads the table back only when its digest differs from what the plans write', async (t) => {
  const first = setup();
  await first.sync(planSet(web, other), { full: true });
  const written = digestIn(first.nft.last)!;

  const same = setup();
  same.nft.digest = written;
  await same.sync(planSet(web, other), { full: true });
  t.notOk(same.nft.calls.some((c) => c.startsWith('-j list')), 'the same plans: no read-back of the table');
  t.ok(same.nft.calls.includes('list chains ip'), 'the chains only');

  const changed = setup();
  changed.nft.digest = written;
  changed.nft.json = JSON.stringify({ nftables: [] });
  await changed.sync(planSet(web), { full: true });
  t.ok(changed.nft.calls.some((c) => c.startsWith('-j list table')), 'a service gone while the agent was down: the table is read back');
});

t.test('a first start into an empty namespace reads nothing back and lists nothing', async (t) => {
  const { nft, sync } = setup();
  nft.noTable = true;
  await sync(planSet(web), { full: true });
  t.same(nft.calls.filter((c) => c !== '-f -'), ['list set ip netlet sync-digest'], 'one look at the digest, which says there is no table');
});

t.test('two services claiming one external IP and port: the first by plan key keeps it, the other is left out', async (t) => {
  const { nft, sync } = setup();
  const a = plan('default', 'a', { clusterIP: '10.96.0.41', externalIPs: ['192.0.2.9'], clusterEndpoints: [local('10.244.1.2')] });
  const b = plan('default', 'b', { clusterIP: '10.96.0.42', externalIPs: ['192.0.2.9'], clusterEndpoints: [local('10.244.2.2'), local('10.244.3.2')] });
  await sync(planSet(b, a), { full: true });
  const s = nft.last;
  t.match(s, /10\.96\.0\.41 \. tcp \. 80 : goto pick-tcp-1/, 'a is written');
  t.notMatch(s, /10\.96\.0\.42/, 'b is not: its external IP would need a second value for the same key');
  t.equal(s.match(/192\.0\.2\.9 \. tcp \. 80 :/g)?.length, 1, 'one element for the contested address');
  const changedB = plan('default', 'b', { clusterIP: '10.96.0.42', externalIPs: ['192.0.2.9'], clusterEndpoints: [local('10.244.2.2')] });
  const scripts = nft.scripts.length;
  await sync(planSet(changedB, a), { changed: [planKey(changedB)] });
  t.equal(nft.scripts.length, scripts, 'a partial sync of the left-out plan writes nothing');
});

/** An ElementWriter that records the changes it was given; `refuse` fails the next apply as the kernel would. */
class FakeElements implements ElementWriter {
  changes: ElementChange[] = [];
  #pending: ElementChange | undefined;
  refuse: Error | undefined;
  encode(change: ElementChange) {
    if (change.adds.some((e) => e.set === 'firewall-allow')) return undefined;
    this.#pending = change;
    return [(seq: number) => Buffer.from([seq])];
  }
  async apply() {
    const err = this.refuse;
    this.refuse = undefined;
    if (err) throw err;
    this.changes.push(this.#pending!);
  }
  close() {}
}

function setupWithElements() {
  const nft = new FakeNft();
  const elements = new FakeElements();
  const backend = new NftablesBackend({ family: 4, log: silentLogger, masqueradeBit: 14, tcpBeLiberal: false, nft, ruleCounts: nft.ruleCounts, elements });
  const sync = (plans: PlanSet, opts: { full?: boolean; changed?: string[] } = {}) =>
    backend.sync({ family: 4, plans, changed: new Set(opts.changed ?? []), full: opts.full ?? false, nodePortAddresses: [] });
  return { nft, elements, sync };
}

t.test('an element-only partial sync goes to the element writer (no nft), with the digest; anything else through nft', async (t) => {
  const { nft, elements, sync } = setupWithElements();
  const plans = planSet(web, other);
  await sync(plans, { full: true });
  t.equal(elements.changes.length, 0, 'a full sync is nft -f');
  const changed = plan('default', 'web', { clusterEndpoints: [local('10.244.2.2'), local('10.244.3.2')] });
  plans.set(planKey(changed), changed);
  await sync(plans, { changed: [planKey(changed)] });
  t.equal(nft.scripts.length, 1, 'no nft -f for an endpoint change');
  const c = elements.changes[0];
  t.same(c.deletes.map((e) => `${e.set} ${e.key}`), ['endpoints-tcp-2 10.96.0.10 . 80 . 0', 'endpoints-tcp-2 10.96.0.10 . 80 . 1']);
  t.same(c.flush, ['sync-digest']);
  t.same(c.adds.slice(0, 3).map((e) => `${e.set} ${e.key} ${e.value}`), [
    'endpoints-tcp-2 10.96.0.10 . 80 . 0 10.244.2.2 . 8080',
    'endpoints-tcp-2 10.96.0.10 . 80 . 1 10.244.3.2 . 8080',
    'hairpin 10.244.3.2 . 10.244.3.2 ',
  ]);
  t.match(c.adds[3], { set: 'sync-digest', key: /^fd00:2:/ });

  // The same plans through nft alone write the same digest: what the writer sent is what nft -f would have.
  const viaNft = setup();
  await viaNft.sync(planSet(web, other), { full: true });
  await viaNft.sync(plans, { changed: [planKey(changed)] });
  t.match(viaNft.nft.last, `add element ip netlet sync-digest { ${c.adds[3].key} }`);

  // A new endpoint count needs its pick chains: nft -f.
  const three = plan('default', 'web', { clusterEndpoints: [local('10.244.2.2'), local('10.244.3.2'), local('10.244.4.2')] });
  plans.set(planKey(three), three);
  await sync(plans, { changed: [planKey(three)] });
  t.equal(nft.scripts.length, 2);
  t.match(nft.last, /add chain ip netlet pick-tcp-3/);
  t.equal(elements.changes.length, 1);
});

t.test('a batch the kernel refuses fails the sync (the next is full); no socket: nft from then on', async (t) => {
  const { nft, elements, sync } = setupWithElements();
  const plans = planSet(web, other);
  await sync(plans, { full: true });
  const changed = plan('default', 'web', { clusterEndpoints: [local('10.244.2.2'), local('10.244.3.2')] });
  plans.set(planKey(changed), changed);
  elements.refuse = new NftError('nf_tables element transaction failed: nf_tables batch refused (message 1 of 3): ENOENT');
  await t.rejects(sync(plans, { changed: [planKey(changed)] }), BackendSyncError);
  await sync(plans, { changed: [planKey(changed)] });
  t.equal(nft.scripts.length, 2, 'the sync after the failure was full, through nft');

  const back = plan('default', 'web', { clusterEndpoints: [local('10.244.1.2'), local('10.244.2.2')] });
  plans.set(planKey(back), back);
  elements.refuse = new NoNetlinkSocket('nf_tables netlink socket: EPROTONOSUPPORT');
  await sync(plans, { changed: [planKey(back)] });
  t.equal(nft.scripts.length, 3, 'written through nft instead');
  t.match(nft.last, /add element ip netlet endpoints-tcp-2/);
  plans.set(planKey(changed), changed);
  await sync(plans, { changed: [planKey(changed)] });
  t.equal(nft.scripts.length, 4, 'and from then on');
  t.equal(elements.changes.length, 0);
});
