// Graceful restart's R and F bits (RFC 4724) in the OPENs a speaker sends:
// a restarted speaker (the kernel kept its routes) sets both until it is
// ready; a fresh one sets neither until then, and F afterwards (its kernel
// keeps the routes if the agent dies from then on).
import t from 'tap';
import net from 'node:net';
import { BgpSpeaker } from '../../../src/bgp/speaker.ts';
import { decodeOpen, type OpenMessage } from '../../../src/bgp/wire/open.ts';

/** Accepts one connection, returns the OPEN it carries, and hangs up. */
async function openFrom(restarted: boolean, readyFirst: boolean): Promise<OpenMessage> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const got = new Promise<OpenMessage>((resolve) => {
    server.once('connection', (socket) => {
      let buf = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 19 && buf.length >= buf.readUInt16BE(16)) {
          resolve(decodeOpen(buf.subarray(19, buf.readUInt16BE(16))));
          socket.destroy();
        }
      });
    });
  });
  const s = new BgpSpeaker({ asNumber: 64512, routerId: '10.0.0.1', restarted, gracefulRestartTime: 90, readyTimeoutMs: 2000 });
  const peers = [{ address: '127.0.0.1', port, asNumber: 64512 }];
  // Not ready: the peer is there from the start and has sent no End-of-RIB. Ready: a speaker with no peers is at once; the peer comes later.
  if (!readyFirst) s.setPeers(peers);
  await s.start();
  if (readyFirst) {
    await s.ready();
    s.setPeers(peers);
  }
  try {
    return await got;
  } finally {
    await s.stop();
    server.close();
  }
}

const bits = (o: OpenMessage) => ({ r: o.capabilities.gracefulRestart?.restarting, f: o.capabilities.gracefulRestart?.families.map((x) => x.forwardingPreserved), time: o.capabilities.gracefulRestart?.time });

t.test('restarted: R and F until ready, then F only', async (t) => {
  t.same(bits(await openFrom(true, false)), { r: true, f: [true], time: 90 });
  t.same(bits(await openFrom(true, true)), { r: false, f: [true], time: 90 });
});

t.test('fresh: neither until ready, then F', async (t) => {
  t.same(bits(await openFrom(false, false)), { r: false, f: [false], time: 90 });
  t.same(bits(await openFrom(false, true)), { r: false, f: [true], time: 90 });
});
