import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeconfigError } from './connection.ts';
import type { ClusterConnection } from './connection.ts';
import { FileToken } from './token-source.ts';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface InClusterOptions {
  /** Folder with token, ca.crt and namespace (the kubelet mounts it here). */
  dir?: string;
  env?: NodeJS.ProcessEnv;
}

/** True when the environment looks like a pod: the service env vars are set. */
export function inClusterAvailable(options: InClusterOptions = {}): boolean {
  const env = options.env ?? process.env;
  return Boolean(env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT);
}

/**
 * The pod's own service-account config (client-go rest.InClusterConfig): the
 * server from KUBERNETES_SERVICE_HOST/PORT, the CA and namespace from the
 * mounted folder, and the token read from its file, re-read as it rotates.
 */
export async function loadInClusterConfig(options: InClusterOptions = {}): Promise<ClusterConnection> {
  const env = options.env ?? process.env;
  const dir = options.dir ?? SERVICE_ACCOUNT_DIR;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new KubeconfigError('NOT_FOUND', 'in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set');
  }
  const tokenPath = join(dir, 'token');
  const token = new FileToken(tokenPath);
  try {
    await token.token();
  } catch (err) {
    throw new KubeconfigError('FILE', `in-cluster config: cannot read the service-account token ${tokenPath}`, { cause: err });
  }
  const caPath = join(dir, 'ca.crt');
  const ca = await readFile(caPath).catch((err: unknown) => {
    throw new KubeconfigError('FILE', `in-cluster config: cannot read ${caPath}: ${(err as Error).message}`, { cause: err });
  });
  const namespace = (await readFile(join(dir, 'namespace'), 'utf8').catch(() => '')).trim() || 'default';
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    ca,
    insecureSkipTLSVerify: false,
    token,
    namespace,
    source: 'in-cluster service account',
  };
}
