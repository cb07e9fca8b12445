// Issue 13 point 6: DNS over TCP is bounded. A connection must bring a whole
// message within the read timeout (one byte now and then does not keep it
// open), and connections are capped in total and per source address, so one
// client cannot take every file descriptor from the others. Real sockets on
// 127.0.0.0/8 (several source addresses, all loopback).
import t from 'tap';
import net from 'node:net';
import { ClusterDns } from '../../../src/dns/cluster-dns.ts';
import { decodeReply, dnsConfig, query, syncedStore } from '../../unit/dns/dns-helpers.ts';
import { clusterObjects } from '../../unit/dns/fixture.ts';

function frame(b: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

interface Conn {
  sock: net.Socket;
  /** Resolves with the time the server closed it. */
  closed: Promise<number>;
  isClosed: () => boolean;
}

async function connect(port: number, from = '127.0.0.1'): Promise<Conn> {
  const sock = net.connect({ port, host: '127.0.0.1', localAddress: from });
  sock.on('error', () => {});
  let done = false;
  const closed = new Promise<number>((r) => sock.once('close', () => ((done = true), r(performance.now()))));
  await new Promise((r) => sock.once('connect', r));
  return { sock, closed, isClosed: () => done };
}

/** One A query over a new connection from `from`: the rcode, or 'closed' when the server hung up. */
async function askOver(port: number, from: string): Promise<string> {
  const c = await connect(port, from);
  let buf = Buffer.alloc(0);
  const reply = new Promise<string>((resolve) => {
    c.sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) resolve(decodeReply(buf.subarray(2, 2 + buf.readUInt16BE(0))).rcode);
    });
    c.closed.then(() => resolve('closed'));
  });
  c.sock.write(frame(query('svc1.testns.svc.cluster.local.', 'A', { id: 9 })));
  const got = await reply;
  c.sock.destroy();
  return got;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('the read timeout covers a whole message: a byte every 100 ms does not keep a connection', async (t) => {
  const dns = new ClusterDns({ store: syncedStore(clusterObjects()), config: dnsConfig({ tcpIdleTimeoutMs: 300 }) });
  await dns.start();
  t.teardown(() => dns.stop());
  const port = dns.server.addresses()[0].port;

  const c = await connect(port);
  const openedAt = performance.now();
  // A 40-byte message, one byte at a time: it would take 4 s to finish.
  const msg = frame(query('svc1.testns.svc.cluster.local.', 'A', { id: 1 }));
  for (let i = 0; i < msg.length && !c.isClosed() && performance.now() - openedAt < 1500; i++) {
    c.sock.write(msg.subarray(i, i + 1));
    await sleep(100);
  }
  t.ok(c.isClosed(), 'the server closed the trickling connection');
  if (c.isClosed()) t.ok((await c.closed) - openedAt < 700, `closed ${((await c.closed) - openedAt).toFixed(0)} ms after opening (timeout 300 ms)`);
  c.sock.destroy();

  // A connection that sends whole queries keeps going past the timeout, query by query.
  t.equal(await askOver(port, '127.0.0.1'), 'NOERROR', 'a prompt query is answered');
});

t.test('connections are capped per source address and in total', async (t) => {
  const limits = { maxConnections: 12, maxPerSource: 5 };
  const dns = new ClusterDns({ store: syncedStore(clusterObjects()), config: dnsConfig({ tcpIdleTimeoutMs: 5000, tcpLimits: limits }) });
  await dns.start();
  t.teardown(() => dns.stop());
  const port = dns.server.addresses()[0].port;
  const held: Conn[] = [];
  t.teardown(() => held.forEach((c) => c.sock.destroy()));

  for (let i = 0; i < limits.maxPerSource + 3; i++) held.push(await connect(port, '127.0.0.2'));
  await sleep(200);
  const open = () => held.filter((c) => !c.isClosed()).length;
  t.equal(open(), limits.maxPerSource, `one source keeps ${limits.maxPerSource} connections; the others are closed at once`);
  t.equal(await askOver(port, '127.0.0.3'), 'NOERROR', 'another source is still answered');

  // Fill the total from more sources: past it, new connections are closed whatever their source.
  for (const from of ['127.0.0.4', '127.0.0.5']) for (let i = 0; i < limits.maxPerSource; i++) held.push(await connect(port, from));
  await sleep(200);
  t.equal(open(), limits.maxConnections, `${limits.maxConnections} connections in all`);
  t.equal(await askOver(port, '127.0.0.6'), 'closed', 'a new source past the total is closed');

  // Closing some makes room again.
  for (const c of held.slice(0, 5)) c.sock.destroy();
  await sleep(100);
  t.equal(await askOver(port, '127.0.0.6'), 'NOERROR', 'room again once connections close');
});
