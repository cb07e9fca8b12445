// A node's VXLAN device MAC when its Node publishes none: derived from the
// node's name the way Calico derives it (0x66, then the first five bytes of
// sha1(name)), so that every node computes every other node's MAC alone,
// with nothing written to the API. 0x66 has the locally-administered bit
// set and the multicast bit clear, so the result never collides with a
// vendor MAC and is always a valid unicast address.
import { createHash } from 'node:crypto';
import { formatMac } from '../netlink/ip.ts';

export function derivedVtepMac(nodeName: string): string {
  const digest = createHash('sha1').update(nodeName).digest();
  return formatMac(Buffer.concat([Buffer.from([0x66]), digest.subarray(0, 5)]));
}
