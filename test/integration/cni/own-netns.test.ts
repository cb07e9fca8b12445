// issue 13, point 9, with the real plugin: run inside a "node" namespace and
// handed that same namespace as CNI_NETNS, netlet-cni refuses with CNI code 4
// and leaves the node as it was (no veth, no address allocated).
import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { rootSkip } from '../../helpers/netns.ts';
import { runPlugin } from './plugin-harness.ts';
import { pluginLab } from './plugin-lab.ts';

t.test('ADD into the node\'s own namespace is refused', { skip: rootSkip() }, async (t) => {
  const { lab, plugin, dataDir } = pluginLab(t, 'cno', 'netlet-cni-own-');
  const node = await lab.netns('node');
  const conf = {
    cniVersion: '1.0.0',
    name: 'netlet-own',
    type: 'netlet-cni',
    bridge: 'nltbr0',
    ipam: { type: 'netlet-ipam', pools: [{ cidr: '10.209.0.0/16' }], dataDir, blocksFile: join(dataDir, 'blocks.json'), nodeName: 'node-a' },
  };
  const linksBefore = await node.ip('-o', 'link', 'show');
  const add = await runPlugin(plugin, node.name, { command: 'ADD', containerID: 'c-own', netns: `/run/netns/${node.name}`, ifname: 'eth0', conf });
  t.equal(add.code, 1, 'ADD fails');
  t.equal(add.json?.code, 4, `CNI code 4, invalid CNI_NETNS: ${add.stdout}`);
  t.match(add.json?.msg, /CNI_NETNS .* own network namespace/, 'the message says why');
  t.equal(await node.ip('-o', 'link', 'show'), linksBefore, 'no link was created in the node');
  t.notOk(existsSync(join(dataDir, 'blocks.json')), 'no block was claimed');
  t.same(readdirSync(dataDir).filter((f) => f.endsWith('.json')), [], 'no allocation was written');
});
