// `netlet dns --corefile` with kubeadm's Corefiles, asked with dig over real
// sockets: the TTLs, flags and OPT CoreDNS gives under `cache 30` (Kubernetes
// 1.31/1.32) and under `cache 30 { disable success|denial cluster.local }`
// (newer kubeadm). Names outside the cluster go to a small upstream on loopback.
import t from 'tap';
import type { Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, sh } from '../../helpers/netns.ts';
import { FakeUpstream } from '../../unit/dns/fake-upstream.ts';
import { webServiceManifest } from './web-manifest.ts';

const netlet = fileURLToPath(new URL('../../../bin/netlet.js', import.meta.url));

const corefile = (upstream: string, cache: string) => `.:53 {
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    forward . ${upstream} {
       max_concurrent 1000
    }
    ${cache}
    loop
    reload
    loadbalance
}
`;

/** Starts `netlet dns` with this cache line; returns dig against it. */
async function serve(t: Test, cacheLine: string) {
  const upstream = new FakeUpstream('192.0.2.44');
  await upstream.start();
  t.teardown(() => upstream.stop());
  const dir = await mkdtemp(join(tmpdir(), 'netlet-kubeadm-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'cluster.yaml'), webServiceManifest('10.96.7.7'));
  await writeFile(join(dir, 'Corefile'), corefile(upstream.label, cacheLine));
  const child = spawn(process.execPath, [netlet, 'dns', '--corefile', join(dir, 'Corefile'), '--manifests', dir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const port: string = await eventually(() => /"listen":\[\{"address":"127\.0\.0\.1","family":"IPv4","port":(\d+)/.exec(log)?.[1] ?? '', 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; log: ${log}`);
  });
  const dig = (...args: string[]) => sh('dig', ['@127.0.0.1', '-p', port, '+time=3', '+tries=2', '+nocookie', ...args]);
  await eventually(() => dig('+short', 'web.default.svc.cluster.local').then((a) => (a.trim() === '10.96.7.7' ? a : '')));
  return dig;
}

/** The TTL of the first answer line for `name`. */
const ttlOf = (out: string, name: string) => Number(new RegExp(`\\n${name.replace(/\./g, '\\.')}\\s+(\\d+)\\s+IN`).exec(out)?.[1] ?? -1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('kubeadm 1.31: cache 30 ages cluster answers and caps forwarded ones', async (t) => {
  const dig = await serve(t, 'cache 30');
  const web = 'web.default.svc.cluster.local.';
  // A name not asked yet: its first answer starts the count.
  const first = await dig('+bufsize=512', `_http._tcp.${web}`, 'SRV');
  t.equal(ttlOf(first, `_http._tcp.${web}`), 30, 'first answer: 30');
  t.match(first, /flags: qr aa rd;/, 'kubernetes answer: AA, no RA');
  t.match(first, /udp: 512/, 'OPT echoes the client\'s bufsize');
  await sleep(2100);
  const later = await dig(`_http._tcp.${web}`, 'SRV');
  const ttl = ttlOf(later, `_http._tcp.${web}`);
  t.ok(ttl >= 27 && ttl <= 28, `counted down 2 s later (got ${ttl})`);

  const ext = await dig('www.example.test.', 'A');
  t.equal(ttlOf(ext, 'www.example.test.'), 30, 'upstream 300 capped at 30');
  t.match(ext, /flags: qr rd ra;/, 'forwarded: RA');
  t.equal(ttlOf(await dig('dns-version.cluster.local.', 'TXT'), 'dns-version.cluster.local.'), 30, 'dns-version 28800 capped at 30');
  const pod = await dig('+short', '10-244-1-5.default.pod.cluster.local.', 'SRV');
  t.equal(pod.trim(), '0 100 0 10-244-1-5.default.pod.cluster.local.', 'pod SRV');
});

t.test('newer kubeadm: disable success|denial cluster.local leaves cluster TTLs whole', async (t) => {
  const dig = await serve(t, 'cache 30 {\n        disable success cluster.local\n        disable denial cluster.local\n    }');
  const web = 'web.default.svc.cluster.local.';
  t.equal(ttlOf(await dig(web, 'A'), web), 30);
  const nx1 = await dig('nope.default.svc.cluster.local.', 'A');
  t.match(nx1, /status: NXDOMAIN/);
  await dig('www.example.test.', 'A');
  await sleep(2100);
  t.equal(ttlOf(await dig(web, 'A'), web), 30, 'not aged: success is not cached for cluster.local');
  t.match(await dig('nope.default.svc.cluster.local.', 'A'), /\ncluster\.local\.\s+30\s+IN\s+SOA/, 'denial not aged either');
  const ext = ttlOf(await dig('www.example.test.', 'A'), 'www.example.test.');
  t.ok(ext >= 27 && ext <= 28, `forwarded names are still cached and age (got ${ext})`);
});
