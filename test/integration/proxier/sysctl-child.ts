// Applies the conntrack sysctls from inside a test namespace and prints the outcomes as JSON.
import { silentLogger } from '../../../src/base/log.ts';
import { applyConntrackSysctls } from '../../../src/proxier/conntrack-sysctls.ts';
import type { ConntrackConfig } from '../../../src/proxier/conntrack-sysctls.ts';

const cfg = JSON.parse(process.argv[2]) as ConntrackConfig;
process.stdout.write(JSON.stringify(await applyConntrackSysctls(cfg, silentLogger)));
