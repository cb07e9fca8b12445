// netlet-cni under a real containerd (CRI plugin, runc, a locally built pause
// image): RunPodSandbox goes through the plugin, the runtime reports the
// address the IPAM allocated, two pods reach each other, and StopPodSandbox
// releases the address. The conflist chains the reference portmap plugin
// after netlet-cni, so a real Go plugin parses netlet-cni's result.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, rootSkip, sh } from '../../helpers/netns.ts';
import { startContainerd, unmountUnder } from '../../cri/containerd.ts';
import type { Containerd } from '../../cri/containerd.ts';
import { installCni } from '../../../src/cni/install.ts';
import { createIpam } from '../../../src/ipam/index.ts';

t.setTimeout(300_000);

t.test('containerd runs pod sandboxes through netlet-cni', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('cnd');
  const dir = mkdtempSync(join(tmpdir(), 'netlet-containerd-'));
  let ctd: Containerd | undefined;
  const sandboxes: string[] = [];
  t.teardown(async () => {
    for (const id of sandboxes) {
      await ctd?.cri.stopPodSandbox(id).catch(() => {});
      await ctd?.cri.removePodSandbox(id).catch(() => {});
    }
    ctd?.cri.close();
    await lab.cleanup();
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  execFileSync(process.execPath, ['scripts/build.ts'], { stdio: 'inherit' });
  const node = await lab.netns('node');
  ctd = await startContainerd(lab, node, dir);
  const ipamConf = { type: 'netlet-ipam', pools: [{ cidr: '10.206.0.0/16', blockSize: 26 }], dataDir: join(dir, 'ipam'), blocksFile: join(dir, 'ipam', 'blocks.json'), nodeName: 'node-a' };
  installCni({
    binDir: ctd.cniBinDir,
    confDir: ctd.cniConfDir,
    cacheDir: join(dir, 'cni-cache'),
    conflist: {
      cniVersion: '1.0.0',
      name: 'netlet',
      plugins: [
        { type: 'netlet-cni', mode: 'bridge', bridge: 'netlet0', mtu: 1500, ipam: ipamConf },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
  });
  // containerd runs the loopback plugin itself, from the same bin_dir.
  for (const p of ['loopback', 'portmap']) symlinkSync(`/usr/lib/cni/${p}`, join(ctd.cniBinDir, p));
  const ipam = await createIpam(ipamConf, { nodeName: 'node-a' });

  const logs = join(dir, 'pod-logs');
  const run = async (name: string) => {
    const logDirectory = join(logs, name);
    mkdirSync(logDirectory, { recursive: true });
    const id = await ctd!.cri.runPodSandbox({ name, namespace: 'default', uid: `uid-${name}`, logDirectory });
    sandboxes.push(id);
    const { status, info } = await ctd!.cri.podSandboxStatus(id);
    const pid = (JSON.parse(info.info ?? '{}') as { pid?: number }).pid;
    return { id, ip: status.network?.ip ?? '', state: status.state, pid };
  };

  const a = await run('web-a');
  const b = await run('web-b');
  t.equal(a.state, 'SANDBOX_READY', 'sandbox a is ready');
  const allocA = await ipam.lookup({ containerID: a.id, ifname: 'eth0' });
  const allocB = await ipam.lookup({ containerID: b.id, ifname: 'eth0' });
  t.equal(allocA.length, 1, 'the IPAM holds an address for sandbox a');
  t.equal(a.ip, allocA[0].address.split('/')[0], 'PodSandboxStatus.network.ip is the allocated address');
  t.equal(b.ip, allocB[0]?.address.split('/')[0], 'and so for sandbox b');
  t.not(a.ip, b.ip);

  t.ok(a.pid, 'the runtime reports the pause pid');
  const pingFromA = await sh('nsenter', [`--net=/proc/${a.pid}/ns/net`, 'ping', '-c', '1', '-W', '2', b.ip], { allowFail: true });
  t.match(pingFromA, /1 received/, 'pod a reaches pod b');
  const pingFromNode = await node.exec('ping', ['-c', '1', '-W', '2', a.ip], { allowFail: true });
  t.match(pingFromNode, /1 received/, 'the node reaches pod a');

  await ctd.cri.stopPodSandbox(a.id);
  t.same(await ipam.lookup({ containerID: a.id, ifname: 'eth0' }), [], 'StopPodSandbox released the address');
  t.notMatch(await node.ip('-o', 'link', 'show', 'master', 'netlet0'), /nlt.*\n.*nlt/, 'one port left on the bridge');
  await ctd.cri.removePodSandbox(a.id);
  sandboxes.splice(sandboxes.indexOf(a.id), 1);
  t.equal((await ipam.lookup({ containerID: b.id, ifname: 'eth0' })).length, 1, 'pod b keeps its address');
});
