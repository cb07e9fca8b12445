// driver.ts with another iptables-restore program: `node wrapped-driver.ts
// RESTORE` runs a legacy IPv4 IptablesBackend whose restores go through RESTORE.
import { IptablesBackend } from '../../../src/iptables/backend.ts';
import { toolsFor } from '../../../src/iptables/tools.ts';
import { buildConfig, ruleBackendOptions } from '../../../src/agent/config.ts';
import { silentLogger } from '../../../src/base/log.ts';
import { serveBackend } from '../proxier/backend-driver.ts';

const tools = { ...toolsFor('legacy', 4), restore: process.argv[2] };
await serveBackend(new IptablesBackend({ tools, log: silentLogger, ...ruleBackendOptions(buildConfig({}), 'iptables') }), 4);
