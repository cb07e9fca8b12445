// Runs an IptablesBackend inside a node namespace (started with `ip netns
// exec NODE node driver.ts MODE FAMILY`) and applies the syncs the test
// sends, one JSON object per line: the backend keeps its state between syncs,
// as in the agent, so partial syncs are real.

import { createInterface } from 'node:readline';
import { IptablesBackend } from '../../../src/iptables/backend.ts';
import { toolsFor } from '../../../src/iptables/tools.ts';
import { buildConfig, iptablesBackendOptions } from '../../../src/agent/config.ts';
import { silentLogger } from '../../../src/base/log.ts';
import type { ServicePortPlan } from '../../../src/proxier/plan.ts';

const mode = process.argv[2] === 'legacy' ? 'legacy' : 'nft';
const family = process.argv[3] === '6' ? 6 : 4;
const backend = new IptablesBackend({ tools: toolsFor(mode, family), log: silentLogger, ...iptablesBackendOptions(buildConfig({})) });

export interface DriverRequest {
  op: 'sync' | 'cleanup' | 'intact';
  plans?: [string, ServicePortPlan][];
  changed?: string[];
  full?: boolean;
  nodePortAddresses?: string[];
}

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  const req = JSON.parse(line) as DriverRequest;
  try {
    if (req.op === 'cleanup') {
      await backend.cleanup();
      process.stdout.write(JSON.stringify({ ok: true }) + '\n');
    } else if (req.op === 'intact') {
      process.stdout.write(JSON.stringify({ ok: true, result: { intact: await backend.intact() } }) + '\n');
    } else {
      const result = await backend.sync({
        family,
        plans: new Map(req.plans ?? []),
        changed: new Set(req.changed ?? []),
        full: req.full ?? false,
        nodePortAddresses: req.nodePortAddresses ?? [],
      });
      process.stdout.write(JSON.stringify({ ok: true, result }) + '\n');
    }
  } catch (err) {
    // planKey: the plan the backend traced the failure to (BackendSyncError), if any.
    process.stdout.write(JSON.stringify({ ok: false, error: (err as Error).message, planKey: (err as { planKey?: string }).planKey }) + '\n');
  }
}
