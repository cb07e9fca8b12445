// IPIP's row of bench/route-tunnels.ts, for a host kernel without ipip: one
// User-Mode Linux boot (test/helpers/uml.ts) runs bench/uml/ipip-guest.ts,
// which measures pod → pod through netlet's tunl0 beside the same tunnel made
// by hand (in alternation), and netlet's VXLAN in the same guest. The guest
// has one CPU and a slow kernel: its figures compare with each other only.
//
//   npx node bench/route-tunnels-uml.ts [--seconds 3] [--repeat 3]

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runInUml } from '../test/helpers/uml.ts';
import { renderTable } from './lib/markdown.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, repeat: { type: 'string', default: '3' } } });
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// The guest's root is read-only: the CNI bundle it runs is built here first.
execFileSync(process.execPath, ['scripts/build.ts'], { stdio: 'inherit' });
const run = await runInUml({
  script: fileURLToPath(new URL('./uml/ipip-guest.ts', import.meta.url)),
  modules: ['ipip', 'vxlan', 'veth', 'bridge', 'ip_tables', 'iptable_raw', 'xt_tcpudp'],
  timeoutMs: 500_000,
  env: { BENCH_SECONDS: values.seconds!, BENCH_REPEAT: values.repeat! },
});
const r = run.results[0];
if (!r?.ok || !r.data) {
  process.stderr.write(`the guest failed: ${r?.detail ?? 'no result'}\n${run.guestLog.slice(-3000)}\n`);
  process.exitCode = 1;
} else {
  const d = r.data as { ipip: number[]; ipipFloor: number[]; vxlan: number[]; podMtu: number };
  const pairs = d.ipip.map((x, i) => x / d.ipipFloor[i]);
  const row = (name: string, xs: number[], ratio: string) => [name, median(xs).toFixed(2), `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`, ratio];
  process.stdout.write(
    `Inside User-Mode Linux (one CPU): pod → pod across two subnets, one TCP stream, iperf3 -t ${values.seconds} -O 1, median of ${values.repeat}; pods at MTU ${d.podMtu} (IPIP: 1500 − 20).\n\n` +
      renderTable(['path', 'Gbit/s', 'range', 'ratio'], [
        row('ipip, built by hand with ip (the floor)', d.ipipFloor, ''),
        row('ipip, netlet (tunl0)', d.ipip, `${median(pairs).toFixed(2)} of the floor (median of pairs)`),
        row('vxlan, netlet, same guest', d.vxlan, `${(median(d.vxlan) / median(d.ipip)).toFixed(2)} of ipip`),
      ]) +
      '\n',
  );
}
