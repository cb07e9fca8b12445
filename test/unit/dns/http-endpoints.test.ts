import t from 'tap';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { startDnsHttp, stopDnsHttp } from '../../../src/dns/http-endpoints.ts';

t.test('/ready is 503 until synced, /health is 200, off when the address is empty', async (t) => {
  let ready = false;
  const servers = await startDnsHttp({ health: '127.0.0.1:0', ready: '127.0.0.1:0', prometheus: '', isReady: () => ready, registry: new Registry() });
  t.teardown(() => stopDnsHttp(servers));
  t.equal(servers.length, 2, 'no metrics server for an empty address');
  const [health, readyPort] = servers.map((s) => (s.address() as AddressInfo).port);
  const get = async (port: number, path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return `${res.status} ${await res.text()}`;
  };
  t.equal(await get(health, '/health'), '200 OK');
  t.equal(await get(readyPort, '/ready'), '503 kubernetes', 'names the plugin that is not ready, as CoreDNS');
  ready = true;
  t.equal(await get(readyPort, '/ready'), '200 OK');
  t.equal(await get(health, '/other'), '404 404 page not found\n');
});
