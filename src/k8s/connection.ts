import { NetletError } from '../base/errors.ts';
import type { TokenSource } from './token-source.ts';

/** Everything needed to talk to one API server, whichever way it was found. */
export interface ClusterConnection {
  server: string;
  ca?: Buffer;
  insecureSkipTLSVerify: boolean;
  /** Name to verify the server certificate against instead of the server's host (kubeconfig tls-server-name). */
  tlsServerName?: string;
  cert?: Buffer;
  key?: Buffer;
  token?: TokenSource;
  /** The context's (or service account's) namespace; 'default' when unset. */
  namespace: string;
  /** Where this came from, for logs: "kubeconfig /path (context x)" or "in-cluster". */
  source: string;
}

/**
 * A kubeconfig or in-cluster config that cannot be used. `code` is stable:
 * ERR_KUBECONFIG_NOT_FOUND (no config anywhere), ERR_KUBECONFIG_FILE (a file it
 * names cannot be read), ERR_KUBECONFIG_INVALID (bad YAML or shape),
 * ERR_KUBECONFIG_CONTEXT / _CLUSTER / _USER (a name that is not defined),
 * ERR_KUBECONFIG_UNSUPPORTED (exec plugins, auth providers, basic auth).
 */
export class KubeconfigError extends NetletError {
  constructor(code: 'NOT_FOUND' | 'FILE' | 'INVALID' | 'CONTEXT' | 'CLUSTER' | 'USER' | 'UNSUPPORTED', message: string, options?: { cause?: unknown }) {
    super(`ERR_KUBECONFIG_${code}`, message, options);
  }
}
