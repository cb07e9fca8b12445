// Issue 13 (points 2, 3): no string reaches iptables-restore input
// unchecked. A Service name with a newline wrote its own lines (an ACCEPT
// rule in filter INPUT); a quote or space broke the quoting of a comment and
// failed every sync. Objects are validated at conversion; the renderer
// refuses a plan that would break its text anyway, by name, before writing
// any of it, and a restore that fails on a line is traced to the plan that
// wrote it, so the proxier can leave that one out.

import t from 'tap';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/base/log.ts';
import { IptablesBackend } from '../../../src/iptables/backend.ts';
import { planWritingLine } from '../../../src/iptables/failed-line.ts';
import { UnsafeRuleTextError } from '../../../src/iptables/rule-text.ts';
import { BackendSyncError } from '../../../src/proxier/backend.ts';
import { planKey } from '../../../src/proxier/plan.ts';
import type { ServicePortPlan } from '../../../src/proxier/plan.ts';
import { ctx4, renderFirstSync } from './render-helpers.ts';
import { ep, plan, planSet } from './plans.ts';

const INJECTION = 'y\nCOMMIT\n*filter\n-A INPUT -s 6.6.6.7/32 -j ACCEPT\nCOMMIT\n*nat\n#';
const good = plan('shop', 'web', { clusterEndpoints: [ep('10.244.1.2', 8080)] });

t.test('a plan whose values would break the rule text is refused by name, per field', async (t) => {
  const rows: { name: string; over: Partial<ServicePortPlan>; field: string }[] = [
    { name: 'service port name with a newline (rule injection)', over: { servicePortName: `shop/${INJECTION}:http` }, field: 'servicePortName' },
    { name: 'service port name with a quote', over: { servicePortName: 'shop/we"b:http' }, field: 'servicePortName' },
    { name: 'service port name with a space', over: { servicePortName: 'shop/we b:http' }, field: 'servicePortName' },
    { name: 'service port name with a backslash', over: { servicePortName: 'shop/we\\b:http' }, field: 'servicePortName' },
    { name: 'service port name of 10,000 characters', over: { servicePortName: `shop/${'a'.repeat(10_000)}:http` }, field: 'servicePortName' },
    { name: 'protocol', over: { protocol: 'icmp' as 'tcp' }, field: 'protocol' },
    { name: 'cluster IP with a space', over: { clusterIP: '10.96.0.1 -j ACCEPT' }, field: 'clusterIP' },
    { name: 'port NaN', over: { port: NaN }, field: 'port' },
    { name: 'external IP with a zone', over: { externalIPs: ['fe80::5%eth0'] }, field: 'externalIPs[0]' },
    { name: 'endpoint fe80::5%eth0', over: { clusterEndpoints: [ep('fe80::5%eth0', 80)] }, field: 'endpoints[0].ip' },
    { name: 'endpoint port 0', over: { clusterEndpoints: [ep('10.244.1.3', 0)] }, field: 'endpoints[0].port' },
    { name: 'source range with a newline', over: { loadBalancerSourceRanges: ['10.0.0.0/8\n-A INPUT -j ACCEPT'] }, field: 'loadBalancerSourceRanges[0]' },
  ];
  for (const row of rows) {
    const bad = plan('shop', 'bad', row.over);
    let err: unknown;
    try {
      renderFirstSync(planSet(good, bad));
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof UnsafeRuleTextError, `${row.name}: refused`);
    t.equal((err as UnsafeRuleTextError).planKey, planKey(bad), `${row.name}: names the plan`);
    t.equal((err as UnsafeRuleTextError).field, row.field, `${row.name}: names the field`);
    t.notOk((err as Error).message.includes('\n'), `${row.name}: a one-line message`);
  }
  t.doesNotThrow(() => renderFirstSync(planSet(good, plan('shop', 'v6', { family: 6, clusterIP: 'fd00::10', clusterEndpoints: [ep('fd00::1:2', 80)] }))), 'IPv6 addresses pass');
});

t.test('a node address that would break the rule text fails the render, named', async (t) => {
  t.throws(() => renderFirstSync(planSet(good), { ...ctx4, nodePortAddresses: ['192.168.1.1 -j ACCEPT'] }), { code: 'ERR_UNSAFE_RULE_TEXT', message: /nodePortAddresses\[0\]/ });
  t.doesNotThrow(() => renderFirstSync(planSet(good), { ...ctx4, nodePortAddresses: ['192.168.1.1'] }));
});

t.test('every line of a good render is traced to the plan that wrote it; shared lines to none', async (t) => {
  const other = plan('shop', 'api', { clusterIP: '10.96.0.11', nodePort: 30080, clusterEndpoints: [ep('10.244.1.5', 9090)] });
  const plans = planSet(good, other);
  const text = renderFirstSync(plans);
  for (const line of text.split('\n')) {
    const key = planWritingLine(plans, line, ctx4);
    if (line.includes('shop/web:http')) t.equal(key, planKey(good), line);
    else if (line.includes('shop/api:http')) t.equal(key, planKey(other), line);
    else if (line === 'COMMIT' || line.startsWith('*') || line.includes('KUBE-MARK-MASQ -j MARK')) t.equal(key, undefined, line);
  }
});

t.test('a restore refused at a line of one plan fails with that plan named, in both modes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-ruletext-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // A stand-in for iptables-restore that refuses any line holding 10.244.9.9,
  // and reports it as iptables-nft-restore does.
  const restore = join(dir, 'fake-restore');
  await writeFile(restore, `#!/bin/sh\nawk '/10\\.244\\.9\\.9/ && !bad { print "iptables-restore v1.8.9 (nf_tables): host/network not found"; print "Error occurred at line: " NR; bad = 1 } END { exit bad }' >&2\n`);
  const save = join(dir, 'fake-save');
  await writeFile(save, '#!/bin/sh\nexit 0\n');
  await chmod(restore, 0o755);
  await chmod(save, 0o755);
  const bad = plan('shop', 'bad', { clusterIP: '10.96.0.12', clusterEndpoints: [ep('10.244.9.9', 80)] });
  const last = plan('shop', 'zzz', { clusterIP: '10.96.0.13', clusterEndpoints: [ep('10.244.1.7', 80)] });
  for (const mode of ['nft', 'legacy'] as const) {
    const backend = new IptablesBackend({ tools: { mode, family: 4, restore, save }, log: silentLogger, masqueradeBit: 14, tcpBeLiberal: false });
    const err = await backend.sync({ family: 4, plans: planSet(good, bad, last), changed: new Set(), full: true, nodePortAddresses: [] }).catch((e: unknown) => e);
    t.ok(err instanceof BackendSyncError, `${mode}: a BackendSyncError`);
    t.equal((err as BackendSyncError).planKey, planKey(bad), `${mode}: names the plan that wrote the line`);
    const ok = await backend.sync({ family: 4, plans: planSet(good, last), changed: new Set(), full: true, nodePortAddresses: [] });
    t.ok(ok.ruleCount > 0, `${mode}: the rest loads`);
  }
});
