// kubeconfigOf writes a kubeconfig that netlet's own loader reads back to the
// same connection: what netlet-cni gets from the agent (agent/publish-identity.ts).
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StaticToken } from '../../../src/k8s/token-source.ts';
import { kubeconfigOf } from '../../../src/k8s/kubeconfig-export.ts';
import { loadKubeconfigFile } from '../../../src/k8s/kubeconfig.ts';
import type { ClusterConnection } from '../../../src/k8s/connection.ts';

const rows: { name: string; conn: ClusterConnection; token?: string }[] = [
  {
    name: 'token, CA and server name (in-cluster)',
    conn: { server: 'https://10.0.0.1:6443', ca: Buffer.from('CA PEM'), insecureSkipTLSVerify: false, tlsServerName: 'kubernetes', namespace: 'netlet-system', source: 'in-cluster', token: new StaticToken('t0') },
    token: 'sa-token',
  },
  {
    name: 'client certificate, insecure',
    conn: { server: 'https://api:443', insecureSkipTLSVerify: true, cert: Buffer.from('CERT'), key: Buffer.from('KEY'), namespace: 'default', source: 'kubeconfig x' },
  },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    const file = join(t.testdir(), 'kubeconfig');
    await writeFile(file, kubeconfigOf(row.conn, row.token));
    const back = await loadKubeconfigFile(file);
    t.equal(back.server, row.conn.server);
    t.same(back.ca, row.conn.ca);
    t.same(back.cert, row.conn.cert);
    t.same(back.key, row.conn.key);
    t.equal(back.insecureSkipTLSVerify, row.conn.insecureSkipTLSVerify);
    t.equal(back.tlsServerName, row.conn.tlsServerName);
    t.equal(back.namespace, row.conn.namespace);
    t.equal(await back.token?.token(), row.token, 'the token given, inline');
  });
}
