// A port for a server the bench starts on loopback.

import dgram from 'node:dgram';

/** A UDP port free on 127.0.0.1 right now (the kernel's pick, released before returning). */
export async function freeUdpPort(): Promise<number> {
  const u = dgram.createSocket('udp4');
  await new Promise<void>((r) => u.bind(0, '127.0.0.1', () => r()));
  const p = u.address().port;
  u.close();
  return p;
}
