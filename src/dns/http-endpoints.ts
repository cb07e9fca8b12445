import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { createMetricsServer, listen as listenOn } from '../base/http-servers.ts';

// CoreDNS's HTTP side of the DNS component, on CoreDNS's ports so probes and
// scrape configs carry over: `health` (:8080 /health, 200 "OK" while the
// process serves), `ready` (:8181 /ready, 200 once the zones are built
// from a synced store, 503 before) and `prometheus` (:9153 /metrics).

export interface DnsHttpOptions {
  health: string;
  ready: string;
  prometheus: string;
  isReady: () => boolean;
  registry: Registry;
}

function textServer(path: string, answer: () => [number, string]): Server {
  return createServer((req, res) => {
    if ((req.url ?? '/').split('?')[0] !== path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    const [status, body] = answer();
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
  });
}

/** Starts the endpoints whose address is not ''; returns the servers to close. */
export async function startDnsHttp(opts: DnsHttpOptions): Promise<Server[]> {
  const servers: Server[] = [];
  // SO_REUSEPORT, as the DNS sockets: a restart that overlaps the process it replaces binds beside it (component.ts).
  const listen = (server: Server, key: string, addr: string) => listenOn(server, key, addr, { reusePort: true });
  try {
    if (opts.health) servers.push(await listen(textServer('/health', () => [200, 'OK']), 'health', opts.health));
    if (opts.ready) {
      const ready = () => (opts.isReady() ? ([200, 'OK'] as [number, string]) : ([503, 'kubernetes'] as [number, string]));
      servers.push(await listen(textServer('/ready', ready), 'ready', opts.ready));
    }
    if (opts.prometheus) servers.push(await listen(createMetricsServer(opts.registry), 'prometheus', opts.prometheus));
  } catch (err) {
    await stopDnsHttp(servers);
    throw err;
  }
  return servers;
}

export async function stopDnsHttp(servers: Server[]): Promise<void> {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
}
