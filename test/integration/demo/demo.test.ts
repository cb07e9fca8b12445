// The README's first command: `netlet demo` runs to its last check and
// leaves nothing behind — no namespace, no resolv.conf folder, no files, and
// the host's own rules, routes and links exactly as they were.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rootSkip } from '../../helpers/netns.ts';

const NETLET = fileURLToPath(new URL('../../../bin/netlet.js', import.meta.url));

function hostState(): Record<string, string> {
  const run = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' });
    } catch {
      return '';
    }
  };
  // Counters change with any traffic on the host: compare rules only.
  const rules = (save: string) => save.split('\n').filter((l) => l.startsWith('-A') || l.startsWith(':')).map((l) => l.replace(/\[\d+:\d+\]/, '')).join('\n');
  return {
    netns: run('ip', ['netns', 'list']).split('\n').filter((l) => l.includes('netlet-demo')).join('\n'),
    links: run('ip', ['-o', 'link', 'show']).split('\n').map((l) => l.split(':')[1]?.trim()).join(' '),
    routes: run('ip', ['route', 'show', 'table', 'all']),
    iptables: rules(run('iptables-save', [])),
    etcNetns: existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((e) => e.startsWith('netlet-demo')).join(' ') : '',
  };
}

t.test('netlet demo passes every check, and --down leaves nothing behind', { skip: rootSkip(), timeout: 180_000 }, async (t) => {
  const before = hostState();
  const demo = spawnSync(process.execPath, [NETLET, 'demo', '--keep'], { encoding: 'utf8', timeout: 150_000 });
  t.teardown(() => {
    spawnSync(process.execPath, [NETLET, 'demo', '--down'], { encoding: 'utf8' });
  });
  if (demo.status !== 0) t.comment(`demo output:\n${demo.stdout}\n${demo.stderr}`);
  t.equal(demo.status, 0, 'the demo exits 0');
  t.match(demo.stdout, /all checks passed/);
  t.notMatch(demo.stdout, /✗/, 'no failed check');
  const checks = demo.stdout.split('\n').filter((l) => l.includes('✓'));
  t.ok(checks.length >= 9, `${checks.length} checks passed`);
  t.ok(readdirSync('/run/netlet-demo').length > 0, '--keep leaves the demo running');

  const down = spawnSync(process.execPath, [NETLET, 'demo', '--down'], { encoding: 'utf8', timeout: 60_000 });
  t.equal(down.status, 0, `--down exits 0 ${down.stderr}`);
  const after = hostState();
  t.equal(after.netns, '', 'no demo namespace left');
  t.equal(after.etcNetns, '', 'no /etc/netns folder left');
  t.notOk(existsSync('/run/netlet-demo'), 'no demo files left');
  t.equal(after.links, before.links, "the host's links are as they were");
  t.equal(after.routes, before.routes, "the host's routes are as they were");
  t.equal(after.iptables, before.iptables, "the host's iptables rules are as they were");
});

t.test('netlet demo --proxy-mode nftables passes every check, its trace included', { skip: rootSkip(), timeout: 180_000 }, async (t) => {
  const demo = spawnSync(process.execPath, [NETLET, 'demo', '--proxy-mode', 'nftables'], { encoding: 'utf8', timeout: 150_000 });
  t.teardown(() => {
    spawnSync(process.execPath, [NETLET, 'demo', '--down'], { encoding: 'utf8' });
  });
  if (demo.status !== 0) t.comment(`demo output:\n${demo.stdout}\n${demo.stderr}`);
  t.equal(demo.status, 0, 'the demo exits 0');
  t.match(demo.stdout, /all checks passed/);
  t.match(demo.stdout, /✓ netlet trace /, 'the trace check read the nftables rules');
  t.ok(demo.stdout.split('\n').filter((l) => l.includes('✓')).length >= 9, 'every check ran');
  t.equal(hostState().netns, '', 'no demo namespace left');
});

t.test('netlet demo --routes vxlan: nodes in two subnets behind a router, joined by the tunnel', { skip: rootSkip(), timeout: 180_000 }, async (t) => {
  const demo = spawnSync(process.execPath, [NETLET, 'demo', '--routes', 'vxlan'], { encoding: 'utf8', timeout: 150_000 });
  t.teardown(() => {
    spawnSync(process.execPath, [NETLET, 'demo', '--down'], { encoding: 'utf8' });
  });
  if (demo.status !== 0) t.comment(`demo output:\n${demo.stdout}\n${demo.stderr}`);
  t.equal(demo.status, 0, 'the demo exits 0');
  t.match(demo.stdout, /in two subnets behind a router, joined by vxlan/);
  t.match(demo.stdout, /route to the other's pods \(vxlan\) … done/, 'each node routes the other\'s pods through vxlan.netlet');
  t.match(demo.stdout, /✓ full-size packets cross \(vxlan\).*pod MTU 1450/, 'pods got the tunnel MTU and full-size DF packets cross');
  t.match(demo.stdout, /✓ pod → pod across nodes/);
  t.match(demo.stdout, /all checks passed/);
  t.equal(hostState().netns, '', 'no demo namespace left');
});

t.test('netlet demo --routes bgp: the nodes learn each other\'s podCIDRs from a BIRD top of rack, no static route', { skip: rootSkip(), timeout: 180_000 }, async (t) => {
  const demo = spawnSync(process.execPath, [NETLET, 'demo', '--routes', 'bgp'], { encoding: 'utf8', timeout: 150_000 });
  t.teardown(() => {
    spawnSync(process.execPath, [NETLET, 'demo', '--down'], { encoding: 'utf8' });
  });
  if (demo.status !== 0) t.comment(`demo output:\n${demo.stdout}\n${demo.stderr}`);
  t.equal(demo.status, 0, 'the demo exits 0');
  t.match(demo.stdout, /behind a BIRD top of rack, routes over BGP/);
  for (const [node, tor] of [['node1', '192.0.2.0'], ['node2', '192.0.2.3']]) {
    t.match(demo.stdout, new RegExp(`✓ netlet bgp status on ${node}: Established.*\\n.*BGP router ID .*\\n.*PEER.*\\n.*${tor} +${tor} +65000 +Established +\\S+ +1 +1`), `${node}'s bgp status printed, Established with the top of rack`);
  }
  t.match(demo.stdout, /✓ the top of rack \(BIRD\) learned both podCIDRs/);
  t.match(demo.stdout, /✓ no static route on the nodes: .*node1: 10\.244\.2\.0\/24 via 192\.0\.2\.0 dev eth0 proto bgp/);
  t.match(demo.stdout, /✓ pod → pod across nodes/);
  t.match(demo.stdout, /all checks passed/);
  t.equal(hostState().netns, '', 'no demo namespace left');
});

t.test('netlet demo --routes ipip runs where the kernel has ipip and is refused by name where not', { skip: rootSkip(), timeout: 180_000 }, async (t) => {
  const demo = spawnSync(process.execPath, [NETLET, 'demo', '--routes', 'ipip'], { encoding: 'utf8', timeout: 150_000 });
  t.teardown(() => {
    spawnSync(process.execPath, [NETLET, 'demo', '--down'], { encoding: 'utf8' });
  });
  if (existsSync('/sys/module/ipip')) {
    t.equal(demo.status, 0, 'the demo exits 0');
    t.match(demo.stdout, /✓ full-size packets cross \(ipip\).*pod MTU 1480/);
  } else {
    t.equal(demo.status, 2, 'refused');
    t.match(demo.stderr, /this kernel cannot make ipip devices \(no ipip module\): --routes ipip cannot run here; use --routes vxlan/);
  }
  t.equal(hostState().netns, '', 'no demo namespace left');
});

t.test('netlet demo refuses a proxy mode it cannot run, by name', { skip: rootSkip() }, async (t) => {
  const bogus = spawnSync(process.execPath, [NETLET, 'demo', '--proxy-mode', 'userspace'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(bogus.status, 2);
  t.match(bogus.stderr, /--proxy-mode must be iptables or nftables or ipvs, got "userspace"/);
  // This host's kernel has no IPVS (the UML suite, test/integration/ipvs, runs the IPVS demo).
  if (existsSync('/proc/net/ip_vs')) return;
  const ipvs = spawnSync(process.execPath, [NETLET, 'demo', '--proxy-mode', 'ipvs'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(ipvs.status, 2);
  t.match(ipvs.stderr, /--proxy-mode ipvs cannot run here: the kernel has no IPVS .*modprobe -a ip_vs/);
  t.equal(hostState().netns, '', 'nothing was built');
});

t.test('an interrupted demo cleans up after itself', { skip: rootSkip(), timeout: 120_000 }, async (t) => {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [NETLET, 'demo'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  // Interrupt once the pods have their network (namespaces, veths and IPAM state exist).
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (out.includes('starting an HTTP server') || child.exitCode !== null) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
  });
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  if (code !== 130) t.comment(`demo output:\n${out}`);
  t.equal(code, 130, 'an interrupted demo exits 130');
  t.match(out, /interrupted: removing the demo/);
  t.equal(hostState().netns, '', 'no demo namespace left');
  t.notOk(existsSync('/run/netlet-demo'), 'no demo files left');
});
