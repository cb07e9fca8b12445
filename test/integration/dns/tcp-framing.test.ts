// TCP details dig does not show: frames split across writes, several in
// one write, and the idle timeout closing a silent connection.
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

t.test('TCP framing and idle timeout', async (t) => {
  const dns = new ClusterDns({ store: syncedStore(clusterObjects()), config: dnsConfig({ tcpIdleTimeoutMs: 300 }) });
  await dns.start();
  t.teardown(() => dns.stop());
  const port = dns.server.addresses()[0].port;

  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const replies: Buffer[] = [];
  let buf = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      buf = buf.subarray(2 + buf.readUInt16BE(0));
    }
  });
  const closed = new Promise<number>((r) => sock.once('close', () => r(Date.now())));

  const a = frame(query('svc1.testns.svc.cluster.local.', 'A', { id: 1 }));
  const b = frame(query('svc6.testns.svc.cluster.local.', 'AAAA', { id: 2 }));
  const c = frame(query('nope.testns.svc.cluster.local.', 'A', { id: 3 }));
  sock.write(Buffer.concat([a, b.subarray(0, 5)]));
  await new Promise((r) => setTimeout(r, 50));
  sock.write(Buffer.concat([b.subarray(5), c]));
  const sentAt = Date.now();
  const closedAt = await closed;
  t.strictSame(replies.map((r) => decodeReply(r)).map((r) => [r.id, r.rcode, r.answer.length]), [
    [1, 'NOERROR', 1],
    [2, 'NOERROR', 1],
    [3, 'NXDOMAIN', 0],
  ]);
  t.ok(closedAt - sentAt >= 250, `the idle connection was closed by the server after ${closedAt - sentAt} ms`);
});
