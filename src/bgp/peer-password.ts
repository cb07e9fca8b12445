// A BGPPeer's TCP MD5 password from its Secret reference, read from where
// the Secret is mounted (<dir>/<secret name>/<key>, as a Secret volume lays
// it out) rather than from the API: the agent needs no permission to read
// Secrets, and the operator mounts only the ones BGP uses. Read on each
// refresh, so a rotated Secret takes effect with the next one.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BGPPeer } from '../k8s/objects.ts';
import { MAX_MD5_KEY_BYTES, md5Available } from './session/tcp-md5.ts';

export function readPeerPassword(dir: string, p: BGPPeer): { password?: string; problem?: string } {
  const ref = p.password!;
  const file = join(dir, ref.secretName, ref.key);
  const where = `BGPPeer ${p.meta.name}: spec.password (Secret ${ref.secretName} key ${ref.key})`;
  let password: string;
  try {
    password = readFileSync(file, 'utf8');
  } catch (err) {
    return { problem: `${where}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): mount the Secret under bgp.secretsDirectory; the peer is left out` };
  }
  if (!password) return { problem: `${where}: ${file} is empty; the peer is left out` };
  if (Buffer.byteLength(password) > MAX_MD5_KEY_BYTES) return { problem: `${where}: a TCP MD5 password has at most ${MAX_MD5_KEY_BYTES} bytes; the peer is left out` };
  if (!md5Available()) return { problem: `${where}: TCP MD5 needs native/build/Release/netlet_tcp_md5.node ('npm install'); the peer is left out` };
  return { password };
}
