// The parts of the proxier that face the node, for real inside namespaces:
// healthCheckNodePort servers answering a client in another namespace over a
// veth, and the conntrack sysctls written into a namespace's own /proc/sys.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Lab, eventually, rootSkip } from '../../helpers/netns.ts';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

t.test('healthCheckNodePort servers answer over the network as kube-proxy does', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('pc');
  t.teardown(() => lab.cleanup());
  const node = await lab.netns('node');
  const client = await lab.netns('lb');
  await lab.link(node, client, '192.168.77.1/24', '192.168.77.2/24');
  const services = [
    ['ns/with', { port: 32101, localEndpoints: 2 }],
    ['ns/without', { port: 32102, localEndpoints: 0 }],
  ];
  const proc = lab.track(node.spawn(process.execPath, [here('./healthcheck-child.ts'), JSON.stringify(services)]));
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  await eventually(() => out.includes('ready'), 15_000);
  t.match(out, /\["ns\/with",32101\].*\["ns\/without",32102\]/, 'both ports listening');

  const curl = (port: number) => client.exec('curl', ['-s', '-i', '--max-time', '5', `http://192.168.77.1:${port}/`]);
  const ok = await curl(32101);
  t.match(ok, /^HTTP\/1\.1 200 /, '200 with local endpoints');
  t.match(ok, /X-Load-Balancing-Endpoint-Weight: 2/i);
  t.match(ok, /Content-Type: application\/json/i);
  t.match(ok, /X-Content-Type-Options: nosniff/i);
  t.ok(ok.endsWith('{"service":{"namespace":"ns","name":"with"},"localEndpoints":2,"serviceProxyHealthy":true}'), 'kube-proxy body');
  const bad = await curl(32102);
  t.match(bad, /^HTTP\/1\.1 503 /, '503 without local endpoints');
  t.ok(bad.endsWith('"localEndpoints":0,"serviceProxyHealthy":true}'));
});

t.test('conntrack sysctls are written into the namespace; read-only ones are reported, not fatal', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('pc');
  t.teardown(() => lab.cleanup());
  const ns = await lab.netns('sysctl');
  const cfg = {
    // nf_conntrack_max is read-only outside the initial namespace: the write must fail cleanly.
    maxPerCore: 32768,
    min: 131072,
    tcpEstablishedTimeout: 7_200_000,
    tcpCloseWaitTimeout: 1_800_000,
    tcpBeLiberal: true,
    udpTimeout: 45_000,
    udpStreamTimeout: 0,
  };
  const read = async (name: string) => (await ns.exec('sysctl', ['-n', name])).trim();
  const streamBefore = await read('net.netfilter.nf_conntrack_udp_timeout_stream');
  const hostBefore = await readFile('/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established', 'utf8');
  const outcomes = JSON.parse(await ns.exec(process.execPath, [here('./sysctl-child.ts'), JSON.stringify(cfg)])) as { name: string; result: string }[];
  const byName = Object.fromEntries(outcomes.map((o) => [o.name, o.result]));
  t.not(byName['net/netfilter/nf_conntrack_max'], 'set', 'nf_conntrack_max is not writable here');
  t.equal(byName['module/nf_conntrack/parameters/hashsize'], undefined, 'the global hash size is never touched then');
  t.equal(await read('net.netfilter.nf_conntrack_tcp_timeout_established'), '7200');
  t.equal(await read('net.netfilter.nf_conntrack_tcp_timeout_close_wait'), '1800');
  t.equal(await read('net.netfilter.nf_conntrack_tcp_be_liberal'), '1');
  t.equal(await read('net.netfilter.nf_conntrack_udp_timeout'), '45');
  t.equal(await read('net.netfilter.nf_conntrack_udp_timeout_stream'), streamBefore, 'udpStreamTimeout 0 left alone');
  t.equal(await readFile('/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established', 'utf8'), hostBefore, "the host's own value is untouched");
});
