// Runs an NftablesBackend inside a node namespace (`ip netns exec NODE node
// driver.ts FAMILY`) and applies the syncs the test sends
// (../proxier/backend-driver.ts).

import { NftablesBackend } from '../../../src/nftables/backend.ts';
import { silentLogger } from '../../../src/base/log.ts';
import { serveBackend } from '../proxier/backend-driver.ts';

const family = process.argv[2] === '6' ? 6 : 4;
await serveBackend(new NftablesBackend({ family, log: silentLogger, masqueradeBit: 14, tcpBeLiberal: false }), family);
