// Issue 13 point 1: an upstream that is unreachable when the forwarder's
// socket is created (no route: connect(2) fails with ENETUNREACH, as on a
// node booting before its network) must not leave forwarding broken: the
// next queries fail fast and hold nothing, and once the upstream is there
// answers come back within the health-check interval (CoreDNS's forward).
// The forwarder runs in this process, moved into a namespace of its own
// (setns on the main thread, where its sockets are made); nothing leaves it.
import t from 'tap';
import dgram from 'node:dgram';
import { openSync, closeSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Lab, rootSkip } from '../../helpers/netns.ts';
import { setnsAddon } from '../../../src/netlink/native.ts';
import { UpstreamForwarder } from '../../../src/dns/forward/upstream-forwarder.ts';
import { defaultForwardOptions } from '../../../src/dns/forward/options.ts';
import { query } from '../../unit/dns/dns-helpers.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const UPSTREAM = '10.253.0.1';

/** Moves this thread into the namespace; returns the way back. */
function enter(nsName: string): () => void {
  const addon = setnsAddon();
  const home = addon.currentNetnsFd();
  const fd = openSync(`/run/netns/${nsName}`, 'r');
  addon.setns(fd);
  closeSync(fd);
  return () => {
    addon.setns(home);
    closeSync(home);
  };
}

/** Any reply will do: the question echoed with QR set and NOERROR. */
function startResponder(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.on('message', (msg, rinfo) => {
    const reply = Buffer.from(msg);
    reply.writeUInt16BE(0x8180, 2);
    s.send(reply, rinfo.port, rinfo.address);
  });
  return new Promise((r) => s.bind(53, UPSTREAM, () => r(s)));
}

/**
 * Live heap once what the last queries made is garbage: closed sockets'
 * handles go on later turns and their wrappers need a GC after their weak
 * callbacks, so several rounds of a pause and a full GC, then the lowest reading.
 */
const heapUsed = async () => {
  let low = Infinity;
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 100));
    gc();
    low = Math.min(low, process.memoryUsage().heapUsed);
  }
  return low;
};

t.test('forwarding recovers after the upstream was unreachable at socket creation, and holds nothing meanwhile', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('dfr');
  t.teardown(() => lab.cleanup());
  const ns = await lab.netns('fw');
  const leave = enter(ns.name);
  t.teardown(leave);

  const healthCheckMs = 100;
  const fwd = new UpstreamForwarder([{ host: UPSTREAM, port: 53, label: `${UPSTREAM}:53` }], { ...defaultForwardOptions(), healthCheckMs, timeoutMs: 300, expireMs: 1000 });
  t.teardown(() => fwd.stop());

  t.equal(await fwd.forward(query('first.example.test', 'A')), null, 'no route to the upstream: no reply (SERVFAIL)');

  // Each query in that state once kept ~2 KB for ever (a send waiting on a connect that never settled).
  const ask = async (n: number) => {
    for (let i = 0; i < n; i += 300) {
      await Promise.all(Array.from({ length: 300 }, (_, j) => fwd.forward(query(`q${i + j}.example.test`, 'A', { id: (i + j) & 0xffff }))));
    }
  };
  await ask(3000); // warm-up: compiled code, pools and the like grow once
  const N = 3000;
  const before = await heapUsed();
  await ask(N);
  const growth = (await heapUsed()) - before;
  t.ok(growth < 1024 * 1024, `heap grew ${(growth / 1024).toFixed(0)} KiB over ${N} unanswerable queries (bound 1 MiB; ~1.4 KB a query leaked before)`);
  t.equal(fwd.inFlight(), 0, 'nothing left in flight');

  // The upstream comes up.
  await ns.ip('addr', 'add', `${UPSTREAM}/32`, 'dev', 'lo');
  const responder = await startResponder();
  t.teardown(() => responder.close());
  const upAt = performance.now();
  let reply: Buffer | null = null;
  while (!reply && performance.now() - upAt < 3000) {
    reply = await fwd.forward(query('back.example.test', 'A', { id: 7 }));
    if (!reply) await new Promise((r) => setTimeout(r, 20));
  }
  const tookMs = performance.now() - upAt;
  t.ok(reply, 'answers come back once the upstream is up');
  t.ok(tookMs <= healthCheckMs * 3, `recovered in ${tookMs.toFixed(0)} ms (health check every ${healthCheckMs} ms)`);
  t.equal(reply?.readUInt16BE(0), 7, "the reply carries the client's ID");
});
