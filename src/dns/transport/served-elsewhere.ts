import dgram from 'node:dgram';
import net from 'node:net';
import type { ListenAddress } from '../corefile/config.ts';

/**
 * Whether another socket already serves `addr` over UDP: a bind without
 * SO_REUSEADDR or SO_REUSEPORT fails with EADDRINUSE then. Another netlet
 * there (its sockets are SO_REUSEPORT) is an overlapping restart: the new
 * process joins it once it can answer (component.ts). Port 0 is never taken.
 */
export async function servedElsewhere(addr: ListenAddress): Promise<boolean> {
  if (addr.port === 0) return false;
  const sock = dgram.createSocket({ type: net.isIPv6(addr.host) ? 'udp6' : 'udp4' });
  return new Promise((resolve) => {
    sock.once('error', (err: NodeJS.ErrnoException) => {
      sock.close();
      resolve(err.code === 'EADDRINUSE');
    });
    sock.bind({ port: addr.port, address: addr.host, exclusive: true }, () => sock.close(() => resolve(false)));
  });
}
