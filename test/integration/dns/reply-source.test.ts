// A server listening on 0.0.0.0 must answer UDP from the address the query
// was sent to. Here the server's namespace has two addresses on one link and
// the route back to the client prefers the first: a query to the second
// address must still be answered from the second, or the client (and
// conntrack, for queries that came through the kube-dns ClusterIP) drops it.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { Lab, eventually, rootSkip } from '../../helpers/netns.ts';

const fixtureServer = fileURLToPath(new URL('./serve-fixture.ts', import.meta.url));

t.test('UDP answers leave from the queried address', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('dns');
  t.teardown(() => lab.cleanup());
  const server = await lab.netns('srv');
  const client = await lab.netns('cli');
  const [srvIf, cliIf] = await lab.link(server, client, '192.0.2.1/24', '192.0.2.2/24');
  await server.ip('addr', 'add', '198.51.100.1/24', 'dev', srvIf);
  await client.ip('route', 'add', '198.51.100.0/24', 'dev', cliIf);

  const proc = lab.track(server.spawn(process.execPath, [fixtureServer, '0.0.0.0:53']));
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await eventually(() => out.includes('listening 53'), 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; server said: ${out}`);
  });

  for (const addr of ['192.0.2.1', '198.51.100.1']) {
    const answer = await eventually(
      async () => (await client.exec('dig', ['+short', '+time=1', '+tries=1', `@${addr}`, 'web.default.svc.cluster.local'], { allowFail: true })).trim(),
      10_000,
    );
    t.equal(answer, '10.96.5.5', `answer to a query sent to ${addr}`);
  }
  // A new address is picked up without a restart.
  await server.ip('addr', 'add', '203.0.113.1/24', 'dev', srvIf);
  await client.ip('route', 'add', '203.0.113.0/24', 'dev', cliIf);
  const late = await eventually(
    async () => (await client.exec('dig', ['+short', '+time=1', '+tries=1', '@203.0.113.1', 'web.default.svc.cluster.local'], { allowFail: true })).trim(),
    10_000,
  );
  t.equal(late, '10.96.5.5', 'an address added later answers from itself too');
});
