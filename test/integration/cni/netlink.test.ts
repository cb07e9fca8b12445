// The shared netlink layer against the real kernel, in throwaway namespaces:
// every call is checked with the `ip`/`bridge` tools.
import t from 'tap';
import { closeSync, openSync } from 'node:fs';
import { Lab, rootSkip, sh } from '../../helpers/netns.ts';
import {
  addAddress,
  addRoute,
  createVeth,
  deleteLink,
  deleteRoute,
  ensureBridge,
  ensureSysctl,
  linkByName,
  listAddresses,
  listRoutes,
  openRtnl,
  closeRtnl,
  readSysctl,
  replaceRoute,
  setHairpin,
  setMaster,
  setMtu,
  setLinkUp,
  replaceNeighbour,
  addProxyNeighbour,
  deleteNeighbour,
  listNeighbours,
  appendFdb,
  deleteFdb,
} from '../../../src/netlink/index.ts';

t.test('netlink layer in namespaces', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('cnl');
  t.teardown(() => lab.cleanup());
  const host = await lab.netns('host');
  const pod = await lab.netns('pod');
  const hostPath = `/run/netns/${host.name}`;
  const podPath = `/run/netns/${pod.name}`;
  const hs = openRtnl(hostPath);
  const ps = openRtnl(podPath);
  t.teardown(() => {
    closeRtnl(hs);
    closeRtnl(ps);
  });

  await t.test('a veth is born with its peer inside the other namespace', async (t) => {
    const fd = openSync(podPath, 'r');
    try {
      await createVeth(hs, { name: 'vh0', peerName: 'eth0', peerNetnsFd: fd, mtu: 1400 });
    } finally {
      closeSync(fd);
    }
    t.match(await host.ip('-o', 'link', 'show', 'vh0'), /mtu 1400/);
    t.match(await pod.ip('-o', 'link', 'show', 'eth0'), /mtu 1400/);
    t.equal((await linkByName(ps, 'eth0'))?.kind, 'veth');
    t.equal(await linkByName(hs, 'eth0'), undefined, 'the pod end never appears on the host');
    await t.rejects(
      (async () => {
        const fd2 = openSync(podPath, 'r');
        try {
          await createVeth(hs, { name: 'vh1', peerName: 'eth0', peerNetnsFd: fd2 });
        } finally {
          closeSync(fd2);
        }
      })(),
      { errno: 'EEXIST' } as object as Error,
      'a taken pod-side name is EEXIST',
    );
  });

  await t.test('bridge, master, hairpin, mtu', async (t) => {
    const br = await ensureBridge(hs, 'br0', 1400);
    t.equal(br.kind, 'bridge');
    t.equal((await ensureBridge(hs, 'br0')).index, br.index, 'a second ensure finds the same bridge');
    const vh = (await linkByName(hs, 'vh0'))!;
    await setMaster(hs, vh.index, br.index);
    await setHairpin(hs, vh.index, true);
    t.match(await host.exec('bridge', ['-d', 'link', 'show', 'dev', 'vh0']), /hairpin on/);
    t.equal((await linkByName(hs, 'vh0'))?.master, br.index);
    await setMtu(hs, vh.index, 1300);
    t.equal((await linkByName(hs, 'vh0'))?.mtu, 1300);
  });

  await t.test('addresses and routes, including blackhole and table', async (t) => {
    const br = (await linkByName(hs, 'br0'))!;
    await addAddress(hs, br.index, '10.9.0.1/24');
    await addAddress(hs, br.index, '10.9.0.1/24'); // again: not an error
    t.same((await listAddresses(hs, br.index)).filter((a) => a.family === 4).map((a) => a.cidr), ['10.9.0.1/24']);
    const eth0 = (await linkByName(ps, 'eth0'))!;
    await setLinkUp(ps, eth0.index, true);
    await setLinkUp(hs, (await linkByName(hs, 'vh0'))!.index, true);
    await addAddress(ps, eth0.index, '10.9.0.5/24');
    await addRoute(ps, { dst: '0.0.0.0/0', gateway: '10.9.0.1', oif: eth0.index });
    t.match(await pod.ip('route', 'show', 'default'), /default via 10\.9\.0\.1 dev eth0 proto 87/);
    await addRoute(hs, { dst: '10.99.0.0/26', type: 'blackhole' });
    t.match(await host.ip('route', 'show', 'type', 'blackhole'), /blackhole 10\.99\.0\.0\/26 proto 87/);
    await replaceRoute(hs, { dst: '10.98.0.7/32', oif: br.index, scope: 253, table: 100 });
    t.match(await host.ip('route', 'show', 'table', '100'), /10\.98\.0\.7 dev br0 proto 87 scope link/);
    const listed = await listRoutes(hs, { family: 4 });
    t.ok(listed.find((r) => r.dst === '10.99.0.0/26' && r.type === 'blackhole'), 'list reads the blackhole back');
    t.ok(await deleteRoute(hs, { dst: '10.99.0.0/26', type: 'blackhole' }));
    t.notOk(await deleteRoute(hs, { dst: '10.99.0.0/26', type: 'blackhole' }), 'deleting twice says false');
    const ping = await pod.exec('ping', ['-c', '1', '-W', '2', '10.9.0.1'], { allowFail: true });
    t.match(ping, /1 received/, 'the pod reaches the bridge address');
  });

  await t.test('sysctls are read and written per namespace', async (t) => {
    t.equal(readSysctl('net.ipv4.ip_forward', hostPath), '0');
    t.equal(ensureSysctl('net.ipv4.ip_forward', '1', hostPath), true);
    t.equal(ensureSysctl('net.ipv4.ip_forward', '1', hostPath), false, 'no write when already set');
    t.equal((await host.exec('sysctl', ['-n', 'net.ipv4.ip_forward'])).trim(), '1');
    t.equal((await pod.exec('sysctl', ['-n', 'net.ipv4.ip_forward'])).trim(), '0', 'the pod namespace is untouched');
  });

  await t.test('neighbours, proxy entries and VXLAN forwarding entries', async (t) => {
    const br = (await linkByName(hs, 'br0'))!;
    await replaceNeighbour(hs, br.index, '10.9.0.77', '02:00:00:00:00:77');
    t.match(await host.ip('neigh', 'show', 'dev', 'br0'), /10\.9\.0\.77 lladdr 02:00:00:00:00:77 PERMANENT/);
    t.ok((await listNeighbours(hs, br.index)).some((n) => n.ip === '10.9.0.77' && n.permanent));
    await addProxyNeighbour(hs, br.index, '10.9.0.88');
    t.match(await host.ip('neigh', 'show', 'proxy'), /10\.9\.0\.88 dev br0 proxy/);
    t.ok(await deleteNeighbour(hs, br.index, '10.9.0.77'));
    t.notOk(await deleteNeighbour(hs, br.index, '10.9.0.77'), 'deleting twice says false');
    t.ok(await deleteNeighbour(hs, br.index, '10.9.0.88', { proxy: true }));
    await host.ip('link', 'add', 'vx0', 'type', 'vxlan', 'id', '7', 'dstport', '4789', 'nolearning');
    const vx = (await linkByName(hs, 'vx0'))!;
    await appendFdb(hs, vx.index, '00:00:00:00:00:00', '192.0.2.9');
    t.match(await host.exec('bridge', ['fdb', 'show', 'dev', 'vx0']), /00:00:00:00:00:00 dst 192\.0\.2\.9 self permanent/);
    t.ok(await deleteFdb(hs, vx.index, '00:00:00:00:00:00', '192.0.2.9'));
  });

  await t.test('deleting a veth removes both ends; twice is fine', async (t) => {
    t.equal(await deleteLink(hs, 'vh0'), true);
    t.equal(await deleteLink(hs, 'vh0'), false);
    t.equal(await linkByName(ps, 'eth0'), undefined);
    await sh('true', []);
  });
});
