// 200 concurrent ADDs of the real plugin against the real IPAM, in one node
// namespace: every one succeeds and no address is handed out twice. Half
// run as separate Node.js processes (the launcher), half through the C shim
// into one `netlet cni-server`, so the IPAM lock is contended both between
// processes and inside one.
import t from 'tap';
import { join } from 'node:path';
import { rootSkip } from '../../helpers/netns.ts';
import type { Netns } from '../../helpers/netns.ts';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { eventually } from '../../helpers/netns.ts';
import { installCni } from '../../../src/cni/install.ts';
import { runPlugin } from './plugin-harness.ts';
import { pluginLab } from './plugin-lab.ts';

t.setTimeout(600_000);

t.test('200 concurrent ADDs get 200 distinct addresses', { skip: rootSkip() }, async (t) => {
  const { lab, plugin, dataDir } = pluginLab(t, 'cnc', 'netlet-cni-ipam-');
  const node = await lab.netns('node');
  const socket = join(dataDir, 'cni.sock');
  const fast = installCni({ binDir: join(dataDir, 'fastbin'), confDir: join(dataDir, 'net.d'), cacheDir: join(dataDir, 'cache'), agentSocket: socket }).plugin;
  lab.track(spawn('nsenter', [`--net=/run/netns/${node.name}`, process.execPath, 'bin/netlet.js', 'cni-server', '--socket', socket], { stdio: 'ignore' }));
  await eventually(() => existsSync(socket), 30_000);
  const pods: Netns[] = [];
  for (let i = 0; i < 200; i++) pods.push(await lab.netns(`p${i}`));
  const conf = {
    cniVersion: '1.0.0',
    name: 'netlet-conc',
    type: 'netlet-cni',
    bridge: 'nltbr0',
    // Small blocks, so the runs also race to claim new blocks.
    ipam: { type: 'netlet-ipam', pools: [{ cidr: '10.205.0.0/16', blockSize: 26 }], dataDir, blocksFile: join(dataDir, 'blocks.json'), nodeName: 'node-a', lockTimeout: '120s' },
  };
  const replies = await Promise.all(
    pods.map((p, i) => runPlugin(i % 2 ? fast : plugin, node.name, { command: 'ADD', containerID: `conc${i}`, netns: `/run/netns/${p.name}`, ifname: 'eth0', conf })),
  );
  const failed = replies.filter((r) => r.code !== 0);
  t.equal(failed.length, 0, `every ADD succeeds${failed.length ? `: ${failed[0].stdout}` : ''}`);
  const addrs = replies.filter((r) => r.code === 0).map((r) => String(r.json.ips[0].address));
  t.equal(new Set(addrs).size, 200, '200 distinct addresses');
  const links = await node.ip('-o', 'link', 'show', 'master', 'nltbr0');
  t.equal(links.trim().split('\n').length, 200, '200 ports on the bridge');
});
