import type { ClusterConnection } from './connection.ts';

/**
 * A self-contained kubeconfig (JSON, which is YAML) for `conn` with `token`:
 * the CA and client certificate inline, no file it points to, so that a
 * process that cannot see this one's files (netlet-cni on the host, beside
 * an agent in a container) connects as this one does.
 */
export function kubeconfigOf(conn: ClusterConnection, token: string | undefined): string {
  const cluster: Record<string, unknown> = { server: conn.server };
  if (conn.ca) cluster['certificate-authority-data'] = conn.ca.toString('base64');
  if (conn.insecureSkipTLSVerify) cluster['insecure-skip-tls-verify'] = true;
  if (conn.tlsServerName) cluster['tls-server-name'] = conn.tlsServerName;
  const user: Record<string, unknown> = {};
  if (conn.cert) user['client-certificate-data'] = conn.cert.toString('base64');
  if (conn.key) user['client-key-data'] = conn.key.toString('base64');
  if (token) user.token = token;
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'netlet', cluster }],
      users: [{ name: 'netlet-agent', user }],
      contexts: [{ name: 'netlet', context: { cluster: 'netlet', user: 'netlet-agent', namespace: conn.namespace } }],
      'current-context': 'netlet',
    },
    null,
    2,
  ) + '\n';
}
