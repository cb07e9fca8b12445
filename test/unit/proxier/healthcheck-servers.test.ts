import t from 'tap';
import { createServer } from 'node:net';
import { request } from 'undici';
import { silentLogger } from '../../../src/base/log.ts';
import { HttpHealthCheckServers, healthCheckResponse } from '../../../src/proxier/healthcheck-servers.ts';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

t.test('kube-proxy answer: 200 with local endpoints, 503 without or when the proxy is unhealthy', async (t) => {
  const rows = [
    { name: 'local endpoints, healthy', n: 2, healthy: true, status: 200 },
    { name: 'no local endpoint', n: 0, healthy: true, status: 503 },
    { name: 'proxy unhealthy', n: 1, healthy: false, status: 503 },
  ];
  for (const row of rows) {
    const r = healthCheckResponse('ns/web', row.n, row.healthy);
    t.equal(r.status, row.status, row.name);
    t.same(JSON.parse(r.body), { service: { namespace: 'ns', name: 'web' }, localEndpoints: row.n, serviceProxyHealthy: row.healthy }, `${row.name}: body`);
    t.equal(r.headers['X-Load-Balancing-Endpoint-Weight'], String(row.n), `${row.name}: weight header`);
  }
});

t.test('listeners follow sync: open, update counts, move port, close', async (t) => {
  let healthy = true;
  const hc = new HttpHealthCheckServers({ log: silentLogger, proxyHealthy: () => healthy, hosts: () => ['127.0.0.1'] });
  t.teardown(() => hc.close());
  const p1 = await freePort();
  await hc.sync(new Map([['ns/web', { port: p1, localEndpoints: 1 }]]));
  let res = await request(`http://127.0.0.1:${p1}/`);
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'application/json');
  t.equal(res.headers['x-load-balancing-endpoint-weight'], '1');
  t.same(await res.body.json(), { service: { namespace: 'ns', name: 'web' }, localEndpoints: 1, serviceProxyHealthy: true });

  await hc.sync(new Map([['ns/web', { port: p1, localEndpoints: 0 }]]));
  res = await request(`http://127.0.0.1:${p1}/healthz`);
  t.equal(res.statusCode, 503, 'count updated without reopening');
  await res.body.dump();

  await hc.sync(new Map([['ns/web', { port: p1, localEndpoints: 3 }]]));
  healthy = false;
  res = await request(`http://127.0.0.1:${p1}/`);
  t.equal(res.statusCode, 503, 'an unhealthy proxy fails every health check');
  t.match(await res.body.json(), { serviceProxyHealthy: false, localEndpoints: 3 });
  healthy = true;

  const p2 = await freePort();
  await hc.sync(new Map([['ns/web', { port: p2, localEndpoints: 3 }]]));
  t.same([...hc.listening()], [['ns/web', p2]], 'moved to the new port');
  await t.rejects(request(`http://127.0.0.1:${p1}/`), 'old port closed');

  await hc.sync(new Map());
  t.same([...hc.listening()], []);
  await t.rejects(request(`http://127.0.0.1:${p2}/`), 'closed with the service');
});

t.test('a taken port is retried on the next sync', async (t) => {
  const hc = new HttpHealthCheckServers({ log: silentLogger, proxyHealthy: () => true, hosts: () => ['127.0.0.1'] });
  t.teardown(() => hc.close());
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  await hc.sync(new Map([['ns/web', { port, localEndpoints: 1 }]]));
  t.same([...hc.listening()], [], 'not listening while the port is taken');
  await new Promise((r) => blocker.close(r));
  await hc.sync(new Map([['ns/web', { port, localEndpoints: 1 }]]));
  t.same([...hc.listening()], [['ns/web', port]], 'listening once the port is free');
});

t.test('listens only on the given addresses, and follows them', async (t) => {
  let hosts = ['127.0.0.1'];
  const hc = new HttpHealthCheckServers({ log: silentLogger, proxyHealthy: () => true, hosts: () => hosts });
  t.teardown(() => hc.close());
  const port = await freePort();
  await hc.sync(new Map([['ns/web', { port, localEndpoints: 1 }]]));
  const ok = await request(`http://127.0.0.1:${port}/`);
  t.equal(ok.statusCode, 200);
  await ok.body.dump();
  await t.rejects(request(`http://127.0.0.2:${port}/`), 'not on another loopback address');
  hosts = ['127.0.0.2'];
  await hc.sync(new Map([['ns/web', { port, localEndpoints: 1 }]]));
  const moved = await request(`http://127.0.0.2:${port}/`);
  t.equal(moved.statusCode, 200, 'reopened on the new address');
  await moved.body.dump();
  await t.rejects(request(`http://127.0.0.1:${port}/`), 'and closed on the old one');
});
