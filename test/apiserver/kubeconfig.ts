// Writes a kubeconfig (clientcmd v1 format) pointing at a test API server:
// token, client certificate, CA or insecure-skip-tls-verify, with file paths
// or embedded base64 data, so both kubectl and netlet's kubeconfig loader can
// be tested against the same file.

import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  server: string;
  token?: string;
  caFile?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
  insecureSkipTlsVerify?: boolean;
  namespace?: string;
  /** Put certificate contents in *-data fields instead of file paths. */
  embed?: boolean;
  /** Names of the cluster, user and context (default "test"). */
  name?: string;
}

const b64 = (path: string): string => readFileSync(path).toString('base64');

export function kubeconfigYAML(o: KubeconfigOptions): string {
  const name = o.name ?? 'test';
  const cluster: Record<string, unknown> = { server: o.server };
  if (o.caFile) {
    if (o.embed) cluster['certificate-authority-data'] = b64(o.caFile);
    else cluster['certificate-authority'] = o.caFile;
  }
  if (o.insecureSkipTlsVerify) cluster['insecure-skip-tls-verify'] = true;
  const user: Record<string, unknown> = {};
  if (o.token) user.token = o.token;
  if (o.clientCertFile && o.clientKeyFile) {
    if (o.embed) {
      user['client-certificate-data'] = b64(o.clientCertFile);
      user['client-key-data'] = b64(o.clientKeyFile);
    } else {
      user['client-certificate'] = o.clientCertFile;
      user['client-key'] = o.clientKeyFile;
    }
  }
  const context: Record<string, unknown> = { cluster: name, user: name };
  if (o.namespace) context.namespace = o.namespace;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster }],
    users: [{ name, user }],
    contexts: [{ name, context }],
    'current-context': name,
    preferences: {},
  });
}

export async function writeKubeconfig(path: string, o: KubeconfigOptions): Promise<string> {
  await writeFile(path, kubeconfigYAML(o), { mode: 0o600 });
  return path;
}
