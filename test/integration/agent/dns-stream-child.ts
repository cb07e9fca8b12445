// A steady stream of UDP DNS queries, run inside a test namespace (a test
// process cannot enter one itself): one query every 5 ms, each with a new
// ID, until stdin closes; then, after 1 s for the last answers, prints
// {sent, answered, lostAtMs} as JSON. A query counts as answered when a
// NOERROR reply with a record comes back.
// Run: ip netns exec NS node dns-stream-child.ts HOST PORT NAME
import dgram from 'node:dgram';
import { query } from '../../unit/dns/dns-helpers.ts';

const [host, port, name] = process.argv.slice(2);
const sock = dgram.createSocket('udp4');
const t0 = performance.now();
const sentAt = new Map<number, number>();
let sent = 0;
let answered = 0;
sock.on('message', (m) => {
  const id = m.readUInt16BE(0);
  if (sentAt.delete(id) && (m[3] & 0xf) === 0 && m.readUInt16BE(6) > 0) answered++;
});
const timer = setInterval(() => {
  const id = ++sent & 0xffff;
  sentAt.set(id, performance.now() - t0);
  sock.send(query(name, 'A', { id }), Number(port), host);
}, 5);
process.stdin.resume();
process.stdin.on('end', () => {
  clearInterval(timer);
  setTimeout(() => {
    sock.close();
    process.stdout.write(JSON.stringify({ sent, answered, lostAtMs: [...sentAt.values()].map(Math.round) }) + '\n');
  }, 1000);
});
