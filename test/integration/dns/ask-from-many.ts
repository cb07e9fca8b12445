// Queries for the worker-thread tests: one from each of many fresh sockets.
import dgram from 'node:dgram';
import { decodeReply, query } from '../../unit/dns/dns-helpers.ts';

/** One A query from each of `n` fresh sockets (different source ports: the kernel spreads them over both threads); answers or 'timeout'. */
export async function askFromMany(port: number, n: number, name: string): Promise<string[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      new Promise<string>((resolve) => {
        const s = dgram.createSocket('udp4');
        const timer = setTimeout(() => {
          s.close();
          resolve('timeout');
        }, 2000);
        s.once('message', (m) => {
          clearTimeout(timer);
          s.close();
          resolve(decodeReply(m).answer.join(','));
        });
        s.send(query(name, 'A', { id: i }), port, '127.0.0.1');
      }),
    ),
  );
}
