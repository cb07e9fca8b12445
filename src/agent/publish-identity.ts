// The agent's API identity, published for netlet-cni's fallback: when the
// agent is down, the plugin claims IPAM blocks itself and must do so as the
// agent would (issue 13 point 7), not with whatever its own default chain
// finds. A path would not do: in a pod the agent's identity is its service
// account token, a file inside the container the host's plugin cannot see.
// So the agent writes a whole kubeconfig (server, CA, credentials inline) to
// cni.kubeconfig, a host path (deploy/: /run/netlet, a tmpfs, so no
// credential outlives a reboot), mode 0600, and rewrites it when its token
// rotates. netlet-cni reads it there (ipam/claims-kubernetes.ts).

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../base/log.ts';
import { writeFileAtomic } from '../ipam/atomic-file.ts';
import type { ClusterConnection } from '../k8s/connection.ts';
import { kubeconfigOf } from '../k8s/kubeconfig-export.ts';

/** How often the token is checked: FileToken re-reads a rotated token at most once a minute too. */
const CHECK_EVERY_MS = 60_000;

/** Writes `conn` as a kubeconfig to `file` now and whenever its token changes, until stop(). */
export async function publishIdentity(conn: ClusterConnection, file: string, log: Logger, everyMs = CHECK_EVERY_MS): Promise<{ stop(): void }> {
  let written = '';
  const write = async () => {
    try {
      const text = kubeconfigOf(conn, conn.token ? await conn.token.token() : undefined);
      if (text === written) return;
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeFileAtomic(file, text, { durable: false });
      if (!written) log.info({ file, from: conn.source }, "the agent's API identity is written for netlet-cni");
      written = text;
    } catch (err) {
      log.error({ err, file }, "cannot write the agent's API identity for netlet-cni; its fallback keeps the last one written");
    }
  };
  await write();
  const timer = setInterval(() => void write(), everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
