// Both UDP paths of the server — netlet's recvmmsg/sendmmsg addon and
// node:dgram — answer on IPv4 and IPv6, under a burst, with the client's
// address (for the `log` plugin) as CoreDNS writes it.
import t from 'tap';
import dgram from 'node:dgram';
import { DnsHandler } from '../../../src/dns/answer/handler.ts';
import type { Observation } from '../../../src/dns/answer/handler.ts';
import { Resolver } from '../../../src/dns/zone/resolve.ts';
import { DnsServer } from '../../../src/dns/transport/server.ts';
import { BatchUdpSocket, udpBatchAddon } from '../../../src/dns/transport/udp-batch.ts';
import { ZoneIndex } from '../../../src/dns/zone/zone-index.ts';
import { decodeReply, dnsConfig, query, syncedStore } from '../../unit/dns/dns-helpers.ts';
import { clusterObjects } from '../../unit/dns/fixture.ts';

const NAME = 'svc1.testns.svc.cluster.local.';

function handler(seen: Observation[]): DnsHandler {
  const config = dnsConfig();
  const index = new ZoneIndex(syncedStore(clusterObjects()), { endpointPodNames: false, podsVerified: false });
  index.start();
  const resolver = new Resolver(index, { zones: config.zones, fallthrough: config.fallthrough, ttl: config.ttl, pods: config.pods });
  return new DnsHandler({ resolver, synced: () => true, observe: (o) => seen.push(o), answerCacheSize: 100, queryLog: true });
}

/** `n` queries at once from one socket; the replies by ID. */
async function burst(host: string, port: number, n: number): Promise<{ replies: Map<number, string>; clientPort: number }> {
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  const replies = new Map<number, string>();
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 3000);
    s.on('message', (m) => {
      const r = decodeReply(m);
      replies.set(r.id, r.answer.join(','));
      if (replies.size === n) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  for (let i = 0; i < n; i++) s.send(query(NAME, 'A', { id: i + 1 }), port, host);
  await done;
  const clientPort = s.address().port;
  s.close();
  return { replies, clientPort };
}

for (const udp of ['batch', 'dgram'] as const) {
  t.test(`UDP path ${udp}`, async (t) => {
    // npm install builds the addon (native/build.sh); without it 'batch' would silently be dgram.
    if (udp === 'batch') t.ok(udpBatchAddon(), 'the addon is built');
    const seen: Observation[] = [];
    const server = new DnsServer({ handler: handler(seen), listen: [{ host: '127.0.0.1', port: 0 }, { host: '::1', port: 0 }], tcpIdleTimeoutMs: 1000, udp });
    await server.start();
    t.teardown(() => server.stop());
    const [v4, v6] = server.addresses();
    for (const [host, port, client] of [['127.0.0.1', v4.port, (p: number) => `127.0.0.1:${p}`], ['::1', v6.port, (p: number) => `[::1]:${p}`]] as const) {
      seen.length = 0;
      // More than one batch (64) at once: every query gets its own reply.
      const { replies, clientPort } = await burst(host, port, 150);
      t.equal(replies.size, 150, `${host}: 150 replies to 150 queries`);
      t.strictSame(new Set(replies.values()), new Set([`${NAME} 5 IN A 10.0.0.1`]), `${host}: all answered`);
      t.ok(seen.length === 150 && seen.every((o) => o.logLine!.startsWith(`${client(clientPort)} - `)), `${host}: log lines name the client ${client(clientPort)}`);
    }
  });
}

t.test('the batch socket names bind errors as node:dgram does', async (t) => {
  const taken = dgram.createSocket('udp4');
  await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => taken.close());
  t.throws(
    () => new BatchUdpSocket(udpBatchAddon()!, { host: '127.0.0.1', port: taken.address().port, ipv6: false, reusePort: false, onDatagram: () => null, onError: () => {} }),
    { code: 'EADDRINUSE' },
  );
});
