// The nftables backend against the real kernel: plans built by hand, synced
// by a backend inside a node namespace, real TCP traffic from pod and
// external-client namespaces (the iptables suite's topology.ts).

import t from 'tap';
import { rootSkip } from '../../helpers/netns.ts';
import { planSet } from '../../unit/iptables/plans.ts';
import { buildTopology } from '../iptables/topology.ts';
import { checkDataPath, checkTrace, empty, onlyLocal, sticky, web } from '../proxier/data-path.ts';
import { NftDriver } from './nft-driver.ts';

t.test('data path through nftables', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('nft');
  t.teardown(() => topo.lab.cleanup());
  const driver = new NftDriver(topo);
  await driver.sync(planSet(web, empty, sticky, onlyLocal), { full: true });

  await checkDataPath(t, topo, { stickyAndLocal: true });
});

t.test('netlet trace --proxy-mode nftables reads the live table and agrees with real traffic', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('nft');
  t.teardown(() => topo.lab.cleanup());
  const driver = new NftDriver(topo);
  await driver.sync(planSet(web, empty, onlyLocal), { full: true });
  await checkTrace(t, topo, ['--proxy-mode', 'nftables']);
});
