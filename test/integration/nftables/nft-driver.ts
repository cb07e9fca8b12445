// The test side of driver.ts: an nftables backend process in the node
// namespace of the iptables suite's topology (../iptables/topology.ts).

import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import type { PlanSet } from '../../../src/proxier/plan.ts';
import type { Topology } from '../iptables/topology.ts';
import type { DriverRequest } from './driver.ts';

export class NftDriver {
  readonly #child: ChildProcess;
  readonly #lines: AsyncIterator<string>;

  constructor(topo: Topology, family: 4 | 6 = 4) {
    const driver = new URL('./driver.ts', import.meta.url).pathname;
    this.#child = topo.lab.track(topo.node.spawn(process.execPath, [driver, String(family)]));
    this.#lines = createInterface({ input: this.#child.stdout! })[Symbol.asyncIterator]();
  }

  async #call(req: DriverRequest): Promise<{ ruleCount?: number; intact?: boolean }> {
    this.#child.stdin!.write(JSON.stringify(req) + '\n');
    const { value, done } = await this.#lines.next();
    if (done) throw new Error('driver exited');
    const r = JSON.parse(value) as { ok: boolean; error?: string; result?: { ruleCount?: number; intact?: boolean } };
    if (!r.ok) throw new Error(r.error);
    return r.result ?? {};
  }

  sync(plans: PlanSet, opts: { full?: boolean; changed?: string[]; nodePortAddresses?: string[] } = {}) {
    return this.#call({ op: 'sync', plans: [...plans], full: opts.full ?? false, changed: opts.changed ?? [], nodePortAddresses: opts.nodePortAddresses ?? [] });
  }

  cleanup() {
    return this.#call({ op: 'cleanup' });
  }

  async intact(): Promise<boolean> {
    return (await this.#call({ op: 'intact' })).intact === true;
  }

  stop(): void {
    this.#child.kill('SIGKILL');
  }
}
