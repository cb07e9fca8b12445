// Standalone test API server, for tests that need it in another process, e.g.
// inside a network namespace where the host's loopback is out of reach:
//
//   npx node test/apiserver/main.ts --listen 127.0.0.1:0 [--port-file F] [--url-file F]
//        [--tls-dir D [--tls-hosts 10.0.0.1,name]] [--token T] [--require-client-cert]
//        [--kubeconfig F] [--history N] [--bookmark-ms N] [--first-rv N] [--seed FILE.json|FILE.yaml]
//
// Prints "listening <url>" on stdout once it accepts connections. With
// --tls-dir it uses D/server.crt and D/server.key (made with openssl into D if
// missing) and accepts client certificates signed by D/ca.crt. Fault controls
// are under /_test/ (see control.ts). SIGTERM/SIGINT stop it.

import { parseArgs } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { startApiServer } from './server.ts';
import type { ApiServerOptions } from './server.ts';
import { certPaths, makeCerts } from './certs.ts';
import { writeKubeconfig } from './kubeconfig.ts';

const { values } = parseArgs({
  options: {
    listen: { type: 'string', default: '127.0.0.1:0' },
    'port-file': { type: 'string' },
    'url-file': { type: 'string' },
    'tls-dir': { type: 'string' },
    'tls-hosts': { type: 'string' },
    token: { type: 'string' },
    'require-client-cert': { type: 'boolean', default: false },
    kubeconfig: { type: 'string' },
    history: { type: 'string' },
    'bookmark-ms': { type: 'string' },
    seed: { type: 'string' },
    'first-rv': { type: 'string' },
  },
  strict: true,
});

/** Objects from a JSON array, a JSON/YAML List, or multi-document YAML. */
function readSeed(path: string): any[] {
  const text = readFileSync(path, 'utf8');
  const docs = /\.ya?ml$/i.test(path) ? parseAllDocuments(text).map((d) => d.toJSON()) : [JSON.parse(text)];
  return docs.flatMap((d) => (Array.isArray(d) ? d : d?.kind?.endsWith('List') && Array.isArray(d.items) ? d.items : d ? [d] : []));
}

const listen = values.listen as string;
const sep = listen.lastIndexOf(':');
if (sep < 0) throw new Error(`--listen must be HOST:PORT, got ${listen}`);
const host = listen.slice(0, sep).replace(/^\[|\]$/g, '');
const port = Number(listen.slice(sep + 1));

const opts: ApiServerOptions = { host, port, token: values.token };
if (values.history) opts.historySize = Number(values.history);
if (values['bookmark-ms']) opts.bookmarkIntervalMs = Number(values['bookmark-ms']);
if (values['first-rv']) opts.firstResourceVersion = Number(values['first-rv']);

const tlsDir = values['tls-dir'];
let certs;
if (tlsDir) {
  certs = certPaths(tlsDir);
  if (!existsSync(certs.serverCert)) {
    const extra = (values['tls-hosts'] ?? '').split(',').filter(Boolean);
    certs = await makeCerts(tlsDir, { hosts: [...new Set([host, '127.0.0.1', '::1', 'localhost', ...extra])].filter((h) => h !== '0.0.0.0' && h !== '::') });
  }
  opts.tls = { cert: certs.serverCert, key: certs.serverKey, clientCA: certs.caCert, requireClientCert: values['require-client-cert'] };
}

const api = await startApiServer(opts);
if (values.seed) api.seed(readSeed(values.seed));
if (values['port-file']) await writeFile(values['port-file'], `${api.port}\n`);
if (values['url-file']) await writeFile(values['url-file'], `${api.url}\n`);
if (values.kubeconfig) {
  await writeKubeconfig(values.kubeconfig, {
    server: api.url,
    token: values.token,
    caFile: certs?.caCert,
    clientCertFile: certs?.clientCert,
    clientKeyFile: certs?.clientKey,
  });
}
process.stdout.write(`listening ${api.url}\n`);

const stop = (): void => {
  void api.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
