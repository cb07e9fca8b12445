// A hand-driven BGP peer for the malformed-message tests, run in a router
// namespace: dials netlet, completes OPEN/KEEPALIVE with the real codec, then
// writes whatever hex lines arrive on stdin and prints each message it
// receives as one JSON line ({"type":"notification","code":3,"subcode":1}).
//   node raw-peer.ts HOST PORT LOCAL_AS PEER_AS ROUTER_ID
import net from 'node:net';
import { createInterface } from 'node:readline';
import { MessageFramer } from '../../../src/bgp/wire/header.ts';
import { decodeMessage, encodeKeepalive } from '../../../src/bgp/wire/messages.ts';
import { encodeOpen } from '../../../src/bgp/wire/open.ts';

const [host, port, localAs, , routerId] = process.argv.slice(2);
const socket = net.connect({ host, port: Number(port) });
const framer = new MessageFramer();
const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

socket.on('connect', () => {
  socket.write(
    encodeOpen({
      asNumber: Number(localAs),
      holdTime: 90,
      routerId,
      capabilities: { multiprotocol: [{ afi: 1, safi: 1 }], routeRefresh: true, enhancedRouteRefresh: false, fourOctetAs: Number(localAs), other: [] },
    }),
  );
  print({ type: 'connected' });
});
socket.on('data', (chunk) => {
  for (const frame of framer.push(chunk)) {
    const m = decodeMessage(frame, { fourOctetAs: true });
    if (m.type === 'open') socket.write(encodeKeepalive());
    print(m.type === 'notification' ? { type: 'notification', code: m.notification.code, subcode: m.notification.subcode } : { type: m.type });
  }
});
socket.on('close', () => {
  print({ type: 'closed' });
  process.exit(0);
});
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim()) socket.write(Buffer.from(line.trim(), 'hex'));
});
