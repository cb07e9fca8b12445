// Whole Corefiles as distributions ship them (test/fixtures/corefiles/),
// served by `netlet dns --corefile` inside a throwaway "node" namespace on
// the real ports (53, 8080, 8181, 9153…), asked with dig over UDP and TCP.
// Names outside the cluster go to dnsmasq upstreams in a second namespace
// behind a veth (on the node, port 53 on every address is netlet's, as it
// is CoreDNS's), through the node's own resolv.conf (ip netns exec mounts
// /etc/netns/NAME/resolv.conf over /etc/resolv.conf).
import t from 'tap';
import type { Test } from 'tap';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { Lab, eventually, rootSkip, sh } from '../../helpers/netns.ts';
import type { Netns } from '../../helpers/netns.ts';
import { netletBin } from './forward-dnsmasq.ts';
import { webServiceManifest } from './web-manifest.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/corefiles/', import.meta.url));
const UPSTREAM = '10.200.0.2';

interface Served {
  ns: Netns;
  dir: string;
  log: () => string;
}

interface Pair {
  lab: Lab;
  /** Where netlet runs, with `localAddresses` on its loopback. */
  node: Netns;
  /** Where the upstreams run: 10.200.0.2 (resolv.conf's) and `upstreamAddresses`. */
  up: Netns;
}

/**
 * A node namespace whose resolv.conf names an upstream dnsmasq
 * (example.test → 192.0.2.7, nx.test NXDOMAIN) in a second namespace.
 */
async function nodeWithUpstream(t: Test, localAddresses: string[], upstreamAddresses: string[]): Promise<Pair> {
  const lab = new Lab('dc');
  t.teardown(() => lab.cleanup());
  const node = await lab.netns('node');
  const up = await lab.netns('up');
  const [, upDev] = await lab.link(node, up, '10.200.0.1/24', `${UPSTREAM}/24`);
  for (const a of localAddresses) await node.ip('addr', 'add', `${a}/32`, 'dev', 'lo');
  for (const a of upstreamAddresses) {
    await up.ip('addr', 'add', `${a}/32`, 'dev', upDev);
    await node.ip('route', 'add', `${a}/32`, 'via', UPSTREAM);
  }
  const etc = `/etc/netns/${node.name}`;
  await mkdir(etc, { recursive: true });
  await writeFile(join(etc, 'resolv.conf'), `nameserver ${UPSTREAM}\n`);
  t.teardown(() => rm(etc, { recursive: true, force: true }));
  const pair = { lab, node, up };
  await dnsmasq(pair, UPSTREAM, ['--address=/example.test/192.0.2.7', '--address=/nx.test/']);
  return pair;
}

/** dnsmasq in the upstream namespace on `address`:53, answering as `answers` say. */
async function dnsmasq(p: Pair, address: string, answers: string[]): Promise<void> {
  p.lab.track(p.up.spawn('dnsmasq', ['--no-daemon', '--conf-file=/dev/null', '--pid-file=', '--port=53', `--listen-address=${address}`, '--bind-interfaces', '--no-resolv', '--no-hosts', '--user=root', '--group=root', ...answers]));
  await eventually(async () => (await p.node.exec('dig', [`@${address}`, '+time=1', '+tries=1', 'probe.invalid'], { allowFail: true })).includes('status:'), 10_000);
}

/** `netlet dns --corefile` in `ns`, over a manifest with the Service web at 10.96.0.50; resolves once it answers. */
async function serve(t: Test, p: Pair, corefile: string, files: Record<string, string> = {}): Promise<Served> {
  const { lab, node: ns } = p;
  const dir = await mkdtemp(join(tmpdir(), 'netlet-distro-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'cluster.yaml'), webServiceManifest('10.96.0.50'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  await writeFile(join(dir, 'Corefile'), corefile);
  const child: ChildProcess = lab.track(ns.spawn(process.execPath, [netletBin, 'dns', '--corefile', join(dir, 'Corefile'), '--manifests', dir]));
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  await eventually(() => log.includes('cluster DNS serving'), 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; log: ${log}`);
  });
  return { ns, dir, log: () => log };
}

interface Row {
  name: string;
  /** dig arguments after the server: name, type… */
  ask: string[];
  server?: string;
  status: string;
  answer: string[];
}

/** Each row over UDP and over TCP: status and answer section as zone text. */
async function checkRows(t: Test, s: Served, rows: Row[]): Promise<void> {
  for (const r of rows) {
    for (const proto of ['+notcp', '+tcp']) {
      const out = await s.ns.exec('dig', [`@${r.server ?? '127.0.0.1'}`, '+time=3', '+tries=2', proto, ...r.ask], { allowFail: true });
      const where = `${r.name} (${proto === '+tcp' ? 'tcp' : 'udp'})`;
      t.equal(/status: (\w+)/.exec(out)?.[1], r.status, `${where}: status`);
      const section = /;; ANSWER SECTION:\n([\s\S]*?)(?:\n\n|$)/.exec(out)?.[1] ?? '';
      const answer = section.split('\n').filter(Boolean).map((l) => l.split(/\s+/).join(' '));
      t.strictSame(answer, r.answer, `${where}: answer`);
    }
  }
}

async function fixture(name: string): Promise<string> {
  return readFile(join(FIXTURES, name), 'utf8');
}

const WEB = 'web.default.svc.cluster.local.';
// dnsmasq answers with TTL 0; a block with `cache` hands it on as 5, cache's
// default minimum TTL (CoreDNS does the same); one without keeps 0.

t.test('whole Corefiles of the distributions', { skip: rootSkip() }, async (t) => {
  t.test("kubeadm's current default", async (t) => {
    const p = await nodeWithUpstream(t, [], []);
    const ns = p.node;
    const s = await serve(t, p, await fixture('kubeadm.Corefile'));
    await checkRows(t, s, [
      { name: 'a Service (TTL 30)', ask: [WEB, 'A'], status: 'NOERROR', answer: [`${WEB} 30 IN A 10.96.0.50`] },
      { name: 'its PTR', ask: ['-x', '10.96.0.50'], status: 'NOERROR', answer: [`50.0.96.10.in-addr.arpa. 30 IN PTR ${WEB}`] },
      { name: 'a missing name', ask: [`nope.default.svc.cluster.local.`, 'A'], status: 'NXDOMAIN', answer: [] },
      { name: 'forwarded through resolv.conf', ask: ['www.example.test.', 'A'], status: 'NOERROR', answer: ['www.example.test. 5 IN A 192.0.2.7'] },
      { name: 'an upstream NXDOMAIN', ask: ['a.nx.test.', 'A'], status: 'NXDOMAIN', answer: [] },
    ]);
    t.equal(await ns.exec('curl', ['-s', 'http://127.0.0.1:8080/health']), 'OK', 'health on :8080');
    t.equal(await ns.exec('curl', ['-s', 'http://127.0.0.1:8181/ready']), 'OK', 'ready on :8181');
    t.match(await ns.exec('curl', ['-s', 'http://127.0.0.1:9153/metrics']), /coredns_dns_requests_total/, 'metrics on :9153');
  });

  t.test("kubeadm's older default (upstream, proxy)", async (t) => {
    const p = await nodeWithUpstream(t, [], []);
    const s = await serve(t, p, await fixture('kubeadm-1.13.Corefile'));
    await checkRows(t, s, [
      { name: 'a Service (the plugin default TTL 5)', ask: [WEB, 'A'], status: 'NOERROR', answer: [`${WEB} 5 IN A 10.96.0.50`] },
      { name: 'proxy read as forward', ask: ['www.example.test.', 'A'], status: 'NOERROR', answer: ['www.example.test. 5 IN A 192.0.2.7'] },
    ]);
    t.match(s.log(), /'kubernetes upstream' has been ignored since CoreDNS 1\.5\.2/, 'upstream: a warning naming why');
    t.match(s.log(), /'proxy' was removed in CoreDNS 1\.6\.0; read as 'forward'/, 'proxy: a warning naming the replacement');
  });

  t.test("k3s's (NodeHosts, imports)", async (t) => {
    const p = await nodeWithUpstream(t, [], ['10.150.0.1']);
    await dnsmasq(p, '10.150.0.1', ['--address=/consul.local/10.150.0.99']);
    // k3s mounts its ConfigMap at /etc/coredns; here that folder is the test's.
    const dir = await mkdtemp(join(tmpdir(), 'netlet-k3s-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const corefile = (await fixture('k3s.Corefile')).replaceAll('/etc/coredns/', `${dir}/`);
    await writeFile(join(dir, 'NodeHosts'), '10.0.0.5 node-a\n10.0.0.6 node-b\n');
    await mkdir(join(dir, 'custom'));
    await writeFile(join(dir, 'custom', 'consul.server'), 'consul.local:53 {\n    forward . 10.150.0.1\n}\n');
    const s = await serve(t, p, corefile);
    await checkRows(t, s, [
      { name: 'a Service', ask: [WEB, 'A'], status: 'NOERROR', answer: [`${WEB} 5 IN A 10.96.0.50`] },
      { name: 'a node from NodeHosts (ttl 60, capped by cache 30 in front, as CoreDNS)', ask: ['node-a.', 'A'], status: 'NOERROR', answer: ['node-a. 30 IN A 10.0.0.5'] },
      { name: 'hosts falls through to forward', ask: ['www.example.test.', 'A'], status: 'NOERROR', answer: ['www.example.test. 5 IN A 192.0.2.7'] },
      { name: 'a server block imported from custom/*.server', ask: ['db.consul.local.', 'A'], status: 'NOERROR', answer: ['db.consul.local. 0 IN A 10.150.0.99'] },
    ]);
  });

  t.test('NodeLocal DNSCache (four blocks, bind)', async (t) => {
    const [local, dnsServer, clusterDns] = ['169.254.20.10', '10.96.0.10', '10.200.0.20'];
    const p = await nodeWithUpstream(t, [local, dnsServer], [clusterDns]);
    const ns = p.node;
    // The cluster's own DNS behind node-local: answers the cluster zone (dnsmasq, over TCP too, as force_tcp needs).
    await dnsmasq(p, clusterDns, ['--address=/cluster.local/10.96.0.50', '--ptr-record=50.0.96.10.in-addr.arpa,web.default.svc.cluster.local']);
    const corefile = (await fixture('nodelocaldns.Corefile'))
      .replaceAll('__PILLAR__LOCAL__DNS__', local).replaceAll('__PILLAR__DNS__SERVER__', dnsServer)
      .replaceAll('__PILLAR__CLUSTER__DNS__', clusterDns).replaceAll('__PILLAR__UPSTREAM__SERVERS__', '/etc/resolv.conf');
    const s = await serve(t, p, corefile);
    for (const server of [local, dnsServer]) {
      await checkRows(t, s, [
        { name: `cluster name via ${server}`, server, ask: [WEB, 'A'], status: 'NOERROR', answer: [`${WEB} 5 IN A 10.96.0.50`] },
        { name: `PTR via ${server}`, server, ask: ['-x', '10.96.0.50'], status: 'NOERROR', answer: [`50.0.96.10.in-addr.arpa. 5 IN PTR ${WEB}`] },
        { name: `outside via ${server}`, server, ask: ['www.example.test.', 'A'], status: 'NOERROR', answer: ['www.example.test. 5 IN A 192.0.2.7'] },
      ]);
    }
    const loopback = await ns.exec('dig', ['@127.0.0.1', '+time=1', '+tries=1', WEB], { allowFail: true });
    t.notMatch(loopback, /status: NOERROR/, 'bound to its two addresses only');
    t.equal(await ns.exec('curl', ['-s', `http://${local}:8080/health`]), 'OK', 'health on the link-local address');
  });

  t.test('a stub domain and rewrites', async (t) => {
    const p = await nodeWithUpstream(t, [], ['10.150.0.1']);
    await dnsmasq(p, '10.150.0.1', ['--address=/consul.local/10.150.0.99']);
    const s = await serve(t, p, await fixture('stub-rewrite.Corefile'));
    await checkRows(t, s, [
      { name: 'regex rewrite into the cluster, answer auto', ask: ['web.corp.example.', 'A'], status: 'NOERROR', answer: ['web.corp.example. 30 IN A 10.96.0.50'] },
      { name: 'exact rewrite', ask: ['legacy.example.com.', 'A'], status: 'NOERROR', answer: ['legacy.example.com. 30 IN A 10.96.0.50'] },
      { name: 'the stub domain to its own server', ask: ['db.consul.local.', 'A'], status: 'NOERROR', answer: ['db.consul.local. 5 IN A 10.150.0.99'] },
      { name: 'the rest to resolv.conf', ask: ['www.example.test.', 'A'], status: 'NOERROR', answer: ['www.example.test. 5 IN A 192.0.2.7'] },
      { name: 'a Service by its own name', ask: [WEB, 'A'], status: 'NOERROR', answer: [`${WEB} 30 IN A 10.96.0.50`] },
    ]);
  });

  t.test('netlet dns --check accepts every fixture as shipped', async (t) => {
    for (const f of ['kubeadm.Corefile', 'kubeadm-1.13.Corefile', 'k3s.Corefile', 'stub-rewrite.Corefile']) {
      const out = await sh(process.execPath, [netletBin, 'dns', '--check', join(FIXTURES, f)]);
      t.match(out, /netlet serves this Corefile\.\n$/, `${f}: exit 0 and says so`);
    }
    // NodeLocal DNSCache's as shipped still holds node-cache's placeholders: refused, each by name, exit 1.
    const refused = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(process.execPath, [netletBin, 'dns', '--check', join(FIXTURES, 'nodelocaldns.Corefile')], (err, stdout) => resolve({ code: err ? (err as { code?: number }).code ?? null : 0, out: stdout }));
    });
    t.equal(refused.code, 1, 'exit 1');
    t.match(refused.out, /refused: .*nodelocaldns\.Corefile line 9: '__PILLAR__LOCAL__DNS__' is neither an IP address nor an interface/);
    t.notMatch(refused.out, /runs, in this order: *$/m);
  });
});
