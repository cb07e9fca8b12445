// DNS soak: `netlet dns --corefile` (deploy/50-dns.yaml's forward and cache
// settings) beside dnsmasq, both serving the same 1,000 cluster names and
// forwarding external names to one upstream (another dnsmasq) that goes away
// and comes back on a fixed cycle. Gone means the upstream is killed and its
// link is down, so there is no route to it and a socket made then fails to
// connect, as on a node booting before its network (issue 13); the run starts
// in that state. A steady mix of queries at a fixed rate goes to both
// servers; every interval the table gets each one's answer rate for cluster
// and external names and its RSS, so a leak (RSS that climbs while the
// upstream is away) or a forwarder that does not recover (external answers
// that stay low once the upstream is back) shows. Then the time each server
// took to answer external names again after each return of the upstream.
// Everything runs in a network namespace the script makes and removes.
//
// Run: npx node bench/dns-soak.ts [--minutes 10] [--qps 400]
// (--qps: queries per second to each server: half cluster names, half
// external, of which 60 % new names (cache misses) and 40 % repeated ones.)
// Needs root, iproute2 and dnsmasq (Debian package dnsmasq-base).

import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { freeUdpPort } from './lib/free-port.ts';

const { values: args } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, qps: { type: 'string', default: '400' } } });
const MINUTES = Number(args.minutes);
const QPS = Number(args.qps);
if (!(MINUTES > 0) || !(QPS > 0)) throw new Error('--minutes and --qps take positive numbers');
const RUN_S = MINUTES * 60;
/** The upstream's address, in a namespace of its own behind link up0: up0 down = no route to it. */
const UPSTREAM = '10.255.0.53';

// The parent makes the namespaces (the servers' and the upstream's, joined by
// a veth pair) and runs the bench in the first (a child of its own), then removes them.
if (!process.env.DNS_SOAK_NETNS) {
  const tag = randomBytes(2).toString('hex');
  const [ns, upNs] = [`nlsoak${tag}`, `nlsoakup${tag}`];
  for (const n of [ns, upNs]) {
    execFileSync('ip', ['netns', 'add', n]);
    execFileSync('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
  }
  try {
    execFileSync('ip', ['-n', ns, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1', 'netns', upNs]);
    execFileSync('ip', ['-n', ns, 'addr', 'add', '10.255.0.1/24', 'dev', 'up0']);
    execFileSync('ip', ['-n', upNs, 'addr', 'add', `${UPSTREAM}/24`, 'dev', 'up1']);
    execFileSync('ip', ['-n', upNs, 'link', 'set', 'up1', 'up']);
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit', env: { ...process.env, DNS_SOAK_NETNS: ns, DNS_SOAK_UPSTREAM_NETNS: upNs },
    });
    process.on('SIGINT', () => child.kill('SIGINT'));
    process.exitCode = await new Promise<number>((r) => child.on('exit', (code) => r(code ?? 1)));
  } finally {
    for (const n of [ns, upNs]) {
      for (const pid of execFileSync('ip', ['netns', 'pids', n], { encoding: 'utf8' }).split(/\s+/).filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      execFileSync('ip', ['netns', 'del', n]);
    }
  }
  process.exit();
}

/** The upstream is gone for the first third of each cycle and there for the rest. */
const CYCLE_S = Math.min(90, RUN_S / 2);
const ROW_S = RUN_S <= 180 ? 10 : 20;
/** A query with no reply after this long is lost (a stub resolver's first timeout is 5 s; dig's is 5 s too, this is stricter). */
const LOST_AFTER_MS = 2000;
const SERVICES = 1000;
const netlet = fileURLToPath(new URL('../bin/netlet.js', import.meta.url));

function start(cmd: string, argv: string[]): ChildProcess {
  const c = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  c.stderr!.resume();
  return c;
}

async function rssMb(pid: number | undefined): Promise<number> {
  if (!pid) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function encodeQuery(id: number, name: string): Buffer {
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4);
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

const clusterName = (i: number) => `svc-${i}.ns-${i % 10}.svc.cluster.local`;
const clusterIp = (i: number) => `10.96.${i >> 8}.${i & 255}`;

type Kind = 'cluster' | 'external';
interface Counts {
  sent: number;
  ok: number;
  servfail: number;
}
const zero = (): Counts => ({ sent: 0, ok: 0, servfail: 0 });

/** One server under load: a UDP socket, the queries in flight, counts per row and kind. */
class Target {
  readonly name: string;
  readonly port: number;
  readonly pid: () => number | undefined;
  readonly rows: Array<Record<Kind, Counts> & { rss: number }> = [];
  /** Seconds from the start at which external names were answered again after each upstream return. */
  readonly recoveredAt: number[] = [];
  #waitingSince: number | null = null;
  readonly #sock = dgram.createSocket('udp4');
  readonly #inFlight = new Map<number, { kind: Kind; row: number; at: number }>();
  #nextId = 0;

  constructor(name: string, port: number, pid: () => number | undefined) {
    this.name = name;
    this.port = port;
    this.pid = pid;
    this.#sock.on('message', (m) => this.#onReply(m));
  }

  row(i: number): Record<Kind, Counts> & { rss: number } {
    while (this.rows.length <= i) this.rows.push({ cluster: zero(), external: zero(), rss: NaN });
    return this.rows[i];
  }

  /** From now on, the next external answer counts as the recovery from the upstream's return. */
  upstreamBack(): void {
    this.#waitingSince = performance.now();
  }

  send(kind: Kind, name: string, row: number): void {
    let id = this.#nextId++ & 0xffff;
    for (let i = 0; this.#inFlight.has(id) && i < 16; i++) id = this.#nextId++ & 0xffff;
    if (this.#inFlight.has(id)) return;
    this.#inFlight.set(id, { kind, row, at: performance.now() });
    this.row(row)[kind].sent++;
    this.#sock.send(encodeQuery(id, name), this.port, '127.0.0.1');
  }

  /** Forgets queries past LOST_AFTER_MS: they stay counted as sent and not answered. */
  expire(): void {
    const old = performance.now() - LOST_AFTER_MS;
    for (const [id, q] of this.#inFlight) if (q.at < old) this.#inFlight.delete(id);
  }

  close(): void {
    this.#sock.close();
  }

  #onReply(m: Buffer): void {
    if (m.length < 12) return;
    const q = this.#inFlight.get(m.readUInt16BE(0));
    if (!q) return;
    this.#inFlight.delete(m.readUInt16BE(0));
    const rcode = m[3] & 0xf;
    const counts = this.row(q.row)[q.kind];
    if (rcode === 0 && m.readUInt16BE(6) > 0) counts.ok++;
    else if (rcode === 2) counts.servfail++;
    if (q.kind === 'external' && rcode === 0 && this.#waitingSince !== null && q.at >= this.#waitingSince) {
      this.recoveredAt.push((performance.now() - this.#waitingSince) / 1000);
      this.#waitingSince = null;
    }
  }
}

const dir = await mkdtemp(join(tmpdir(), 'netlet-bench-soak-'));
const children: ChildProcess[] = [];
const cleanup = async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
};
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

try {
  // The cluster: manifests for netlet, the same names as a hosts file for dnsmasq.
  const docs = Array.from({ length: 10 }, (_, n) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ns-${n}}\n`);
  for (let i = 0; i < SERVICES; i++) {
    docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: svc-${i}, namespace: ns-${i % 10}}\nspec:\n  clusterIP: ${clusterIp(i)}\n  ports: [{name: http, port: 80, protocol: TCP}]\n`);
  }
  await writeFile(join(dir, 'cluster.yaml'), docs.join('---\n'));
  const hosts = join(dir, 'cluster.hosts');
  await writeFile(hosts, Array.from({ length: SERVICES }, (_, i) => `${clusterIp(i)} ${clusterName(i)}`).join('\n') + '\n');

  // The upstream: any name under example.test is 192.0.2.7, for 30 s.
  const upPort = 53;
  const upstreamArgs = ['--no-daemon', '--conf-file=/dev/null', '--pid-file=', `--port=${upPort}`, `--listen-address=${UPSTREAM}`, '--bind-interfaces',
    '--no-resolv', '--no-hosts', '--address=/example.test/192.0.2.7', '--local-ttl=30', '--user=root', '--group=root'];
  let upstream: ChildProcess | null = null;
  const upstreamNs = process.env.DNS_SOAK_UPSTREAM_NETNS!;
  const link = (state: 'up' | 'down') => execFileSync('ip', ['link', 'set', 'up0', state]);
  link('down');

  const netletPort = await freeUdpPort();
  const corefile = join(dir, 'Corefile');
  // deploy/50-dns.yaml's Corefile, with the upstream in place of /etc/resolv.conf and no HTTP endpoints.
  await writeFile(corefile, `.:53 {
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    forward . ${UPSTREAM}:${upPort} {
        max_concurrent 1000
    }
    cache 30
    loadbalance
}
`);
  const dns = start(process.execPath, [netlet, 'dns', '--corefile', corefile, '--manifests', dir, '--listen', `127.0.0.1:${netletPort}`, '--log-level', 'warn']);
  children.push(dns);

  const dnsmasqPort = await freeUdpPort();
  const dnsmasq = start('dnsmasq', ['--no-daemon', '--conf-file=/dev/null', '--pid-file=', `--port=${dnsmasqPort}`, '--listen-address=127.0.0.1', '--bind-interfaces',
    '--no-resolv', '--no-hosts', `--addn-hosts=${hosts}`, `--server=${UPSTREAM}#${upPort}`, '--cache-size=10000', '--dns-forward-max=1000', '--user=root', '--group=root']);
  children.push(dnsmasq);

  const targets = [new Target('netlet', netletPort, () => dns.pid), new Target('dnsmasq', dnsmasqPort, () => dnsmasq.pid)];
  // Both answer the last cluster name before the clock starts.
  for (const t of targets) {
    const probe = dgram.createSocket('udp4');
    const ready = new Promise<void>((r) => probe.on('message', (m) => m.readUInt16BE(6) > 0 && r()));
    const timer = setInterval(() => probe.send(encodeQuery(1, clusterName(SERVICES - 1)), t.port, '127.0.0.1'), 200);
    await Promise.race([ready, new Promise((_, rej) => setTimeout(() => rej(new Error(`${t.name} did not answer in 60 s`)), 60_000))]).finally(() => clearInterval(timer));
    probe.close();
  }

  const upstreamByRow: string[] = [];
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  let sent = 0;
  let unique = 0;
  let upstreamUp = false;
  await new Promise<void>((done) => {
    const tick = setInterval(() => {
      const now = elapsed();
      if (now >= RUN_S) {
        clearInterval(tick);
        done();
        return;
      }
      const row = Math.floor(now / ROW_S);
      // The upstream's cycle: gone for 1/3, up for 2/3.
      const wantUp = now % CYCLE_S >= CYCLE_S / 3;
      if (wantUp !== upstreamUp) {
        upstreamUp = wantUp;
        if (!wantUp) {
          upstream?.kill('SIGKILL');
          link('down');
        } else {
          link('up');
          upstream = start('ip', ['netns', 'exec', upstreamNs, 'dnsmasq', ...upstreamArgs]);
          children.push(upstream);
          for (const t of targets) t.upstreamBack();
        }
        process.stderr.write(`${now.toFixed(0)} s: upstream ${wantUp ? 'back' : 'gone'}\n`);
      }
      upstreamByRow[row] = upstreamByRow[row] === undefined || upstreamByRow[row] === (upstreamUp ? 'up' : 'down') ? (upstreamUp ? 'up' : 'down') : 'both';
      // Queries due by now at QPS, spread over the 10 ms ticks.
      const due = Math.floor(now * QPS) - sent;
      for (let i = 0; i < due; i++, sent++) {
        const external = sent % 2 === 1;
        const name = !external ? clusterName(Math.floor(Math.random() * SERVICES)) : Math.random() < 0.6 ? `u${unique++}.example.test` : `r${Math.floor(Math.random() * 100)}.example.test`;
        for (const t of targets) t.send(external ? 'external' : 'cluster', name, row);
      }
      for (const t of targets) t.expire();
    }, 10);
    // RSS at the end of each row.
    const sampler = setInterval(async () => {
      const row = Math.floor(elapsed() / ROW_S) - 1;
      if (row < 0) return;
      for (const t of targets) if (Number.isNaN(t.row(row).rss)) t.row(row).rss = await rssMb(t.pid());
    }, 1000);
    void new Promise((r) => setTimeout(r, RUN_S * 1000 + 500)).then(() => clearInterval(sampler));
  });
  // The last queries' replies, and the last row's RSS.
  await new Promise((r) => setTimeout(r, LOST_AFTER_MS + 200));
  const lastRow = Math.ceil(RUN_S / ROW_S) - 1;
  for (const t of targets) if (Number.isNaN(t.row(lastRow).rss)) t.row(lastRow).rss = await rssMb(t.pid());

  const pct = (c: Counts) => (c.sent ? `${((100 * c.ok) / c.sent).toFixed(1)} %` : '–');
  console.log(`${MINUTES} min, ${QPS} queries/s to each server (half cluster names, half external); upstream gone (no route) ${(CYCLE_S / 3).toFixed(0)} s then up ${((CYCLE_S * 2) / 3).toFixed(0)} s, repeated, from the start; answered = NOERROR with an answer within ${LOST_AFTER_MS} ms. Machine shared with other work.\n`);
  console.log('| t (s) | upstream | netlet cluster | netlet external | netlet SERVFAIL | netlet RSS MB | dnsmasq cluster | dnsmasq external | dnsmasq SERVFAIL | dnsmasq RSS MB |');
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (let i = 0; i <= lastRow; i++) {
    const cells = targets.flatMap((t) => {
      const r = t.row(i);
      return [pct(r.cluster), pct(r.external), String(r.cluster.servfail + r.external.servfail), r.rss.toFixed(1)];
    });
    console.log(`| ${i * ROW_S}–${Math.min((i + 1) * ROW_S, RUN_S)} | ${upstreamByRow[i] ?? ''} | ${cells.join(' | ')} |`);
  }
  console.log('\n| server | seconds to answer external names after each return of the upstream |');
  console.log('|---|---|');
  for (const t of targets) console.log(`| ${t.name} | ${t.recoveredAt.map((s) => s.toFixed(2)).join(', ') || '–'} |`);
  for (const t of targets) t.close();
} finally {
  await cleanup();
}
