// UDP for the nftables suite: an echo server in a pod ("<name> <client>") and
// a one-datagram client with a timeout.

import type { Lab, Netns } from '../../helpers/netns.ts';

export const UDP_PORT = 5353;

const SERVER = `
const dgram = require('dgram');
for (const type of ['udp4', 'udp6']) {
  const s = dgram.createSocket({ type, ipv6Only: type === 'udp6' });
  s.on('message', (m, r) => s.send(process.argv[1] + ' ' + r.address, r.port, r.address));
  s.bind(${UDP_PORT});
}`;

const CLIENT = `
const dgram = require('dgram');
const [host, port] = [process.argv[1], Number(process.argv[2])];
const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
const timer = setTimeout(() => { console.log('TIMEOUT'); process.exit(0); }, 1500);
s.on('message', (m) => { console.log(m.toString()); clearTimeout(timer); s.close(); });
s.on('error', (e) => { console.log('ERROR ' + e.code); process.exit(0); });
s.connect(port, host, () => s.send('hi'));`;

export function startUdpServer(lab: Lab, pod: Netns, name: string): void {
  lab.track(pod.spawn('node', ['-e', SERVER, name]));
}

/** One datagram to host:port; the answer ("<pod> <client>"), or "TIMEOUT", or "ERROR <code>" (ECONNREFUSED on an ICMP unreachable). */
export async function udpAsk(from: Netns, host: string, port: number): Promise<string> {
  return (await from.exec('node', ['-e', CLIENT, host, String(port)])).trim();
}
