// netlet-cni against the real kernel: the real plugin executed with CNI_*
// environment and config on stdin, inside a "node" namespace, for "pods" in
// their own namespaces. Both modes; then 200 concurrent ADDs.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, rootSkip } from '../../helpers/netns.ts';
import type { Netns } from '../../helpers/netns.ts';
import { installPlugin, runPlugin } from './plugin-harness.ts';
import { pluginLab } from './plugin-lab.ts';

const ping = async (from: Netns, ip: string): Promise<boolean> =>
  /1 received/.test(await from.exec('ping', ['-c', '1', '-W', '2', ip], { allowFail: true }));

function netconf(mode: 'bridge' | 'routed', dataDir: string, pool: string, extra: object = {}) {
  return {
    cniVersion: '1.0.0',
    name: 'netlet-test',
    type: 'netlet-cni',
    mode,
    bridge: 'nltbr0',
    mtu: 1400,
    ipam: { type: 'netlet-ipam', pools: [{ cidr: pool, blockSize: 24 }], dataDir, blocksFile: join(dataDir, 'blocks.json'), nodeName: 'node-a', lockTimeout: '60s' },
    ...extra,
  };
}

for (const mode of ['bridge', 'routed'] as const) {
  t.test(`${mode} mode: ADD, CHECK, DEL with the real binary`, { skip: rootSkip() }, async (t) => {
    const { lab, plugin, dataDir } = pluginLab(t, 'cni', 'netlet-cni-ipam-');
    const node = await lab.netns('node');
    const uplink = await lab.netns('up');
    // The node's uplink and default route, as on a real node (routed mode's
    // proxy ARP answers only for addresses the node can route elsewhere).
    await lab.link(node, uplink, '192.0.2.1/24', '192.0.2.254/24');
    await node.ip('route', 'add', 'default', 'via', '192.0.2.254');
    const podA = await lab.netns('pa');
    const podB = await lab.netns('pb');
    const conf = netconf(mode, dataDir, mode === 'bridge' ? '10.201.0.0/16' : '10.202.0.0/16');
    const call = (command: 'ADD' | 'DEL' | 'CHECK', pod: Netns, extra: object = {}) =>
      runPlugin(plugin, node.name, {
        command,
        containerID: `ctr-${pod.name}`,
        netns: `/run/netns/${pod.name}`,
        ifname: 'eth0',
        args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod.name}`,
        conf: { ...conf, ...extra },
      });

    const addA = await call('ADD', podA);
    t.equal(addA.code, 0, `ADD A succeeds: ${addA.stdout}`);
    const addB = await call('ADD', podB);
    t.equal(addB.code, 0, `ADD B succeeds: ${addB.stdout}`);
    const ipA = String(addA.json.ips[0].address).split('/')[0];
    const ipB = String(addB.json.ips[0].address).split('/')[0];
    t.not(ipA, ipB, 'two pods, two addresses');
    const podIf = addA.json.interfaces[addA.json.ips[0].interface];
    t.equal(podIf.name, 'eth0', 'ips[].interface points at the pod interface');
    t.equal(podIf.sandbox, `/run/netns/${podA.name}`);

    const addrOut = await podA.ip('-o', 'addr', 'show', 'dev', 'eth0');
    t.match(addrOut, addA.json.ips[0].address, 'the pod holds the address of the result');
    t.match(await podA.ip('-o', 'link', 'show', 'eth0'), /mtu 1400/, 'MTU from the config');
    const gw = addA.json.ips[0].gateway;
    t.match(await podA.ip('route', 'show', 'default'), new RegExp(`default via ${gw.replace(/\./g, '\\.')} dev eth0`), 'default route via the gateway');
    if (mode === 'bridge') {
      t.match(await node.ip('-o', 'addr', 'show', 'dev', 'nltbr0'), new RegExp(`${gw.replace(/\./g, '\\.')}/24`), 'the bridge holds the gateway');
      t.match(await node.exec('bridge', ['-d', 'link', 'show']), /hairpin on/, 'hairpin is on');
    } else {
      t.equal(gw, '169.254.1.1', 'routed mode uses the link-local gateway');
      t.match(await node.ip('route', 'show', `${ipA}/32`), /dev nlt/, 'the node routes the pod /32 to its veth');
      t.notMatch(await node.ip('link', 'show'), /nltbr0/, 'no bridge in routed mode');
    }
    t.equal((await node.exec('sysctl', ['-n', 'net.ipv4.ip_forward'])).trim(), '1', 'forwarding on in the node');

    t.ok(await ping(podA, mode === 'bridge' ? gw : '192.0.2.1'), 'pod → its node');
    t.ok(await ping(node, ipA), 'node → pod');
    t.ok(await ping(podA, ipB), 'pod → pod on the same node');

    const check = await call('CHECK', podA, { prevResult: addA.json });
    t.equal(check.code, 0, `CHECK passes: ${check.stdout}`);
    await podA.ip('route', 'del', 'default');
    const broken = await call('CHECK', podA, { prevResult: addA.json });
    t.equal(broken.code, 1, 'CHECK fails once the default route is gone');
    t.equal(broken.json.code, 101);
    t.match(broken.json.msg, /default route/);

    const del1 = await call('DEL', podA);
    t.equal(del1.code, 0, `DEL succeeds: ${del1.stdout}`);
    t.notMatch(await podA.ip('link', 'show'), /eth0/, 'the pod interface is gone');
    t.notMatch(await node.ip('route', 'show'), new RegExp(`^${ipA.replace(/\./g, '\\.')} `, 'm'), 'no route left to the pod');
    const del2 = await call('DEL', podA);
    t.equal(del2.code, 0, 'DEL twice succeeds');

    // The netns goes first (a node reboot, a crashed runtime): DEL must still succeed and release.
    await podB.ip('link', 'show'); // exists
    const { sh } = await import('../../helpers/netns.ts');
    await sh('ip', ['netns', 'del', podB.name]);
    const delGone = await call('DEL', podB);
    t.equal(delGone.code, 0, `DEL with the netns gone succeeds: ${delGone.stdout}`);

    // Released addresses come back: a new pod gets an address again, and A's is free.
    const podC = await lab.netns('pc');
    const addC = await call('ADD', podC);
    t.equal(addC.code, 0, 'ADD after DELs');
    await call('DEL', podC);
  });
}

t.test('ADD undoes its side effects when a later step fails', { skip: rootSkip() }, async (t) => {
  const { lab, plugin, dataDir } = pluginLab(t, 'cnu', 'netlet-cni-ipam-');
  const node = await lab.netns('node');
  const pod = await lab.netns('pod');
  // eth0 already exists in the pod: the veth cannot be created after the address is allocated.
  await pod.ip('link', 'add', 'eth0', 'type', 'bridge');
  const conf = netconf('bridge', dataDir, '10.203.0.0/16');
  const add = await runPlugin(plugin, node.name, { command: 'ADD', containerID: 'c-undo', netns: `/run/netns/${pod.name}`, ifname: 'eth0', conf });
  t.equal(add.code, 1, 'ADD fails');
  t.match(add.json.msg, /EEXIST/, 'and says why');
  t.notMatch(await node.ip('link', 'show'), /nlt[0-9a-f]{12}/, 'no host veth left behind');
  await pod.ip('link', 'del', 'eth0');
  const again = await runPlugin(plugin, node.name, { command: 'ADD', containerID: 'c-undo2', netns: `/run/netns/${pod.name}`, ifname: 'eth0', conf });
  t.equal(again.code, 0, 'the next ADD works');
  const held = await runPlugin(plugin, node.name, {
    command: 'CHECK',
    containerID: 'c-undo',
    netns: `/run/netns/${pod.name}`,
    ifname: 'eth0',
    conf: { ...conf, prevResult: again.json },
  });
  t.match(held.json?.msg, /no address is allocated to c-undo\/eth0/, 'the failed ADD released its address');
});

t.test('STATUS and GC', { skip: rootSkip() }, async (t) => {
  const { lab, plugin, dataDir } = pluginLab(t, 'cng', 'netlet-cni-ipam-');
  const node = await lab.netns('node');
  const pods = [await lab.netns('p1'), await lab.netns('p2')];
  const conf = { ...netconf('bridge', dataDir, '10.204.0.0/16'), cniVersion: '1.1.0' };
  for (const [i, p] of pods.entries()) {
    const r = await runPlugin(plugin, node.name, { command: 'ADD', containerID: `gc${i}`, netns: `/run/netns/${p.name}`, ifname: 'eth0', conf });
    t.equal(r.code, 0, `ADD ${i}`);
  }
  const status = await runPlugin(plugin, node.name, { command: 'STATUS', conf });
  t.equal(status.code, 0, 'STATUS: available');
  const gc = await runPlugin(plugin, node.name, {
    command: 'GC',
    conf: { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'gc0', ifname: 'eth0' }] },
  });
  t.equal(gc.code, 0, `GC succeeds: ${gc.stdout}`);
  t.match(await pods[0].ip('link', 'show'), /eth0/, 'the valid attachment keeps its interface');
  t.notMatch(await pods[1].ip('link', 'show'), /eth0/, 'the leaked one loses it');
  const old = await runPlugin(plugin, node.name, { command: 'STATUS', conf: { ...conf, cniVersion: '1.0.0' } });
  t.equal(old.json.code, 1, 'STATUS needs config version 1.1.0');
});


for (const mode of ['bridge', 'routed'] as const) {
  t.test(`${mode} mode, dual-stack: one IPv4 and one IPv6 address, both reachable`, { skip: rootSkip() }, async (t) => {
    const { lab, plugin, dataDir } = pluginLab(t, 'cn6', 'netlet-cni-ipam-');
    const node = await lab.netns('node');
    const uplink = await lab.netns('up');
    await lab.link(node, uplink, '192.0.2.1/24', '192.0.2.254/24');
    await node.ip('route', 'add', 'default', 'via', '192.0.2.254');
    const pods = [await lab.netns('pa'), await lab.netns('pb')];
    const base = netconf(mode, dataDir, '10.207.0.0/16');
    const conf = { ...base, ipam: { ...base.ipam, pools: [{ cidr: '10.207.0.0/16' }, { cidr: 'fd00:207::/48' }] } };
    const results = [];
    for (const [i, p] of pods.entries()) {
      const r = await runPlugin(plugin, node.name, { command: 'ADD', containerID: `ds${i}`, netns: `/run/netns/${p.name}`, ifname: 'eth0', conf });
      t.equal(r.code, 0, `ADD ${i}: ${r.stdout}`);
      results.push(r.json);
    }
    const v6 = (r: { ips: Array<{ address: string }> }) => r.ips.map((ip) => ip.address).find((a) => a.includes(':'))!;
    t.equal(results[0].ips.length, 2, 'two addresses');
    t.match(v6(results[0]), mode === 'bridge' ? /^fd00:207::[0-9a-f]+\/122$/ : /^fd00:207::[0-9a-f]+\/128$/);
    t.match(await pods[0].ip('-6', 'route', 'show', 'default'), mode === 'bridge' ? /default via fd00:207::1 dev eth0/ : /default via fe80::1 dev eth0/);
    const target = v6(results[1]).split('/')[0];
    const out = await pods[0].exec('ping', ['-6', '-c', '1', '-W', '3', target], { allowFail: true });
    t.match(out, /1 received/, 'pod → pod over IPv6');
    const del = await runPlugin(plugin, node.name, { command: 'DEL', containerID: 'ds0', netns: `/run/netns/${pods[0].name}`, ifname: 'eth0', conf });
    t.equal(del.code, 0, 'DEL');
  });
}

t.test('chaining: the reference bandwidth plugin works on netlet-cni’s result', { skip: rootSkip() }, async (t) => {
  const { lab, plugin, dataDir } = pluginLab(t, 'cnb', 'netlet-cni-ipam-');
  const node = await lab.netns('node');
  const pod = await lab.netns('pod');
  const conf = netconf('bridge', dataDir, '10.209.0.0/16');
  const env = { containerID: 'bw', netns: `/run/netns/${pod.name}`, ifname: 'eth0' };
  const add = await runPlugin(plugin, node.name, { command: 'ADD', ...env, conf });
  t.equal(add.code, 0, 'netlet-cni ADD');
  // What the runtime does next in a conflist: the next plugin gets this result as prevResult.
  const bw = await runPlugin('/usr/lib/cni/bandwidth', node.name, {
    command: 'ADD',
    ...env,
    conf: {
      cniVersion: '1.0.0',
      name: conf.name,
      type: 'bandwidth',
      runtimeConfig: { bandwidth: { ingressRate: 8_000_000, ingressBurst: 1_000_000 } },
      prevResult: add.json,
    },
  });
  t.equal(bw.code, 0, `bandwidth ADD accepts the result: ${bw.stdout}`);
  const hostVeth = add.json.interfaces.find((i: { sandbox?: string; name: string }) => !i.sandbox && /^nlt[0-9a-f]{12}$/.test(i.name)).name;
  t.match(await node.exec('tc', ['qdisc', 'show', 'dev', hostVeth]), /tbf/, 'it shaped the host veth it found through the result');
  t.same(bw.json.ips, add.json.ips, 'and passed the addresses on');
});

t.test('a runtime copied for the host (DaemonSet install) is self-contained', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('cnh');
  const dir = mkdtempSync(join(tmpdir(), 'netlet-cni-hostroot-'));
  t.teardown(async () => {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  installPlugin().cleanup(); // builds the bundle
  const { installCni } = await import('../../../src/cni/install.ts');
  // hostRoot "/" with a runtime directory of its own: the launcher must need
  // nothing from this checkout, only the copy.
  const { plugin } = installCni({ binDir: join(dir, 'bin'), confDir: join(dir, 'net.d'), hostRoot: '/', runtimeDir: join(dir, 'runtime'), cacheDir: join(dir, 'cache') });
  const launcher = (await import('node:fs')).readFileSync(plugin, 'utf8');
  t.match(launcher.split('\n')[0], `#!${join(dir, 'runtime', 'node')}`, 'the shebang names the copied Node');
  t.notMatch(launcher, process.cwd(), 'nothing points back into the checkout');
  const node = await lab.netns('node');
  const pod = await lab.netns('pod');
  const add = await runPlugin(plugin, node.name, { command: 'ADD', containerID: 'hr', netns: `/run/netns/${pod.name}`, ifname: 'eth0', conf: netconf('bridge', join(dir, 'ipam'), '10.210.0.0/16') });
  t.equal(add.code, 0, `ADD through the copied runtime: ${add.stdout}`);
});
