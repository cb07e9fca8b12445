// Test PKI made with the openssl CLI: a CA, a server certificate for the
// given IPs/DNS names, and a client certificate (CN = user, O = group, which
// is how kube-apiserver reads a client certificate's identity). EC P-256 keys
// keep generation fast.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isIP } from 'node:net';

const execFileP = promisify(execFile);

export interface TestCerts {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export interface CertOptions {
  /** SANs of the server certificate (default 127.0.0.1, ::1, localhost). */
  hosts?: string[];
  /** Client certificate identity (default netlet-test / system:masters). */
  clientUser?: string;
  clientGroup?: string;
  days?: number;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileP('openssl', args);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr || e.message}`);
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function signed(dir: string, name: string, subject: string, ext: string, days: string): Promise<void> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  await writeFile(extFile, ext);
  await openssl(['req', ...EC, '-keyout', key, '-out', csr, '-subj', subject]);
  await openssl([
    'x509', '-req', '-in', csr, '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'),
    '-CAcreateserial', '-out', join(dir, `${name}.crt`), '-days', days, '-extfile', extFile,
  ]);
}

/** Writes ca.crt/key, server.crt/key, client.crt/key into `dir` and returns their paths. */
export async function makeCerts(dir: string, o: CertOptions = {}): Promise<TestCerts> {
  await mkdir(dir, { recursive: true });
  const days = String(o.days ?? 30);
  await openssl(['req', '-x509', ...EC, '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-days', days, '-subj', '/CN=netlet-test-ca']);
  const hosts = o.hosts ?? ['127.0.0.1', '::1', 'localhost'];
  const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  await signed(
    dir,
    'server',
    '/CN=kube-apiserver',
    `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n`,
    days,
  );
  await signed(
    dir,
    'client',
    `/O=${o.clientGroup ?? 'system:masters'}/CN=${o.clientUser ?? 'netlet-test'}`,
    'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n',
    days,
  );
  return certPaths(dir);
}

export function certPaths(dir: string): TestCerts {
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
  };
}

/** The PEM text of one file (for undici's `connect: { ca, cert, key }`). */
export const readPem = (path: string): Promise<string> => readFile(path, 'utf8');
