// A service-proxy backend run inside a node namespace and driven line by line
// from a test, for either backend. The child side (serveBackend, called by
// iptables/driver.ts and nftables/driver.ts) applies the syncs the test sends,
// one JSON object per line: the backend keeps its state between syncs, as in
// the agent, so partial syncs are real. The test side (BackendDriver) starts
// such a child in the topology's node namespace and sends it requests.

import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import type { PlanSet, ServicePortPlan } from '../../../src/proxier/plan.ts';
import type { ProxyBackend } from '../../../src/proxier/backend.ts';
import type { Topology } from '../iptables/topology.ts';

export interface DriverRequest {
  op: 'sync' | 'cleanup' | 'intact';
  plans?: [string, ServicePortPlan][];
  changed?: string[];
  full?: boolean;
  nodePortAddresses?: string[];
}

/** A backend the driver can ask whether it is intact (IptablesBackend and NftablesBackend both are one). */
export type DrivenBackend = ProxyBackend & Required<Pick<ProxyBackend, 'intact'>>;

/** The child side: answers each request line on stdin with one JSON line on stdout, until stdin ends. */
export async function serveBackend(backend: DrivenBackend, family: 4 | 6): Promise<void> {
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
}

/** The test side: a driver script (iptables/driver.ts, nftables/driver.ts) run with `args` in the topology's node namespace. */
export class BackendDriver {
  readonly #child: ChildProcess;
  readonly #lines: AsyncIterator<string>;

  constructor(topo: Topology, script: URL, args: string[]) {
    this.#child = topo.lab.track(topo.node.spawn(process.execPath, [script.pathname, ...args]));
    this.#lines = createInterface({ input: this.#child.stdout! })[Symbol.asyncIterator]();
  }

  async #call(req: DriverRequest): Promise<{ ruleCount?: number; intact?: boolean }> {
    this.#child.stdin!.write(JSON.stringify(req) + '\n');
    const { value, done } = await this.#lines.next();
    if (done) throw new Error('driver exited');
    const r = JSON.parse(value) as { ok: boolean; error?: string; planKey?: string; result?: { ruleCount?: number; intact?: boolean } };
    if (!r.ok) throw Object.assign(new Error(r.error), { planKey: r.planKey });
    return r.result ?? {};
  }

  sync(plans: PlanSet, opts: { full?: boolean; changed?: string[]; nodePortAddresses?: string[] } = {}) {
    return this.#call({ op: 'sync', plans: [...plans], full: opts.full ?? false, changed: opts.changed ?? [], nodePortAddresses: opts.nodePortAddresses ?? [] });
  }

  cleanup() {
    return this.#call({ op: 'cleanup' });
  }

  /** The backend's canary check (what the proxier polls every syncPeriod). */
  async intact(): Promise<boolean> {
    return (await this.#call({ op: 'intact' })).intact === true;
  }

  stop(): void {
    this.#child.kill('SIGKILL');
  }
}
