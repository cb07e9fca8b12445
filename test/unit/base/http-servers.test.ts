import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../../../src/base/errors.ts';
import { listen, parseBindAddress } from '../../../src/base/http-servers.ts';

t.test('bind addresses kube-proxy accepts', async (t) => {
  const rows: [string, string, number][] = [
    ['0.0.0.0:10256', '0.0.0.0', 10256],
    ['127.0.0.1:10249', '127.0.0.1', 10249],
    ['[::]:10256', '::', 10256],
    ['[::1]:9000', '::1', 9000],
    ['[fd00::1]:80', 'fd00::1', 80],
    [':10256', '0.0.0.0', 10256],
    ['localhost:8080', 'localhost', 8080],
    ['127.0.0.1:0', '127.0.0.1', 0],
  ];
  for (const [addr, host, port] of rows) t.same(parseBindAddress('healthzBindAddress', addr), { host, port }, addr);
});

t.test('malformed bind addresses are config errors naming the key', async (t) => {
  const rows = ['10256', '0.0.0.0', '0.0.0.0:', '0.0.0.0:65536', '0.0.0.0:http', '::1:80', '[::1]80', '[::1]:', '1.2.3.4:-1'];
  for (const addr of rows) {
    let err: unknown;
    try {
      parseBindAddress('metricsBindAddress', addr);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof ConfigError, `${JSON.stringify(addr)} is rejected`);
    t.equal((err as ConfigError).key, 'metricsBindAddress', `${JSON.stringify(addr)} names the key`);
  }
});

t.test('an address in use is a config error naming the key, not a crash', async (t) => {
  const first = await listen(createServer(), 'healthzBindAddress', '127.0.0.1:0');
  t.teardown(() => first.close());
  const port = (first.address() as AddressInfo).port;
  let err: unknown;
  await listen(createServer(), 'metricsBindAddress', `127.0.0.1:${port}`).catch((e: unknown) => (err = e));
  t.ok(err instanceof ConfigError);
  t.equal((err as ConfigError).key, 'metricsBindAddress');
  t.match((err as Error).message, `127.0.0.1:${port}: EADDRINUSE`);
});
