import t from 'tap';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/base/log.ts';
import { staleConntrackFilters, ConntrackCleaner } from '../../../src/proxier/conntrack-cleaner.ts';
import { FakeConntrackTable } from '../../../src/proxier/conntrack-table.ts';
import { compileFilters, matches } from '../../../src/netlink/conntrack.ts';
import { decodeEntry, encodeDelete, splitMessages } from '../../../src/netlink/ctnetlink-codec.ts';
import type { ConntrackEntry } from '../../../src/netlink/ctnetlink-codec.ts';
import { applyConntrackSysctls, conntrackMax, desiredSysctls } from '../../../src/proxier/conntrack-sysctls.ts';
import type { PlanEndpoint, ServicePortPlan } from '../../../src/proxier/plan.ts';
import { planDecisions } from '../../../src/proxier/plan-builder.ts';
import type { PlanDecisions } from '../../../src/proxier/plan-builder.ts';

const ep = (ip: string): PlanEndpoint => ({ ip, port: 53, isLocal: false, ready: true, serving: true, terminating: false, nodeName: 'n', zone: '' });
function plan(over: Partial<ServicePortPlan> = {}): ServicePortPlan {
  const facts = {
    servicePortName: 'kube-system/dns:dns', namespace: 'kube-system', name: 'dns', portName: 'dns', protocol: 'udp', family: 4,
    clusterIP: '10.96.0.10', port: 53, nodePort: 0, externalIPs: [], loadBalancerIPs: [], loadBalancerSourceRanges: [], loadBalancerSourceRangesIncludeNode: false, healthCheckNodePort: 0,
    affinityTimeoutSeconds: 0, internalTraffic: 'cluster', externalTraffic: 'cluster',
    allEndpoints: [], clusterEndpoints: [], localEndpoints: [], hasAnyEndpoints: false, masqueradeAll: false, clusterCIDRs: [], ...over,
  } satisfies Omit<ServicePortPlan, keyof PlanDecisions>;
  return { ...facts, ...planDecisions(facts) };
}
const withEps = (ips: string[], over: Partial<ServicePortPlan> = {}) => plan({ allEndpoints: ips.map(ep), clusterEndpoints: ips.map(ep), ...over });

const filterRows: { name: string; prev?: ServicePortPlan; cur?: ServicePortPlan; want: ReturnType<typeof staleConntrackFilters> }[] = [
  { name: 'TCP services are never cleaned', prev: withEps([], { protocol: 'tcp' }), cur: withEps(['10.1.0.1'], { protocol: 'tcp' }), want: [] },
  { name: 'unchanged endpoints: nothing', prev: withEps(['10.1.0.1']), cur: withEps(['10.1.0.1']), want: [] },
  {
    name: 'none → some: every VIP and the NodePort',
    prev: withEps([], { nodePort: 30053, externalIPs: ['192.0.2.1'], loadBalancerIPs: ['203.0.113.1'] }),
    cur: withEps(['10.1.0.1'], { nodePort: 30053, externalIPs: ['192.0.2.1'], loadBalancerIPs: ['203.0.113.1'] }),
    want: [
      { protocol: 'udp', origDst: '10.96.0.10', origDstPort: 53 },
      { protocol: 'udp', origDst: '192.0.2.1', origDstPort: 53 },
      { protocol: 'udp', origDst: '203.0.113.1', origDstPort: 53 },
      { protocol: 'udp', origDstPort: 30053 },
    ],
  },
  { name: 'a new service with endpoints: its VIP', cur: withEps(['10.1.0.1']), want: [{ protocol: 'udp', origDst: '10.96.0.10', origDstPort: 53 }] },
  {
    name: 'a removed endpoint: entries DNATed to it, through the VIP and the NodePort',
    prev: withEps(['10.1.0.1', '10.1.0.2'], { nodePort: 30053 }),
    cur: withEps(['10.1.0.2'], { nodePort: 30053 }),
    want: [
      { protocol: 'udp', origDst: '10.96.0.10', origDstPort: 53, replySrc: '10.1.0.1' },
      { protocol: 'udp', origDstPort: 30053, replySrc: '10.1.0.1' },
    ],
  },
  {
    name: 'a deleted service: entries to all its endpoints',
    prev: withEps(['10.1.0.1']),
    want: [{ protocol: 'udp', origDst: '10.96.0.10', origDstPort: 53, replySrc: '10.1.0.1' }],
  },
];
for (const row of filterRows) {
  t.test(`filters: ${row.name}`, async (t) => {
    t.same(staleConntrackFilters(row.prev, row.cur), row.want);
  });
}

t.test('cleaner: first sync touches nothing; failures are contained', async (t) => {
  const table = new FakeConntrackTable();
  const cleaner = new ConntrackCleaner(table, silentLogger);
  const cur = new Map([['k', withEps(['10.1.0.1'])]]);
  t.equal(await cleaner.clean(4, undefined, cur, ['k']), 0);
  t.same(table.calls, [], 'no applied state yet: no deletion (no flush on restart)');
  table.failNext = new Error('EPERM');
  t.equal(await cleaner.clean(4, new Map([['k', withEps([])]]), cur, ['k']), 0, 'error swallowed');
});

const entry = (origDst: string, dport: number, replySrc: string, proto = 17): ConntrackEntry => ({
  orig: { src: '10.0.0.1', dst: origDst, protoNum: proto, srcPort: 40000, dstPort: dport },
  reply: { src: replySrc, dst: '10.0.0.1', protoNum: proto, srcPort: dport, dstPort: 40000 },
  zone: 0,
});

t.test('matching: every given field must match', async (t) => {
  const e = entry('10.96.0.10', 53, '10.1.0.1');
  t.ok(matches(e, { protocol: 'udp', origDst: '10.96.0.10', origDstPort: 53 }));
  t.ok(matches(e, { protocol: 'udp', origDstPort: 53 }));
  t.ok(matches(e, { protocol: 'udp', origDst: '10.96.0.10', replySrc: '10.1.0.1' }));
  t.notOk(matches(e, { protocol: 'tcp', origDst: '10.96.0.10' }), 'protocol');
  t.notOk(matches(e, { protocol: 'udp', origDst: '10.96.0.11' }), 'destination');
  t.notOk(matches(e, { protocol: 'udp', origDst: '10.96.0.10', origDstPort: 54 }), 'port');
  t.notOk(matches(e, { protocol: 'udp', replySrc: '10.1.0.2' }), 'endpoint');
});

t.test('codec: a delete request carries the original tuple and round-trips', async (t) => {
  for (const e of [entry('10.96.0.10', 53, '10.1.0.1'), { ...entry('fd00:96::a', 53, 'fd00:244::5'), orig: { ...entry('', 53, '').orig, src: '2001:db8::1', dst: 'fd00:96::a' }, zone: 7 }]) {
    const family = e.orig.dst.includes(':') ? 6 : 4;
    const [msg] = splitMessages(encodeDelete(family, 42, e));
    t.equal(msg.type, 0x102, 'IPCTNL_MSG_CT_DELETE in the ctnetlink subsystem');
    t.equal(msg.flags, 0x5, 'REQUEST|ACK');
    t.equal(msg.seq, 42);
    t.equal(msg.payload[0], family === 4 ? 2 : 10, 'nfgen_family');
    // The kernel answers dumps with the same attribute layout; decode ours back (the reply tuple is absent here).
    t.equal(decodeEntry(msg.payload), undefined, 'no reply tuple in a delete');
  }
});

t.test('sysctls: kube-proxy values; 0 leaves alone', async (t) => {
  const cfg = { maxPerCore: 32768, min: 131072, tcpEstablishedTimeout: 86_400_000, tcpCloseWaitTimeout: 3_600_000, tcpBeLiberal: true, udpTimeout: 0, udpStreamTimeout: 120_000 };
  t.equal(conntrackMax(cfg, 2), 131072, 'the floor wins on 2 CPUs');
  t.equal(conntrackMax(cfg, 8), 262144);
  t.equal(conntrackMax({ ...cfg, maxPerCore: 0 }, 8), 0);
  t.same(desiredSysctls(cfg, 8), [
    ['net/netfilter/nf_conntrack_max', 262144],
    ['net/netfilter/nf_conntrack_tcp_timeout_established', 86400],
    ['net/netfilter/nf_conntrack_tcp_timeout_close_wait', 3600],
    ['net/netfilter/nf_conntrack_tcp_be_liberal', 1],
    ['net/netfilter/nf_conntrack_udp_timeout_stream', 120],
  ]);
});

t.test('sysctls: written under a fake /proc, unchanged values skipped, read-only ones logged', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'nlpc-sysctl-'));
  const procSys = join(root, 'proc');
  const sys = join(root, 'sys');
  await mkdir(join(procSys, 'net/netfilter'), { recursive: true });
  await mkdir(join(sys, 'module/nf_conntrack/parameters'), { recursive: true });
  await writeFile(join(procSys, 'net/netfilter/nf_conntrack_max'), '65536\n');
  await writeFile(join(sys, 'module/nf_conntrack/parameters/hashsize'), '16384\n');
  await writeFile(join(procSys, 'net/netfilter/nf_conntrack_tcp_timeout_established'), '86400\n');
  await writeFile(join(procSys, 'net/netfilter/nf_conntrack_tcp_timeout_close_wait'), '60\n');
  // A read-only entry: a directory in its place makes the write fail even for root.
  await mkdir(join(procSys, 'net/netfilter/nf_conntrack_tcp_be_liberal'));
  const cfg = { maxPerCore: 32768, min: 131072, tcpEstablishedTimeout: 86_400_000, tcpCloseWaitTimeout: 3_600_000, tcpBeLiberal: true, udpTimeout: 0, udpStreamTimeout: 0 };
  const out = await applyConntrackSysctls(cfg, silentLogger, { procSys, sys }, 4);
  t.same(out.map((o) => [o.name, o.result]), [
    ['net/netfilter/nf_conntrack_max', 'set'],
    ['module/nf_conntrack/parameters/hashsize', 'set'],
    ['net/netfilter/nf_conntrack_tcp_timeout_established', 'unchanged'],
    ['net/netfilter/nf_conntrack_tcp_timeout_close_wait', 'set'],
    ['net/netfilter/nf_conntrack_tcp_be_liberal', 'failed'],
  ]);
  t.equal((await readFile(join(procSys, 'net/netfilter/nf_conntrack_max'), 'utf8')).trim(), '131072');
  t.equal((await readFile(join(sys, 'module/nf_conntrack/parameters/hashsize'), 'utf8')).trim(), '32768');
  t.equal((await readFile(join(procSys, 'net/netfilter/nf_conntrack_tcp_timeout_close_wait'), 'utf8')).trim(), '3600');
});

t.test('compiled filters match exactly what the filters match one by one', async (t) => {
  const filters = [
    { protocol: 'udp' as const, origDst: '10.96.0.10', origDstPort: 53 },
    { protocol: 'udp' as const, origDst: '10.96.0.11', origDstPort: 53, replySrc: '10.1.0.1' },
    { protocol: 'udp' as const, origDstPort: 30053 },
    { protocol: 'udp' as const, origDstPort: 30054, replySrc: '10.1.0.2' },
    { protocol: 'tcp' as const },
  ];
  const entries: ConntrackEntry[] = [];
  for (const dst of ['10.96.0.10', '10.96.0.11', '10.96.0.12', '192.168.1.1']) {
    for (const port of [53, 30053, 30054, 80]) {
      for (const rs of ['10.1.0.1', '10.1.0.2', dst]) for (const proto of [6, 17]) entries.push(entry(dst, port, rs, proto));
    }
  }
  const compiled = compileFilters(filters);
  const mismatches = entries.filter((e) => compiled(e) !== filters.some((f) => matches(e, f)));
  t.same(mismatches, [], `${entries.length} entries agree`);
  t.ok(entries.some(compiled) && !entries.every(compiled), 'some match, some do not');
});
