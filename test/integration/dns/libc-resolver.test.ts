// The C library's stub resolver in a network namespace, with a pod's
// resolv.conf (search path + ndots:5), asking the server on port 53 there.
import t from 'tap';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Lab, eventually, rootSkip } from '../../helpers/netns.ts';

const fixtureServer = fileURLToPath(new URL('./serve-fixture.ts', import.meta.url));

t.test('getent hosts through the search path', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('dns');
  t.teardown(() => lab.cleanup());
  const ns = await lab.netns('pod');
  // `ip netns exec` bind-mounts /etc/netns/<name>/resolv.conf over /etc/resolv.conf.
  const etc = `/etc/netns/${ns.name}`;
  await mkdir(etc, { recursive: true });
  t.teardown(() => rm(etc, { recursive: true, force: true }));
  await writeFile(
    `${etc}/resolv.conf`,
    'nameserver 127.0.0.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:3 attempts:2\n',
  );

  const server = lab.track(ns.spawn(process.execPath, [fixtureServer, '127.0.0.1:53']));
  let out = '';
  server.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  server.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await eventually(() => out.includes('listening 53'), 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; server said: ${out}`);
  });

  const getent = async (name: string) => (await ns.exec('getent', ['hosts', name], { allowFail: true })).trim();
  t.match(await getent('web'), /^10\.96\.5\.5\s+web\.default\.svc\.cluster\.local/, 'short name through the first search domain');
  t.match(await getent('svc1.testns'), /^10\.0\.0\.1\s+svc1\.testns\.svc\.cluster\.local/, 'name.namespace through the second');
  t.match(await getent('svc1.testns.svc.cluster.local'), /^10\.0\.0\.1\s/, 'fully qualified');
  t.match(await getent('10-244-1-5.testns.pod'), /^10\.244\.1\.5\s/, 'pod name through the third search domain');
  t.equal(await getent('missing'), '', 'NXDOMAIN through every search domain');
  // ahosts, not ahostsv4: with only loopback up, AI_ADDRCONFIG would hide IPv4 answers.
  const headless = (await ns.exec('getent', ['ahosts', 'hdls1.testns'])).trim();
  for (const ip of ['172.0.0.2', '172.0.0.3', '172.0.0.4', '172.0.0.5']) t.match(headless, ip, `headless answer has ${ip}`);
  t.match(await getent('1234:abcd::1'), /svc6\.testns\.svc\.cluster\.local/, 'reverse lookup of a v6 ClusterIP');
  t.match(await getent('10.0.0.1'), /svc1\.testns\.svc\.cluster\.local/, 'reverse lookup of a ClusterIP');
});
