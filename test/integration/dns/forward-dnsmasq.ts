// Shared pieces of the forwarding integration tests: a real upstream
// (Debian's dnsmasq) and `netlet dns --corefile` as a child process.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { eventually, sh } from '../../helpers/netns.ts';

export const netletBin = fileURLToPath(new URL('../../../bin/netlet.js', import.meta.url));

/** A port free on 127.0.0.1 for both UDP and TCP right now. */
export async function freePort(): Promise<number> {
  for (;;) {
    const u = dgram.createSocket('udp4');
    await new Promise<void>((r) => u.bind(0, '127.0.0.1', () => r()));
    const port = u.address().port;
    const ok = await new Promise<boolean>((r) => {
      const s = net.createServer();
      s.once('error', () => r(false));
      s.listen(port, '127.0.0.1', () => s.close(() => r(true)));
    });
    u.close();
    if (ok) return port;
  }
}

export interface Proc {
  child: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

export function start(cmd: string, args: string[]): Proc {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, log: () => log, exited };
}

/** dnsmasq answering example.test names with 192.0.2.7, big.example.test with 100 addresses, a PTR, NXDOMAIN under nx.test. */
export async function startDnsmasq(port: number, hostsFile: string): Promise<Proc> {
  const p = start('dnsmasq', [
    '--no-daemon', '--conf-file=/dev/null', '--pid-file=', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces',
    '--no-resolv', '--no-hosts', `--addn-hosts=${hostsFile}`, '--address=/example.test/192.0.2.7', '--address=/nx.test/',
    '--ptr-record=7.2.0.192.in-addr.arpa,host.example.test', '--edns-packet-max=1232', '--user=root', '--group=root',
  ]);
  await eventually(async () => (await sh('dig', ['@127.0.0.1', '-p', String(port), '+time=1', '+tries=1', '+short', 'a.example.test'], { allowFail: true })).trim() === '192.0.2.7', 10_000);
  return p;
}

export const dig = async (port: number, ...args: string[]) =>
  (await sh('dig', ['@127.0.0.1', '-p', String(port), '+time=3', '+tries=1', ...args], { allowFail: true })).trim();

/** The address printed in `netlet dns`'s "serving" log line. */
export async function servedPort(p: Proc): Promise<number> {
  const port = await eventually(() => /"listen":\[\{"address":"127\.0\.0\.1","family":"IPv4","port":(\d+)/.exec(p.log())?.[1] ?? '', 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; log: ${p.log()}`);
  });
  return Number(port);
}

export async function httpGet(url: string): Promise<string> {
  const res = await fetch(url);
  return `${res.status} ${await res.text()}`;
}

/** The value of one sample line of a Prometheus exposition, 0 when absent. */
export function sample(metrics: string, name: string, labels: Record<string, string>): number {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}
