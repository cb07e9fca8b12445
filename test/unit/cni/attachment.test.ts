import t from 'tap';
import { UndoStack, hostVethAlias, hostVethName, ownerOf } from '../../../src/cni/attachment.ts';
import { parseEnv } from '../../../src/cni/env.ts';

t.test('host veth names', async (t) => {
  const a = hostVethName({ containerID: 'c'.repeat(64), ifname: 'eth0' });
  t.match(a, /^nlt[0-9a-f]{12}$/, 'prefix and 12 hex digits');
  t.ok(a.length <= 15, 'fits IFNAMSIZ');
  t.equal(hostVethName({ containerID: 'c'.repeat(64), ifname: 'eth0' }), a, 'the same attachment, the same name (DEL finds it without state)');
  t.not(hostVethName({ containerID: 'c'.repeat(64), ifname: 'eth1' }), a, 'another interface of the same container differs');
  t.equal(hostVethAlias('netlet', { containerID: 'abc', ifname: 'eth0' }), 'netlet:netlet:abc:eth0');
});

t.test('the IPAM owner comes from CNI_ARGS', async (t) => {
  const env = parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=kube-system;K8S_POD_NAME=coredns-1' });
  t.same(ownerOf(env), { containerID: 'c1', ifname: 'eth0', podNamespace: 'kube-system', podName: 'coredns-1' });
  const bare = parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/x', CNI_IFNAME: 'eth0' });
  t.same(ownerOf(bare), { containerID: 'c1', ifname: 'eth0', podNamespace: '', podName: '' }, "'' without Kubernetes args");
});

t.test('undo runs newest first and keeps going past a failing step', async (t) => {
  const order: string[] = [];
  const undo = new UndoStack();
  undo.push(async () => order.push('release address'));
  undo.push(async () => {
    order.push('delete veth');
    throw new Error('already gone');
  });
  undo.push(async () => order.push('delete route'));
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await undo.run();
  } finally {
    process.stderr.write = write;
  }
  t.same(order, ['delete route', 'delete veth', 'release address']);
  await undo.run();
  t.equal(order.length, 3, 'each step runs once');
});
