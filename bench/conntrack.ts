// Cost of UDP conntrack cleanup over ctnetlink: dumping a family's table
// (whole, or filtered by the kernel on the L4 protocol) and deleting the
// entries that match, with N entries made by real UDP traffic inside a
// throwaway network namespace (needs root; the host's table is not touched).
// Run: npx node bench/conntrack.ts

import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { NetlinkConntrackTable } from '../src/netlink/conntrack.ts';

const SIZES = [5_000, 20_000];

async function makeFlows(n: number): Promise<void> {
  // One datagram to each of n service addresses: n UNREPLIED entries.
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, r));
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve, reject) =>
      sock.send('q', 53, `10.96.${(i >> 8) & 255}.${i & 255}`, (err) => (err ? reject(err) : resolve())),
    );
  }
  sock.close();
}

async function inside(n: number): Promise<void> {
  await makeFlows(n);
  const table = new NetlinkConntrackTable();
  const time = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const t0 = performance.now();
    const v = await fn();
    return [v, performance.now() - t0];
  };
  const [all, listMs] = await time(() => table.list(4));
  const [none, filteredMs] = await time(() => table.list(4, 6));
  // 100 services whose endpoints went none → some.
  const few = Array.from({ length: 100 }, (_, i) => ({ protocol: 'udp' as const, origDst: `10.96.0.${i}`, origDstPort: 53 }));
  const [fewDeleted, fewMs] = await time(() => table.deleteMatching(4, few));
  // Everything else: one filter on the port.
  const [manyDeleted, manyMs] = await time(() => table.deleteMatching(4, [{ protocol: 'udp', origDstPort: 53 }]));
  table.close();
  console.log(
    `| ${n.toLocaleString('en')} | ${all.length.toLocaleString('en')} in ${listMs.toFixed(1)} | ${none.length} in ${filteredMs.toFixed(1)} | ${fewDeleted} in ${fewMs.toFixed(1)} | ${manyDeleted.toLocaleString('en')} in ${manyMs.toFixed(1)} |`,
  );
}

if (process.argv[2] === '--inside') {
  await inside(Number(process.argv[3]));
} else {
  console.log('| UDP entries | full dump (entries in ms) | kernel-filtered dump, TCP only (entries in ms) | delete 100 services (entries in ms) | delete the rest (entries in ms) |');
  console.log('|---|---|---|---|---|');
  for (const n of SIZES) {
    const tag = `nlpcb${randomBytes(2).toString('hex')}`;
    const ns = [`${tag}-a`, `${tag}-b`];
    try {
      for (const name of ns) execFileSync('ip', ['netns', 'add', name]);
      execFileSync('ip', ['link', 'add', `${tag}a`, 'netns', ns[0], 'type', 'veth', 'peer', 'name', `${tag}b`, 'netns', ns[1]]);
      execFileSync('ip', ['-n', ns[0], 'addr', 'add', '192.168.240.1/24', 'dev', `${tag}a`]);
      execFileSync('ip', ['-n', ns[0], 'link', 'set', `${tag}a`, 'up']);
      execFileSync('ip', ['-n', ns[1], 'link', 'set', `${tag}b`, 'up']);
      execFileSync('ip', ['-n', ns[0], 'route', 'add', '10.96.0.0/16', 'via', '192.168.240.2']);
      execFileSync('ip', ['-n', ns[0], 'neigh', 'add', '192.168.240.2', 'lladdr', '02:00:00:00:00:02', 'dev', `${tag}a`]);
      // Conntrack only tracks a namespace once a rule needs it (as the proxy's NAT rules do).
      execFileSync('ip', ['netns', 'exec', ns[0], 'iptables', '-A', 'OUTPUT', '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP']);
      const out = execFileSync('ip', ['netns', 'exec', ns[0], process.execPath, fileURLToPath(import.meta.url), '--inside', String(n)], { encoding: 'utf8' });
      process.stdout.write(out);
    } finally {
      for (const name of ns) execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    }
  }
}
