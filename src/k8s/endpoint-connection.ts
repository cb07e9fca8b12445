import { readFile } from 'node:fs/promises';
import type { ClusterConnection } from './connection.ts';
import { KubeconfigError } from './connection.ts';

/**
 * A connection to a named API server URL, with client certificates when
 * given: CoreDNS's `kubernetes { endpoint URL; tls CERT KEY CACERT }`.
 * Without `tls` an https URL is checked against the system roots.
 */
export async function endpointConnection(url: string, tls?: { cert: string; key: string; ca: string }): Promise<ClusterConnection> {
  const read = async (what: string, path: string) => {
    try {
      return await readFile(path);
    } catch (err) {
      throw new KubeconfigError('FILE', `the ${what} file ${path} (kubernetes tls) cannot be read: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    server: url,
    insecureSkipTLSVerify: false,
    ...(tls ? { cert: await read('client certificate', tls.cert), key: await read('client key', tls.key), ca: await read('CA certificate', tls.ca) } : {}),
    namespace: 'default',
    source: `endpoint ${url}${tls ? ` (client certificate ${tls.cert})` : ''}`,
  };
}
