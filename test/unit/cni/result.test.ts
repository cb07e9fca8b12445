import t from 'tap';
import { formatResult, mergeResults } from '../../../src/cni/result.ts';
import type { CniResult } from '../../../src/cni/result.ts';
import { versionResult, compareVersions } from '../../../src/cni/version.ts';

const result: CniResult = {
  cniVersion: '1.1.0',
  interfaces: [
    { name: 'nlt1', mac: '0a:00:00:00:00:01' },
    { name: 'eth0', mac: '0a:00:00:00:00:02', sandbox: '/run/netns/p', mtu: 1400 },
  ],
  ips: [
    { address: '10.0.0.2/26', gateway: '10.0.0.1', interface: 1 },
    { address: 'fd00::2/122', gateway: 'fd00::1', interface: 1 },
  ],
  routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1', priority: 5 }],
  dns: { nameservers: ['10.96.0.10'] },
};

t.test('result per version', async (t) => {
  const rows = [
    { name: '0.3.1 has ips[].version, no mtu, no route extras', version: '0.3.1', ipVersion: ['4', '6'], mtu: false, priority: false },
    { name: '0.4.0 has ips[].version', version: '0.4.0', ipVersion: ['4', '6'], mtu: false, priority: false },
    { name: '1.0.0 has no ips[].version', version: '1.0.0', ipVersion: [undefined, undefined], mtu: false, priority: false },
    { name: '1.1.0 adds interface mtu and route attributes', version: '1.1.0', ipVersion: [undefined, undefined], mtu: true, priority: true },
  ];
  for (const r of rows) {
    const out = formatResult(result, r.version) as { cniVersion: string; ips: Array<{ version?: string }>; interfaces: Array<{ mtu?: number }>; routes: Array<{ priority?: number }> };
    t.equal(out.cniVersion, r.version, `${r.name}: cniVersion`);
    t.same(out.ips.map((i) => i.version), r.ipVersion, `${r.name}: ips[].version`);
    t.equal(out.interfaces[1].mtu !== undefined, r.mtu, `${r.name}: interface mtu`);
    t.equal(out.routes[0].priority !== undefined, r.priority, `${r.name}: route priority`);
  }
  const json = formatResult(result, '1.0.0') as { interfaces: unknown[]; ips: Array<{ interface: number; address: string }> };
  t.equal(json.ips[0].interface, 1, 'ips point at the pod interface');
  t.equal(json.ips[0].address, '10.0.0.2/26');
});

t.test('chaining appends to prevResult and shifts interface indexes', async (t) => {
  const prev: CniResult = { cniVersion: '1.0.0', interfaces: [{ name: 'x' }], ips: [{ address: '192.168.0.2/24', interface: 0 }], routes: [], dns: { domain: 'a' } };
  const merged = mergeResults(prev, { ...result, dns: {} });
  t.same(merged.interfaces.map((i) => i.name), ['x', 'nlt1', 'eth0']);
  t.same(merged.ips.map((i) => i.interface), [0, 2, 2]);
  t.same(merged.dns, { domain: 'a' }, 'keeps the earlier DNS when this plugin has none');
  t.equal(mergeResults(undefined, result), result);
});

t.test('version negotiation', async (t) => {
  t.same(versionResult('0.4.0'), { cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  t.equal(versionResult(undefined).cniVersion, '1.1.0', 'the latest when not asked');
  const rows: Array<[string, string, number]> = [
    ['0.3.1', '0.4.0', -1],
    ['1.0.0', '0.4.0', 1],
    ['1.1.0', '1.1.0', 0],
    ['0.10.0', '0.9.0', 1],
  ];
  for (const [a, b, want] of rows) t.equal(compareVersions(a, b), want, `${a} vs ${b}`);
});
