// Benchmark of the IPVS backend inside User-Mode Linux (the host kernel has
// no IPVS), one boot for every size:
//
//   flock /tmp/netlet-heavy.lock npx node bench/ipvs-sync.ts [--sizes 1000,10000] [--changes 200]
//
// Columns, at N services × 3 endpoints (TCP, no NodePort):
//   floor        = `ipvsadm --restore` of the same virtual and real servers into an empty table
//   ipvs full    = netlet's first sync of the IPVS table (dump, diff, batched NEW_SERVICE/NEW_DEST)
//   ratio        = ipvs full / floor (goal ≤ 1.5)
//   backend full = the whole backend's first full sync (ipsets, iptables, kube-ipvs0 addresses, IPVS)
//   resync       = a full sync over its own result (syncPeriod)
//   change p50/p99, round trips = one endpoint of one service replaced, event → kernel
//     (the backend's sync() call until the kernel ACKed; goal p99 ≤ 20 ms, ≤ 3 round trips)
// Figures are the guest's (one CPU, everything ~4× slower than the host).

import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { runInUml } from '../test/helpers/uml.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,10000' }, changes: { type: 'string', default: '200' } } });
const guest = fileURLToPath(new URL('./lib/ipvs-sync-guest.ts', import.meta.url));
const modules = ['ip_vs', 'ip_vs_rr', 'nf_conntrack', 'ip_set', 'ip_set_hash_ip', 'ip_set_hash_ipport', 'ip_set_hash_ipportip', 'ip_set_hash_ipportnet', 'ip_set_bitmap_port', 'xt_set', 'dummy', 'iptable_nat', 'iptable_filter', 'xt_MASQUERADE', 'xt_mark', 'xt_comment', 'xt_conntrack', 'xt_addrtype', 'ipt_REJECT'];

const run = await runInUml({ script: guest, args: [values.sizes, values.changes], modules, timeoutMs: 1_500_000, memoryMb: 2048 });
const rows = run.results.filter((r) => r.ok && r.data).map((r) => r.data as Record<string, number>);
for (const r of run.results.filter((x) => !x.ok)) process.stderr.write(`failed: ${r.name}\n${r.detail}\n`);
if (rows.length === 0) {
  process.stderr.write(`no results; guest log:\n${run.guestLog.slice(-3000)}\n`);
  process.exit(1);
}
const f = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
process.stdout.write('\n| services | floor (ipvsadm -R) ms | ipvs full ms | ratio | backend full ms | resync ms | change p50 ms | change p99 ms | change round trips (max) | GC during changes (count, max ms) | slowest 1% overlapping a GC | intact() ms |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n');
for (const r of rows) {
  process.stdout.write(
    `| ${r.services} | ${f(r.floorMs)} | ${f(r.ipvsFullMs)} | ${(r.ipvsFullMs / r.floorMs).toFixed(2)} | ${f(r.backendFullMs)} | ${f(r.resyncMs)} | ${f(r.changeP50)} | ${f(r.changeP99)} | ${r.changeRoundTrips} | ${r.gcCount}, ${f(r.gcMaxMs)} | ${r.slowestWithGc}/${r.slowest} | ${f(r.intactMs)} |\n`,
  );
}
for (const r of rows) process.stdout.write(`\n${r.services}: the 4 slowest changes: ${r.slowestDetail as unknown as string}; intact() parts ms: ${r.intactParts as unknown as string}`);
process.stdout.write(`\nUML boot and run: ${(run.ms / 1000).toFixed(0)} s; guest kernel ${rows[0].kernel ?? '?'}\n`);
