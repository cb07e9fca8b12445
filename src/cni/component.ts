// The agent component that serves netlet-cni's fast path (server.ts): the
// node's C shim hands each CNI call to the agent, which runs it warm.
// Wiring (agent config + components.ts) is the agent's: create it with the
// socket path when the config asks for it, e.g.
//   if (ctx.config.cni.serve) components.push(new CniServerComponent(ctx, ctx.config.cni.socket));
import type { Server } from 'node:net';
import type { Component, ComponentContext } from '../base/component.ts';
import { DEFAULT_CNI_SOCKET, startCniServer } from './server.ts';

export class CniServerComponent implements Component {
  readonly name = 'cni-server';
  readonly #ctx: ComponentContext;
  readonly #socketPath: string;
  #server: Server | undefined;

  constructor(ctx: ComponentContext, socketPath = DEFAULT_CNI_SOCKET) {
    this.#ctx = ctx;
    this.#socketPath = socketPath;
  }

  async start(): Promise<void> {
    const { createIpam } = await import('../ipam/index.ts');
    const log = this.#ctx.log.child({ component: this.name });
    this.#server = await startCniServer({
      socketPath: this.#socketPath,
      createIpam: (conf, opts) => createIpam(conf, { ...opts, log }),
      // When the network config names no node, the agent's own name (--node-name) is used.
      nodeName: this.#ctx.nodeName,
      onError: (err) => log.warn({ err }, 'cni-server: connection failed'),
    });
    log.info({ socket: this.#socketPath }, 'cni-server: serving netlet-cni calls');
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
