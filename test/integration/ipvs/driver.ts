// Runs the IPVS backend, as the agent creates it (ipvs/kind.ts: kernel check,
// sysctls, iptables flavour detection), inside a node namespace (`ip netns
// exec NODE node driver.ts FAMILY`) and applies the syncs the test sends
// (../proxier/backend-driver.ts).

import { ipvsKind } from '../../../src/ipvs/kind.ts';
import type { IpvsOptions } from '../../../src/ipvs/kind.ts';
import { silentLogger } from '../../../src/base/log.ts';
import { serveBackend } from '../proxier/backend-driver.ts';
import type { DrivenBackend } from '../proxier/backend-driver.ts';

const family = process.argv[2] === '6' ? 6 : 4;
const options: IpvsOptions = {
  scheduler: process.env.IPVS_SCHEDULER ?? 'rr',
  excludeCIDRs: (process.env.IPVS_EXCLUDE ?? '').split(',').filter(Boolean),
  strictARP: true,
  tcpTimeout: 0,
  tcpFinTimeout: 0,
  udpTimeout: 0,
  masqueradeBit: 14,
  tcpBeLiberal: false,
  periods: { minSyncPeriod: 0, syncPeriod: 30_000, fullSyncPeriod: 30_000 },
};
const backend = (await ipvsKind.configure(options, { log: silentLogger }).create(family)) as DrivenBackend;
await serveBackend(backend, family);
process.exit(0);
