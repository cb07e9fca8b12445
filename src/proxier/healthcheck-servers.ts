// The healthCheckNodePort servers of externalTrafficPolicy: Local services
// (kube-proxy's pkg/proxy/healthcheck/service_health.go): one HTTP listener
// per service, answering 200 when this node has ready local endpoints and the
// proxy is healthy, 503 otherwise, so the cloud load balancer only sends
// traffic to nodes that can serve it locally.

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Logger } from '../base/log.ts';

export interface HealthCheckService {
  port: number;
  /** Ready endpoints of the service on this node. */
  localEndpoints: number;
}

export interface HealthCheckServers {
  /** Makes the listeners exactly `services` ("namespace/name" → port and count). */
  sync(services: ReadonlyMap<string, HealthCheckService>): Promise<void>;
  close(): Promise<void>;
}

/** The response kube-proxy gives, as status, headers and body. */
export function healthCheckResponse(key: string, localEndpoints: number, proxyHealthy: boolean) {
  const [namespace, name] = key.split('/');
  return {
    status: localEndpoints > 0 && proxyHealthy ? 200 : 503,
    headers: {
      'Content-Type': 'application/json',
      'X-Content-Type-Options': 'nosniff',
      // GCE's weighted load balancing reads this (kube-proxy sends the local endpoint count).
      'X-Load-Balancing-Endpoint-Weight': String(localEndpoints),
    },
    body: JSON.stringify({ service: { namespace, name }, localEndpoints, serviceProxyHealthy: proxyHealthy }),
  };
}

interface Listener {
  port: number;
  /** Addresses it was opened on ('' = every address) → server; a missing server is retried. */
  servers: Map<string, Server | undefined>;
  localEndpoints: number;
}

export interface HttpHealthCheckOptions {
  log: Logger;
  /** The proxy's own health (the /healthz verdict). */
  proxyHealthy: () => boolean;
  /**
   * The node addresses to listen on (kube-proxy: those matching
   * nodePortAddresses), read at each sync; empty or absent means every address.
   */
  hosts?: () => string[];
}

export class HttpHealthCheckServers implements HealthCheckServers {
  readonly #opts: HttpHealthCheckOptions;
  readonly #listeners = new Map<string, Listener>();

  constructor(opts: HttpHealthCheckOptions) {
    this.#opts = opts;
  }

  /** Ports listening on every wanted address, for tests and logs. */
  listening(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [k, l] of this.#listeners) {
      if ([...l.servers.values()].every((s) => s?.listening)) out.set(k, l.port);
    }
    return out;
  }

  async sync(services: ReadonlyMap<string, HealthCheckService>): Promise<void> {
    const wanted = this.#opts.hosts?.() ?? [];
    const hosts = wanted.length > 0 ? [...new Set(wanted)].sort() : [''];
    const sameHosts = (l: Listener) => l.servers.size === hosts.length && hosts.every((h) => l.servers.has(h));
    for (const [key, l] of [...this.#listeners]) {
      const want = services.get(key);
      if (!want || want.port !== l.port || !sameHosts(l)) {
        this.#listeners.delete(key);
        await Promise.all([...l.servers.values()].map(closeServer));
      }
    }
    for (const [key, want] of services) {
      let l = this.#listeners.get(key);
      if (!l) {
        l = { port: want.port, servers: new Map(hosts.map((h) => [h, undefined])), localEndpoints: want.localEndpoints };
        this.#listeners.set(key, l);
      }
      l.localEndpoints = want.localEndpoints;
      // A port that could not be opened (taken) is retried on every sync.
      for (const [host, server] of l.servers) if (!server) l.servers.set(host, await this.#open(key, l, host));
    }
  }

  async close(): Promise<void> {
    const all = [...this.#listeners.values()];
    this.#listeners.clear();
    await Promise.all(all.flatMap((l) => [...l.servers.values()].map(closeServer)));
  }

  async #open(key: string, l: Listener, host: string): Promise<Server | undefined> {
    const server = createServer((req, res) => {
      const r = healthCheckResponse(key, l.localEndpoints, this.#opts.proxyHealthy());
      // Content-Length rather than chunked, as Go's net/http sends such a small body.
      res.writeHead(r.status, { ...r.headers, 'Content-Length': Buffer.byteLength(r.body) }).end(r.body);
      void req;
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: l.port, host: host || undefined }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.unref();
      this.#opts.log.debug({ service: key, port: l.port, host: host || '*' }, 'health check server listening');
      return server;
    } catch (err) {
      this.#opts.log.error({ err, service: key, port: l.port, host: host || '*' }, 'cannot open healthCheckNodePort; retrying on the next sync');
      return undefined;
    }
  }
}

function closeServer(s: Server | undefined): Promise<void> {
  if (!s) return Promise.resolve();
  return new Promise((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections?.();
  });
}

/** Records what the proxier asked for; for unit tests. */
export class FakeHealthCheckServers implements HealthCheckServers {
  current = new Map<string, HealthCheckService>();
  syncs = 0;

  async sync(services: ReadonlyMap<string, HealthCheckService>): Promise<void> {
    this.current = new Map(services);
    this.syncs++;
  }

  async close(): Promise<void> {
    this.current.clear();
  }
}
