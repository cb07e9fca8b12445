// CoreDNS's `log` line (common log format) with the client's address, and
// the client's transport handed to the forwarder.
import t from 'tap';
import { ClusterDns } from '../../../src/dns/cluster-dns.ts';
import type { Forwarder } from '../../../src/dns/forward/forwarder.ts';
import type { Observation } from '../../../src/dns/answer/handler.ts';
import { dnsConfig, query, syncedStore } from './dns-helpers.ts';
import { clusterObjects } from './fixture.ts';

const Z = 'svc.cluster.local.';
const client = (address: string) => ({ address: () => address });

function logged(over: { log: boolean; forwarder?: Forwarder }) {
  const seen: Observation[] = [];
  const dns = new ClusterDns({ store: syncedStore(clusterObjects()), config: dnsConfig({ log: over.log }), observe: (o) => seen.push(o), forwarder: over.forwarder });
  dns.index.start();
  return { dns, seen };
}

t.test('log lines in CoreDNS common log format, with the client address', async (t) => {
  const { dns, seen } = logged({ log: true });
  const udp = query(`svc1.testns.${Z}`, 'A', { id: 41953 });
  const udpReply = (await dns.handler.handle(udp, 'udp', client('127.0.0.1:53977')))!;
  const edns = query(`SVC1.testns.${Z}`, 'AAAA', { id: 7, udpSize: 1232 });
  const ednsReply = (await dns.handler.handle(edns, 'udp', client('[::1]:40000')))!;
  const tcp = query(`nope.testns.${Z}`, 'A', { id: 9, rd: false });
  const tcpReply = (await dns.handler.handle(tcp, 'tcp', client('10.0.0.5:5353')))!;
  const lines = seen.map((o) => o.logLine!.replace(/ [\d.]+s$/, ' <dur>'));
  const rows: Array<[string, string]> = [
    ['UDP, no EDNS: bufsize 512', `127.0.0.1:53977 - 41953 "A IN svc1.testns.${Z} udp ${udp.length} false 512" NOERROR qr,aa,rd ${udpReply.length} <dur>`],
    ['IPv6 client bracketed, EDNS bufsize, name lowercased', `[::1]:40000 - 7 "AAAA IN svc1.testns.${Z} udp ${edns.length} false 1232" NOERROR qr,aa,rd ${ednsReply.length} <dur>`],
    ['TCP: bufsize 65535, NXDOMAIN, no rd', `10.0.0.5:5353 - 9 "A IN nope.testns.${Z} tcp ${tcp.length} false 65535" NXDOMAIN qr,aa ${tcpReply.length} <dur>`],
  ];
  rows.forEach(([name, want], i) => t.equal(lines[i], want, name));
  t.match(seen[0].logLine!, / \d+\.\d+s$/, 'duration in seconds with an s, as Go prints it');
  t.ok(dns.handler.wantsClient, 'servers are asked for the client address');
});

t.test('no log: no line and no client address asked for', async (t) => {
  const { dns, seen } = logged({ log: false });
  let asked = 0;
  await dns.handler.handle(query(`svc1.testns.${Z}`, 'A'), 'udp', { address: () => `${++asked}` });
  t.equal(seen.length, 1);
  t.equal(seen[0].logLine, undefined);
  t.equal(asked, 0);
  t.notOk(dns.handler.wantsClient);
});

t.test("forwarded queries: logged with the client's address, and the client's transport goes to the forwarder", async (t) => {
  const protos: Array<string | undefined> = [];
  const forwarder: Forwarder = {
    async forward(q, proto) {
      protos.push(proto);
      const reply = Buffer.from(q);
      reply[2] |= 0x80;
      return reply;
    },
  };
  const { dns, seen } = logged({ log: true, forwarder });
  const packet = query('example.org.', 'A', { id: 5 });
  await dns.handler.handle(packet, 'udp', client('127.0.0.1:1000'));
  await dns.handler.handle(packet, 'tcp', client('127.0.0.1:1001'));
  t.strictSame(protos, ['udp', 'tcp']);
  t.match(seen[0].logLine!, /^127\.0\.0\.1:1000 - 5 "A IN example\.org\. udp \d+ false 512" NOERROR qr,rd \d+ /);
  t.match(seen[1].logLine!, /^127\.0\.0\.1:1001 - 5 "A IN example\.org\. tcp /);
});

t.test('the packet handed to handle() may be reused at once: forwarded queries work on a copy', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const forwarder: Forwarder = {
    async forward(q) {
      await gate;
      const reply = Buffer.from(q);
      reply[2] |= 0x80;
      return reply;
    },
  };
  const { dns } = logged({ log: false, forwarder });
  const packet = query('example.org.', 'A', { id: 0x0102 });
  const pending = dns.handler.handle(packet, 'udp');
  packet.fill(0xee); // the receive buffer's next datagram
  release();
  const reply = (await pending)!;
  t.equal(reply.readUInt16BE(0), 0x0102, 'the reply carries the original ID');
  t.ok(reply.includes(Buffer.from('\x07example\x03org\x00', 'latin1')), 'and the original question');
});
