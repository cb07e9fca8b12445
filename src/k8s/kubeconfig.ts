import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { KubeconfigError } from './connection.ts';
import type { ClusterConnection } from './connection.ts';
import { inClusterAvailable, loadInClusterConfig } from './in-cluster.ts';
import type { InClusterOptions } from './in-cluster.ts';
import { FileToken, StaticToken } from './token-source.ts';
import type { TokenSource } from './token-source.ts';

export { KubeconfigError } from './connection.ts';
export type { ClusterConnection } from './connection.ts';

// Reads kubeconfig files (clientcmd's format) with the `yaml` package. We do
// not use @kubernetes/client-node for this: it pulls in a whole HTTP stack,
// while netlet talks to the API through undici (client.ts).

type Dict = Record<string, unknown>;

const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A named entry of clusters/users/contexts, by name. */
function named(doc: Dict, list: 'clusters' | 'users' | 'contexts', field: 'cluster' | 'user' | 'context', name: string, path: string): Dict | undefined {
  const items = doc[list];
  if (items === undefined || items === null) return undefined;
  if (!Array.isArray(items)) throw new KubeconfigError('INVALID', `kubeconfig ${path}: ${list} must be a list`);
  for (const item of items) {
    if (isDict(item) && item.name === name) {
      const body = item[field];
      if (body !== undefined && !isDict(body)) throw new KubeconfigError('INVALID', `kubeconfig ${path}: ${list}[${name}].${field} must be a mapping`);
      return (body as Dict | undefined) ?? {};
    }
  }
  return undefined;
}

function str(obj: Dict, key: string, where: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new KubeconfigError('INVALID', `${where}.${key} must be a string`);
  return v;
}

async function readReferenced(file: string, base: string, what: string): Promise<Buffer> {
  // clientcmd resolves relative paths against the folder of the file that names them.
  const full = resolve(base, file);
  try {
    return await readFile(full);
  } catch (err) {
    throw new KubeconfigError('FILE', `kubeconfig: cannot read ${what} ${full}: ${(err as Error).message}`, { cause: err });
  }
}

/** An inline "-data" field (base64) or a file field; the inline one wins, as in clientcmd. */
async function dataOrFile(obj: Dict, key: string, base: string, where: string): Promise<Buffer | undefined> {
  const data = str(obj, `${key}-data`, where);
  if (data) return Buffer.from(data, 'base64');
  const file = str(obj, key, where);
  return file ? readReferenced(file, base, `${where}.${key}`) : undefined;
}

export interface KubeconfigOptions {
  /** Use this context instead of current-context. */
  context?: string;
}

/** Parses a kubeconfig file and resolves its (current) context to a connection. */
export async function loadKubeconfigFile(path: string, options: KubeconfigOptions = {}): Promise<ClusterConnection> {
  const full = resolve(path);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (err) {
    throw new KubeconfigError('FILE', `kubeconfig ${full}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new KubeconfigError('INVALID', `kubeconfig ${full}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  if (!isDict(doc)) throw new KubeconfigError('INVALID', `kubeconfig ${full}: must be a YAML mapping`);
  return connectionFromKubeconfig(doc, full, options);
}

/** The connection described by a parsed kubeconfig; `path` locates relative files. */
export async function connectionFromKubeconfig(doc: Dict, path: string, options: KubeconfigOptions = {}): Promise<ClusterConnection> {
  const base = dirname(path);
  const contextName = options.context ?? str(doc, 'current-context', `kubeconfig ${path}`);
  if (!contextName) throw new KubeconfigError('CONTEXT', `kubeconfig ${path}: no current-context is set`);
  const context = named(doc, 'contexts', 'context', contextName, path);
  if (!context) throw new KubeconfigError('CONTEXT', `kubeconfig ${path}: context "${contextName}" is not defined`);
  const ctxWhere = `contexts[${contextName}]`;

  const clusterName = str(context, 'cluster', ctxWhere);
  if (!clusterName) throw new KubeconfigError('CLUSTER', `kubeconfig ${path}: context "${contextName}" names no cluster`);
  const cluster = named(doc, 'clusters', 'cluster', clusterName, path);
  if (!cluster) throw new KubeconfigError('CLUSTER', `kubeconfig ${path}: cluster "${clusterName}" (of context "${contextName}") is not defined`);
  const clWhere = `clusters[${clusterName}]`;
  const server = str(cluster, 'server', clWhere);
  if (!server) throw new KubeconfigError('CLUSTER', `kubeconfig ${path}: cluster "${clusterName}" has no server`);
  try {
    new URL(server);
  } catch {
    throw new KubeconfigError('INVALID', `kubeconfig ${path}: cluster "${clusterName}" server ${JSON.stringify(server)} is not a URL`);
  }
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  const ca = await dataOrFile(cluster, 'certificate-authority', base, clWhere);

  const userName = str(context, 'user', ctxWhere);
  let user: Dict = {};
  if (userName) {
    const found = named(doc, 'users', 'user', userName, path);
    if (!found) throw new KubeconfigError('USER', `kubeconfig ${path}: user "${userName}" (of context "${contextName}") is not defined`);
    user = found;
  }
  const usWhere = `users[${userName ?? ''}]`;
  for (const unsupported of ['exec', 'auth-provider', 'username', 'password']) {
    if (user[unsupported] !== undefined) {
      throw new KubeconfigError('UNSUPPORTED', `kubeconfig ${path}: user "${userName}" uses ${unsupported}, which netlet does not support; use a token, tokenFile or client certificate`);
    }
  }
  const cert = await dataOrFile(user, 'client-certificate', base, usWhere);
  const key = await dataOrFile(user, 'client-key', base, usWhere);
  if (Boolean(cert) !== Boolean(key)) {
    throw new KubeconfigError('INVALID', `kubeconfig ${path}: user "${userName}" needs both client-certificate and client-key`);
  }
  let token: TokenSource | undefined;
  const tokenValue = str(user, 'token', usWhere);
  const tokenFile = str(user, 'tokenFile', usWhere);
  if (tokenValue) token = new StaticToken(tokenValue);
  else if (tokenFile) {
    const ft = new FileToken(resolve(base, tokenFile));
    try {
      await ft.token();
    } catch (err) {
      throw new KubeconfigError('FILE', `kubeconfig ${path}: cannot read tokenFile ${ft.path}`, { cause: err });
    }
    token = ft;
  }
  return {
    server,
    ca,
    insecureSkipTLSVerify: insecure,
    tlsServerName: str(cluster, 'tls-server-name', clWhere),
    cert,
    key,
    token,
    namespace: str(context, 'namespace', ctxWhere) ?? 'default',
    source: `kubeconfig ${path} (context ${contextName})`,
  };
}

export interface ResolveOptions {
  /** --kubeconfig / config.kubeconfig; '' or undefined means the default chain. */
  kubeconfig?: string;
  /** With `kubeconfig`: this context instead of the file's current-context. */
  context?: string;
  env?: NodeJS.ProcessEnv;
  home?: string;
  inCluster?: InClusterOptions;
}

/**
 * The default chain: an explicit path, else $KUBECONFIG, else the in-cluster
 * service account, else ~/.kube/config. $KUBECONFIG may be a colon list;
 * client-go merges all its files, netlet takes the first existing one (an
 * agent's config is one file in practice).
 */
export async function resolveConnection(options: ResolveOptions = {}): Promise<ClusterConnection> {
  if (options.kubeconfig) return loadKubeconfigFile(options.kubeconfig, { context: options.context });
  const env = options.env ?? process.env;
  if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(':').filter(Boolean);
    for (const f of files) {
      if (await readFile(f).then(() => true, () => false)) return loadKubeconfigFile(f);
    }
    throw new KubeconfigError('NOT_FOUND', `none of the files in KUBECONFIG exists: ${files.join(', ')}`);
  }
  const inCluster = { env, ...options.inCluster };
  if (inClusterAvailable(inCluster)) return loadInClusterConfig(inCluster);
  const home = options.home ?? env.HOME ?? homedir();
  const fallback = join(home, '.kube', 'config');
  if (await readFile(fallback).then(() => true, () => false)) return loadKubeconfigFile(fallback);
  throw new KubeconfigError(
    'NOT_FOUND',
    `no API server config: pass --kubeconfig, set KUBECONFIG, run in a pod (KUBERNETES_SERVICE_HOST), or create ${fallback}; or use --manifests DIR`,
  );
}
