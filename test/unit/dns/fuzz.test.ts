// Random and mutated packets: the handler never throws, every reply it
// gives is a well-formed response to that query, and afterwards it still
// answers correctly. Then a burst of the same over a real UDP socket.
import t from 'tap';
import dgram from 'node:dgram';
import { ClusterDns } from '../../../src/dns/cluster-dns.ts';
import { ask, decodeReply, dnsConfig, inProcessDns, query, syncedStore } from './dns-helpers.ts';
import { clusterObjects } from './fixture.ts';
import { mutatedQuery, rng } from '../../helpers/fuzz.ts';
import { readAnswerAddresses } from '../../../src/dns/wire/answer-reader.ts';

/** A zone-file line without its TTL. */
const noTtl = (line: string) => line.replace(/ \d+ IN /, ' IN ');

const seeds = [
  query('svc1.testns.svc.cluster.local.', 'A'),
  query('_http._tcp.hdls1.testns.svc.cluster.local.', 'SRV', { udpSize: 1232 }),
  query('1.0.0.10.in-addr.arpa.', 'PTR'),
  query('external-to-service.testns.svc.cluster.local.', 'A', { udpSize: 4096 }),
  query('10-244-1-5.testns.pod.cluster.local.', 'A'),
  query('cluster.local.', 'NS'),
  query('example.org.', 'AAAA'),
];

/** Noise under 600 bytes, a cut, random counts over a valid question, trailing junk or a pointer loop, or a few flipped bytes of a seed. */
const packet = (r: () => number): Buffer => mutatedQuery(r, seeds, { noiseMax: 600, scrambleHeaderFrom: 4 });

/** A reply must be a response with the query's ID and a sane header. */
function checkReply(q: Buffer, reply: Buffer | null): string | null {
  if (reply === null) return null;
  if (reply.length < 12) return 'reply shorter than a header';
  if (!(reply[2] & 0x80)) return 'reply without QR';
  if (reply.readUInt16BE(0) !== q.readUInt16BE(0)) return 'reply ID differs from the query';
  return null;
}

t.test('100,000 random and mutated packets through the handler', async (t) => {
  const dns = inProcessDns(syncedStore(clusterObjects()));
  const r = rng(20261122);
  let answered = 0;
  let dropped = 0;
  const problems: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    const q = packet(r);
    let reply: Buffer | null;
    try {
      reply = await dns.handler.handle(q, i % 2 ? 'udp' : 'tcp');
    } catch (err) {
      problems.push(`packet ${i} (${q.toString('hex')}) threw ${(err as Error).stack}`);
      continue;
    }
    if (reply) answered++;
    else dropped++;
    const bad = checkReply(q, reply);
    if (bad && problems.length < 5) problems.push(`packet ${i} (${q.toString('hex')}): ${bad}`);
  }
  t.strictSame(problems, [], 'no throw, every reply well-formed');
  t.ok(answered > 50_000, `${answered} answered, ${dropped} dropped`);
  const after = await ask(dns, 'svc1.testns.svc.cluster.local.', 'A');
  // Without the TTL: under cache 30 it counts down from when the fuzz first asked.
  t.strictSame(after.answer.map(noTtl), ['svc1.testns.svc.cluster.local. IN A 10.0.0.1'], 'still answers correctly');
  t.equal((await ask(dns, 'nope.testns.svc.cluster.local.', 'A')).rcode, 'NXDOMAIN');
});

t.test('a burst of 20,000 such packets over UDP, then correct answers', async (t) => {
  const dns = new ClusterDns({ store: syncedStore(clusterObjects()), config: dnsConfig() });
  await dns.start();
  const client = dgram.createSocket('udp4');
  t.teardown(async () => {
    client.close();
    await dns.stop();
  });
  const port = dns.server.addresses()[0].port;
  const r = rng(7);
  for (let i = 0; i < 20_000; i++) {
    client.send(packet(r), port, '127.0.0.1');
    if (i % 500 === 0) await new Promise((res) => setImmediate(res));
  }
  const replies = new Map<number, Buffer>();
  client.on('message', (m) => replies.set(m.readUInt16BE(0), m));
  const deadline = Date.now() + 10_000;
  const want = [
    { id: 0xbeef, q: query('svc1.testns.svc.cluster.local.', 'A', { id: 0xbeef }), answer: ['svc1.testns.svc.cluster.local. IN A 10.0.0.1'] },
    { id: 0xcafe, q: query('svc6.testns.svc.cluster.local.', 'AAAA', { id: 0xcafe }), answer: ['svc6.testns.svc.cluster.local. IN AAAA 1234:abcd::1'] },
  ];
  // The burst may still be in the socket buffer; ask until the real queries are answered.
  while (want.some((w) => !replies.has(w.id)) && Date.now() < deadline) {
    for (const w of want) if (!replies.has(w.id)) client.send(w.q, port, '127.0.0.1');
    await new Promise((res) => setTimeout(res, 100));
  }
  for (const w of want) {
    const got = replies.get(w.id);
    t.ok(got, `reply ${w.id.toString(16)} arrived`);
    if (got) t.strictSame(decodeReply(got).answer.map(noTtl), w.answer);
  }
});

t.test('50,000 mutated upstream replies through the answer reader', async (t) => {
  const dns = inProcessDns(syncedStore(clusterObjects()));
  const replies: Buffer[] = [];
  for (const q of seeds) {
    const r = await dns.handler.handle(q, 'tcp');
    if (r) replies.push(r);
  }
  const rand = rng(99);
  let read = 0;
  const problems: string[] = [];
  for (let i = 0; i < 50_000; i++) {
    const b = Buffer.from(replies[i % replies.length]);
    const flips = 1 + Math.floor(rand() * 6);
    for (let j = 0; j < flips; j++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    try {
      if (readAnswerAddresses(b)) read++;
    } catch (err) {
      if (problems.length < 3) problems.push(`${b.toString('hex')}: ${(err as Error).message}`);
    }
  }
  t.strictSame(problems, [], 'never throws');
  t.ok(read > 0, `${read} still readable`);
  t.strictSame(readAnswerAddresses(replies[0])?.records.map((r) => r.name), ['svc1.testns.svc.cluster.local.'], 'reads an intact reply');
});
