// Issue 13 point 8: a restart that overlaps (the new process started while
// the old one serves, as a DaemonSet with maxSurge does) loses no query:
// the new process binds the same port beside the old (SO_REUSEPORT), joins
// only once its zones are synced, and the old one stops after. A steady
// stream of UDP queries runs through the whole hand-over; each must be
// answered within 1 s. Loopback only.
import t from 'tap';
import type { Test } from 'tap';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, netletBin, start } from './forward-dnsmasq.ts';
import type { Proc } from './forward-dnsmasq.ts';
import { eventually } from '../../helpers/netns.ts';
import { query } from '../../unit/dns/dns-helpers.ts';
import { webServiceManifest } from './web-manifest.ts';

/** Queries every 5 ms with a new ID; counts those answered with a record within 1 s. */
function queryStream(port: number) {
  const sock = dgram.createSocket('udp4');
  const sentAt = new Map<number, number>();
  let sent = 0;
  let answered = 0;
  sock.on('message', (m) => {
    const id = m.readUInt16BE(0);
    if (sentAt.delete(id) && (m[3] & 0xf) === 0 && m.readUInt16BE(6) > 0) answered++;
  });
  const timer = setInterval(() => {
    const id = ++sent & 0xffff;
    sentAt.set(id, performance.now());
    sock.send(query('web.default.svc.cluster.local', 'A', { id }), port, '127.0.0.1');
  }, 5);
  return {
    async stop(): Promise<{ sent: number; answered: number; lostAt: number[] }> {
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, 1000));
      sock.close();
      return { sent, answered, lostAt: [...sentAt.values()] };
    },
  };
}

const serving = (p: Proc) => p.log().includes('cluster DNS serving');

/**
 * A manifest folder with the Service web, and run(), which starts a
 * `netlet dns` on it (killed at teardown). Every run listens on the same DNS
 * port and the same health, ready and metrics ports, as a restarted
 * DaemonSet pod does.
 */
async function dnsOnFixedPorts(t: Test, dirPrefix: string): Promise<{ port: number; run: () => Proc }> {
  const dir = await mkdtemp(join(tmpdir(), dirPrefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'cluster.yaml'), webServiceManifest('10.96.7.7'));
  const port = await freePort();
  const http = ['--health', `127.0.0.1:${await freePort()}`, '--ready', `127.0.0.1:${await freePort()}`, '--metrics', `127.0.0.1:${await freePort()}`];
  const run = () => {
    const p = start(process.execPath, [netletBin, 'dns', '--manifests', dir, '--listen', `127.0.0.1:${port}`, ...http]);
    t.teardown(() => void p.child.kill('SIGKILL'));
    return p;
  };
  return { port, run };
}

t.test('an overlapping restart of netlet dns loses no query', async (t) => {
  const { port, run } = await dnsOnFixedPorts(t, 'netlet-dns-overlap-');

  const old = run();
  await eventually(() => serving(old), 20_000);
  const stream = queryStream(port);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 500));

  const next = run();
  await eventually(() => serving(next) || next.child.exitCode !== null, 20_000);
  const nextServing = performance.now();
  t.ok(serving(next), `the new process serves beside the old one${serving(next) ? '' : `; its log: ${next.log()}`}`);
  await new Promise((r) => setTimeout(r, 300));
  old.child.kill('SIGTERM');
  const killed = performance.now();
  t.equal(await old.exited, 0, 'the old process stops cleanly');
  const exitedAt = performance.now();
  await new Promise((r) => setTimeout(r, 500));

  const { sent, answered, lostAt } = await stream.stop();
  t.comment(`overlapping restart: ${sent - answered} of ${sent} queries lost`);
  if (lostAt.length) t.comment(`lost queries sent at ${lostAt.map((x) => (x - t0).toFixed(0)).join(', ')} ms; the new process served at ${(nextServing - t0).toFixed(0)}, the old one was stopped at ${(killed - t0).toFixed(0)} and gone at ${(exitedAt - t0).toFixed(0)}`);
  t.ok(sent > 200, `${sent} queries sent`);
  // 0 in every run so far; 1 is allowed: a datagram the kernel queued on the old socket in the instant it closed is dropped with it.
  t.ok(sent - answered <= 1, `${sent - answered} lost through the hand-over (at most 1)`);
});

// What a restart that cannot overlap (the old process stops, then the new one
// starts, as a plain process restart does) still loses: reported, not
// asserted, since it depends on the start-up time.
t.test('a restart that does not overlap: the queries lost are reported', async (t) => {
  const { port, run } = await dnsOnFixedPorts(t, 'netlet-dns-restart-');
  const old = run();
  await eventually(() => serving(old), 20_000);
  const stream = queryStream(port);
  await new Promise((r) => setTimeout(r, 500));
  const stoppedAt = performance.now();
  old.child.kill('SIGTERM');
  await old.exited;
  const next = run();
  await eventually(() => serving(next), 20_000);
  const servingAfterMs = performance.now() - stoppedAt;
  await new Promise((r) => setTimeout(r, 500));
  const { sent, answered } = await stream.stop();
  t.comment(`restart without overlap: ${sent - answered} of ${sent} queries lost (one every 5 ms; ${servingAfterMs.toFixed(0)} ms from SIGTERM to the new process serving)`);
  t.ok(answered > 0, 'the new process answers');
});
