// Keeps the kernel's IPVS table equal to the desired one: "dump once, send
// only the changes, batch the messages". The table is dumped when there is
// nothing to trust in memory (the first sync of a process, which adopts what
// a previous agent or kube-proxy left, and after any failure); otherwise the
// last sync's result is the known state and a sync sends just the diff, in
// one batch (IpvsTable.apply). Draining real servers are listed (one dump per
// virtual server that has some) and deleted once idle.

import { NetletError } from '../base/errors.ts';
import type { Family } from '../base/family.ts';
import { destKey, serviceKey } from '../netlink/ipvs-codec.ts';
import type { IpvsChange, IpvsFailure, IpvsTable } from '../netlink/ipvs.ts';
import { applyToState, diffTable, drainedDests } from './table-diff.ts';
import type { DiffOptions, IpvsState } from './table-diff.ts';

export class IpvsSyncError extends NetletError {
  readonly failures: readonly IpvsFailure[];
  constructor(failures: readonly IpvsFailure[]) {
    const first = failures[0];
    const what = 'dest' in first.change ? `${first.change.op} ${first.change.dest.address}:${first.change.dest.port} of ${serviceKey(first.change.service)}` : `${first.change.op} ${serviceKey(first.change.service)}`;
    super('ERR_IPVS_SYNC', `the kernel refused ${failures.length} IPVS change(s); first: ${what}: ${first.errno}`);
    this.failures = failures;
  }
}

export interface TableSyncResult {
  /** Changes sent (the diff and the drained deletions). */
  changes: number;
  /** Netlink round trips this sync cost. */
  roundTrips: number;
}

export class IpvsTableSync {
  readonly #table: IpvsTable;
  readonly #family: Family;
  readonly #opts: DiffOptions;
  /** What the kernel holds, as far as this process knows; undefined: dump before trusting anything. */
  #known: IpvsState | undefined;
  /** Virtual servers with real servers draining (weight 0). */
  #draining = new Set<string>();

  /** `family`: the table holds both families' services; each family's backend keeps its own. */
  constructor(table: IpvsTable, family: Family, opts: DiffOptions) {
    this.#table = table;
    this.#family = family;
    this.#opts = opts;
  }

  /** What the kernel holds after the last successful sync (read by trace and tests). */
  get known(): IpvsState | undefined {
    return this.#known;
  }

  get draining(): ReadonlySet<string> {
    return this.#draining;
  }

  /** Forget what is known: the next sync dumps the table (a full sync after a failure or damage). */
  invalidate(): void {
    this.#known = undefined;
  }

  /**
   * Makes the kernel hold `desired` for the virtual servers in `keys`
   * (undefined: every one, which a dump-and-adopt sync always does).
   */
  async sync(desired: IpvsState, keys?: Iterable<string>): Promise<TableSyncResult> {
    const rt0 = this.#table.roundTrips;
    let known = this.#known;
    let all = keys === undefined;
    if (!known) {
      known = await dumpTable(this.#table, this.#family);
      all = true;
    }
    const diff = diffTable(known, desired, all ? undefined : keys, this.#opts);
    try {
      await this.#apply(diff.changes);
      applyToState(known, diff.changes);
      if (all) this.#draining = diff.draining;
      else for (const k of diff.draining) this.#draining.add(k);
      const drained = await this.#drain(known, desired);
      this.#known = known;
      return { changes: diff.changes.length + drained, roundTrips: this.#table.roundTrips - rt0 };
    } catch (err) {
      this.#known = undefined;
      throw err;
    }
  }

  async #apply(changes: IpvsChange[]): Promise<void> {
    if (changes.length === 0) return;
    const failures = await this.#table.apply(changes);
    if (failures.length > 0) throw new IpvsSyncError(failures);
  }

  /** Deletes the draining real servers the kernel counts no connection on; keeps waiting for the others. */
  async #drain(known: IpvsState, desired: IpvsState): Promise<number> {
    const deletions: IpvsChange[] = [];
    for (const key of [...this.#draining]) {
      const vs = known.get(key);
      if (!vs) {
        this.#draining.delete(key);
        continue;
      }
      const current = await this.#table.listDests(vs.service);
      const done = drainedDests(vs.service, desired.get(key)?.dests, current);
      deletions.push(...done);
      const waiting = current.filter((d) => d.weight === 0 && !desired.get(key)?.dests.has(destKey(d)));
      if (waiting.length === done.length) this.#draining.delete(key);
    }
    await this.#apply(deletions);
    applyToState(known, deletions);
    return deletions.length;
  }
}


/** The whole table: one service dump and one destination dump per service. */
export async function dumpTable(table: IpvsTable, family: Family): Promise<IpvsState> {
  const state: IpvsState = new Map();
  for (const service of await table.listServices()) {
    if (service.family !== family) continue;
    const dests = new Map((await table.listDests(service)).map((d) => [destKey(d), { address: d.address, port: d.port, weight: d.weight }]));
    state.set(serviceKey(service), { service, dests });
  }
  return state;
}
