// The agent component that serves netlet-cni's fast path (server.ts): the
// node's C shim hands each CNI call to the agent, which runs it warm.
// Wiring (agent config + components.ts) is the agent's: it creates this with
// the socket path and the agent's own API connection, so IPAM block claims
// made for a call use the agent's identity (its --kubeconfig), not whatever
// $KUBECONFIG or ~/.kube/config the agent's process happens to see.
import type { Server } from 'node:net';
import type { Component, ComponentContext } from '../base/component.ts';
import type { ClusterConnection } from '../k8s/connection.ts';
import { DEFAULT_CNI_SOCKET, startCniServer } from './server.ts';

export interface CniServerOptions {
  socket?: string;
  /** The agent's API connection; absent (a manifest folder) leaves the IPAM config's kubeconfig or the default chain. */
  connection?: ClusterConnection;
}

export class CniServerComponent implements Component {
  readonly name = 'cni-server';
  readonly #ctx: ComponentContext;
  readonly #socketPath: string;
  readonly #connection: ClusterConnection | undefined;
  #server: Server | undefined;

  constructor(ctx: ComponentContext, options: CniServerOptions = {}) {
    this.#ctx = ctx;
    this.#socketPath = options.socket ?? DEFAULT_CNI_SOCKET;
    this.#connection = options.connection;
  }

  async start(): Promise<void> {
    const { createIpam } = await import('../ipam/index.ts');
    const log = this.#ctx.log.child({ component: this.name });
    const connection = this.#connection;
    this.#server = await startCniServer({
      socketPath: this.#socketPath,
      createIpam: (conf, opts) => createIpam(conf, { ...opts, log, connection }),
      // When the network config names no node, the agent's own name (--node-name) is used.
      nodeName: this.#ctx.nodeName,
      onError: (err) => log.warn({ err }, 'cni-server: connection failed'),
      // The runtime shows the error to the user; the node's operator sees it here.
      onCallFailed: (call, err) => log.warn({ ...call, code: err.cniCode, err: err.message, cause: causeCode(err) }, 'cni-server: CNI call failed'),
    });
    log.info({ socket: this.#socketPath, api: connection?.source }, 'cni-server: serving netlet-cni calls');
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  healthy(): boolean {
    return this.#server?.listening ?? false;
  }
}

/**
 * The stable code of what made the call fail, when it has one: the innermost
 * code of the cause chain (a failed claim's ERR_IPAM_CLAIMS wraps the API's
 * ERR_API_FORBIDDEN, and the root is what the operator fixes).
 */
function causeCode(err: Error): string | undefined {
  let code: string | undefined;
  for (let e = err.cause as { code?: unknown; cause?: unknown } | undefined; e && typeof e === 'object'; e = e.cause as typeof e) {
    if (typeof e.code === 'string') code = e.code;
  }
  return code;
}
