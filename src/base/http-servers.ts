import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { ConfigError } from './errors.ts';

/** "host:port" or "[v6]:port" → listen arguments. */
export function parseBindAddress(key: string, addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(key, `expected HOST:PORT, got ${JSON.stringify(addr)}`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export async function listen(server: Server, key: string, addr: string, opts: { reusePort?: boolean } = {}): Promise<Server> {
  const { host, port } = parseBindAddress(key, addr);
  await new Promise<void>((resolve, reject) => {
    // EADDRINUSE/EADDRNOTAVAIL are the operator's to fix: name the key, no stack.
    const fail = (err: NodeJS.ErrnoException) => reject(new ConfigError(key, `cannot listen on ${addr}: ${err.code ?? err.message}`));
    server.once('error', fail);
    server.listen({ port, host, reusePort: opts.reusePort ?? false }, () => {
      server.off('error', fail);
      resolve();
    });
  });
  return server;
}

export interface HealthState {
  /** True while every component does its job. */
  healthy(): boolean;
  /** When the state last changed for the better (the last successful sync), ms since epoch. */
  lastUpdated(): number;
  /** Extra fields for the body, e.g. that the agent serves from a snapshot. */
  details(): Record<string, unknown>;
}

/**
 * kube-proxy's healthz server: /healthz and /livez answer 200 while healthy,
 * 503 otherwise, with a JSON body carrying lastUpdated and currentTime.
 */
export function createHealthServer(state: HealthState): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz' && path !== '/livez') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    const ok = state.healthy();
    const body = {
      lastUpdated: new Date(state.lastUpdated()).toISOString(),
      currentTime: new Date().toISOString(),
      nodeEligible: true,
      ...state.details(),
    };
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'x-content-type-options': 'nosniff' });
    res.end(JSON.stringify(body));
  });
}

/** Prometheus text format on /metrics. */
export function createMetricsServer(registry: Registry, health?: HealthState): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(err.message),
      );
      return;
    }
    if (health && (path === '/healthz' || path === '/livez')) {
      res.writeHead(health.healthy() ? 200 : 503, { 'content-type': 'text/plain' }).end(health.healthy() ? 'ok' : 'unhealthy');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
  });
}
