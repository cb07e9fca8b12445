// The route modes' choices that need no kernel: which modes exist, what a
// tunnel mode refuses to be built with, and what it says about a prefix it
// cannot route yet (the kernel side is in test/integration/routes/).
import t from 'tap';
import { RoutesComponent } from '../../../src/routes/component.ts';
import { routeMode } from '../../../src/routes/modes.ts';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../src/base/log.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';

const peer = { name: 'b', addresses: { 4: '192.168.0.2', 6: 'fd00::2' }, tunnel: { addresses: { 4: '10.244.0.64' }, mac: '66:00:00:00:00:02' } };

t.test('modes by name; an unknown one is refused by name, at the component too', async (t) => {
  for (const name of ['direct', 'vxlan', 'ipip']) t.equal((await routeMode(name)).name, name, name);
  await t.rejects(routeMode('geneve'), { code: 'ERR_ROUTE_MODE', message: /routes mode "geneve" is not implemented \(known: direct, vxlan, ipip\)/ });
  t.throws(
    () => new RoutesComponent({ log: silentLogger, store: new ObjectStore(), metrics: new Registry(), nodeName: 'a' }, { mode: 'geneve' }),
    { code: 'ERR_ROUTE_MODE' },
  );
});

t.test('vxlan refuses a VNI or port the wire cannot carry', async (t) => {
  const rows = [
    { name: 'VNI not an integer', vxlan: { vni: 4096.5 }, message: /VNI must be 1\.\.16777215/ },
    { name: 'VNI 0', vxlan: { vni: 0 }, message: /VNI/ },
    { name: 'VNI beyond 24 bits', vxlan: { vni: 1 << 24 }, message: /VNI/ },
    { name: 'port 70000', vxlan: { port: 70000 }, message: /port must be 1\.\.65535/ },
  ];
  for (const r of rows) await t.rejects(routeMode('vxlan', { vxlan: r.vxlan }), { code: 'ERR_ROUTE_MODE', message: r.message }, r.name);
});

t.test('before its devices are ensured, a tunnel mode skips with a reason instead of routing blind', async (t) => {
  const vxlan = await routeMode('vxlan');
  t.match(vxlan.routeTo('10.244.0.64/26', 4, peer), { skip: /no vxlan\.netlet: this node has no IPv4 InternalIP/ });
  const ipip = await routeMode('ipip');
  t.match(ipip.routeTo('10.244.0.64/26', 4, peer), { skip: /no tunl0/ });
  t.match(ipip.routeTo('fd00:244::40/122', 6, peer), { skip: 'IPIP carries IPv4 only: IPv6 prefixes need routes.mode vxlan' });
});
