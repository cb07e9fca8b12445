// Issue 13 point 5 (DNS wire): random and mutated packets at a running
// server, over UDP and over TCP, for a fixed time each. The server must not
// crash, every reply must be a well-formed response (wire-check.ts) or there
// is none, and afterwards it answers valid queries correctly. The server
// forwards outside names (through the cache) to a small upstream, so the
// forward path takes the same packets. Deterministic (seeded); loopback only.
import t from 'tap';
import type { Test } from 'tap';
import dgram from 'node:dgram';
import net from 'node:net';
import { silentLogger } from '../../../src/base/log.ts';
import { ClusterDns } from '../../../src/dns/cluster-dns.ts';
import { createForwarder } from '../../../src/dns/forward-chain.ts';
import { decodeReply, dnsConfig, query, syncedStore } from '../../unit/dns/dns-helpers.ts';
import { FakeUpstream } from '../../unit/dns/fake-upstream.ts';
import { clusterObjects } from '../../unit/dns/fixture.ts';
import { replyProblem } from './wire-check.ts';
import { mutatedQuery, rng } from '../../helpers/fuzz.ts';

/** Time spent sending packets on each transport. */
const BUDGET_MS = 2000;

const SEEDS = [
  query('svc1.testns.svc.cluster.local.', 'A'),
  query('_http._tcp.hdls1.testns.svc.cluster.local.', 'SRV', { udpSize: 1232 }),
  query('hdls1.testns.svc.cluster.local.', 'A', { udpSize: 512 }),
  query('1.0.0.10.in-addr.arpa.', 'PTR'),
  query('external-to-service.testns.svc.cluster.local.', 'A', { udpSize: 4096 }),
  query('10-244-1-5.testns.pod.cluster.local.', 'A'),
  query('cluster.local.', 'SOA'),
  query('www.example.org.', 'A'),
  query('mail.example.org.', 'AAAA', { udpSize: 1232 }),
];

/** Noise under 700 bytes, a cut, a scrambled header (flags and counts), trailing junk or a pointer loop, or a few flipped bytes of a seed. */
const mutated = (r: () => number): Buffer => mutatedQuery(r, SEEDS, { noiseMax: 700, scrambleHeaderFrom: 2 });

/** Each packet gets its own ID (its first two bytes), so a reply names its query. */
function withId(b: Buffer, id: number): Buffer {
  if (b.length >= 2) b.writeUInt16BE(id & 0xffff, 0);
  return b;
}

async function serve(t: Test) {
  const upstream = new FakeUpstream('192.0.2.53');
  await upstream.start();
  const config = dnsConfig({ upstreams: [upstream.label], tcpIdleTimeoutMs: 1000 });
  const forwarder = createForwarder(config, silentLogger);
  const dns = new ClusterDns({ store: syncedStore(clusterObjects()), config, forwarder });
  await dns.start();
  t.teardown(async () => {
    await dns.stop();
    forwarder?.stop?.();
    await upstream.stop();
  });
  return dns.server.addresses()[0].port;
}

async function stillAnswers(t: Test, port: number) {
  const client = dgram.createSocket('udp4');
  t.teardown(() => client.close());
  const got = new Map<number, Buffer>();
  client.on('message', (m) => got.set(m.readUInt16BE(0), m));
  // TTLs left out: under `cache 30` they count down from when the fuzz first asked (5 and 30, capped from 300).
  const want = [
    { q: query('svc1.testns.svc.cluster.local.', 'A', { id: 0xbeef }), answer: 'svc1.testns.svc.cluster.local. IN A 10.0.0.1' },
    { q: query('ok.example.org.', 'A', { id: 0xcafe }), answer: 'ok.example.org. IN A 192.0.2.53' },
  ];
  const noTtl = (lines: string[]) => lines.map((l) => l.replace(/ \d+ IN /, ' IN '));
  const deadline = performance.now() + 5000;
  while (want.some((w) => !got.has(w.q.readUInt16BE(0))) && performance.now() < deadline) {
    for (const w of want) client.send(w.q, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const w of want) t.strictSame(noTtl(decodeReply(got.get(w.q.readUInt16BE(0)) ?? Buffer.alloc(12)).answer), [w.answer], `UDP: ${w.answer}`);
  // And over TCP.
  const c = net.connect(port, '127.0.0.1');
  const frame = Buffer.alloc(2);
  frame.writeUInt16BE(want[0].q.length);
  c.write(Buffer.concat([frame, want[0].q]));
  const reply = await new Promise<Buffer>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    c.on('error', reject);
    setTimeout(() => reject(new Error('no TCP reply')), 3000).unref();
  });
  c.destroy();
  t.strictSame(noTtl(decodeReply(reply).answer), [want[0].answer], 'TCP: still answers');
}

t.test('UDP: random and mutated packets for a fixed time', async (t) => {
  const port = await serve(t);
  const r = rng(13_1);
  const client = dgram.createSocket('udp4');
  t.teardown(() => client.close());
  const sent = new Map<number, Buffer>();
  const problems: string[] = [];
  let replies = 0;
  client.on('message', (m) => {
    replies++;
    const q = sent.get(m.length >= 2 ? m.readUInt16BE(0) : -1);
    const bad = q ? replyProblem(q, m) : 'a reply to no query sent';
    if (bad && problems.length < 5) problems.push(`${bad}: query ${q?.toString('hex')} reply ${m.toString('hex')}`);
  });
  let id = 0;
  const until = performance.now() + BUDGET_MS;
  while (performance.now() < until) {
    for (let i = 0; i < 200; i++) {
      const q = withId(mutated(r), ++id);
      if (q.length >= 2) sent.set(q.readUInt16BE(0), q);
      client.send(q, port, '127.0.0.1');
    }
    // A short pause per window: the fuzzing is of content, not of load.
    await new Promise((res) => setTimeout(res, 5));
  }
  await new Promise((res) => setTimeout(res, 300));
  t.strictSame(problems, [], 'every reply well-formed');
  t.ok(replies > id / 4, `${replies} replies to ${id} packets`);
  await stillAnswers(t, port);
});

t.test('TCP: mutated messages, broken frames and cut streams for a fixed time', async (t) => {
  const port = await serve(t);
  const r = rng(13_2);
  const problems: string[] = [];
  let messages = 0;
  let replies = 0;
  let connections = 0;
  const until = performance.now() + BUDGET_MS;
  while (performance.now() < until) {
    connections++;
    const sent = new Map<number, Buffer>();
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => {});
    let buf = Buffer.alloc(0);
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const m = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + m.length);
        replies++;
        const q = sent.get(m.length >= 2 ? m.readUInt16BE(0) : -1);
        const bad = q ? replyProblem(q, m) : 'a reply to no query sent';
        if (bad && problems.length < 5) problems.push(`${bad}: query ${q?.toString('hex')} reply ${m.toString('hex')}`);
      }
    });
    const closed = new Promise<void>((res) => c.once('close', () => res()));
    await new Promise<void>((res) => c.once('connect', () => res()));
    const frames: Buffer[] = [];
    for (let i = 1 + Math.floor(r() * 20); i > 0; i--) {
      const q = withId(mutated(r), ++messages);
      if (q.length >= 2) sent.set(q.readUInt16BE(0), q);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.length);
      frames.push(len, q);
    }
    let stream = Buffer.concat(frames);
    const ending = r();
    // Some streams end in a frame that claims more than it brings, some are cut anywhere.
    if (ending < 0.15) stream = Buffer.concat([stream, Buffer.from([0xff, 0xff, 1, 2, 3])]);
    else if (ending < 0.3) stream = stream.subarray(0, Math.floor(r() * stream.length));
    // Written in random pieces, the way a slow network splits it.
    for (let at = 0; at < stream.length; ) {
      const n = 1 + Math.floor(r() * 64);
      c.write(stream.subarray(at, at + n));
      at += n;
    }
    await new Promise((res) => setTimeout(res, 20));
    c.end();
    await Promise.race([closed, new Promise((res) => setTimeout(res, 500))]);
    c.destroy();
  }
  t.strictSame(problems, [], 'every reply well-formed');
  t.ok(replies > 0, `${replies} replies to ${messages} messages over ${connections} connections`);
  await stillAnswers(t, port);
});
