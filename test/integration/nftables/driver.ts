// Runs an NftablesBackend inside a node namespace (`ip netns exec NODE node
// driver.ts FAMILY`) and applies the syncs the test sends, one JSON object
// per line: the backend keeps its state between syncs, as in the agent, so
// partial syncs are real.

import { createInterface } from 'node:readline';
import { NftablesBackend } from '../../../src/nftables/backend.ts';
import { silentLogger } from '../../../src/base/log.ts';
import type { ServicePortPlan } from '../../../src/proxier/plan.ts';

const family = process.argv[2] === '6' ? 6 : 4;
const backend = new NftablesBackend({ family, log: silentLogger, masqueradeBit: 14, tcpBeLiberal: false, ruleCheckEvery: 1 });

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
    process.stdout.write(JSON.stringify({ ok: false, error: (err as Error).message }) + '\n');
  }
}
