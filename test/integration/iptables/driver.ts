// Runs an IptablesBackend inside a node namespace (started with `ip netns
// exec NODE node driver.ts MODE FAMILY`) and applies the syncs the test
// sends (../proxier/backend-driver.ts).

import { IptablesBackend } from '../../../src/iptables/backend.ts';
import { toolsFor } from '../../../src/iptables/tools.ts';
import { buildConfig, ruleBackendOptions } from '../../../src/agent/config.ts';
import { silentLogger } from '../../../src/base/log.ts';
import { serveBackend } from '../proxier/backend-driver.ts';

const mode = process.argv[2] === 'legacy' ? 'legacy' : 'nft';
const family = process.argv[3] === '6' ? 6 : 4;
await serveBackend(new IptablesBackend({ tools: toolsFor(mode, family), log: silentLogger, ...ruleBackendOptions(buildConfig({}), 'iptables') }), family);
