// Makes the kernel's netlet-owned routes equal to the plan: adds what is
// missing, deletes what is no longer wanted, and swaps a route whose next hop
// changed (delete, then add: the kernel keys routes by destination and
// metric, so a changed metric is a different route). Routes of other
// protocols are never listed, so never removed. A failure on one route does
// not stop the others; the sync reports it and the caller retries.

import type { Logger } from '../base/log.ts';
import { describeRoute, sameRoute } from './route-table.ts';
import type { NodeRoute, RouteTable } from './route-table.ts';

export interface SyncResult {
  added: number;
  removed: number;
  unchanged: number;
  errors: Array<{ route: string; error: string }>;
}

/**
 * A route's key: its destination's text alone, which names its family too
 * (no IPv4 CIDR reads as an IPv6 one): no new string per route per sync at
 * a full BGP table.
 */
const keyOf = (r: NodeRoute): string => r.dst;

/**
 * Route changes in flight at once: a full BGP table is 100k routes, and one
 * netlink round trip per route, awaited in turn, would leave the kernel idle
 * between them. Small enough that the answers fit the socket's receive buffer.
 */
const IN_FLIGHT = 128;
/** Above this many changes in one sync, each route is logged at debug, not info (the component logs the counts). */
const LOG_EACH_UP_TO = 32;

/** Runs `tasks` with at most `limit` of them pending at once. */
async function windowed(tasks: ReadonlyArray<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

export class RouteSyncer {
  readonly #table: RouteTable;
  readonly #log: Logger;
  /** The table's owned routes after the last sync (for `fromLastSync`). */
  #last: NodeRoute[] | undefined;

  constructor(table: RouteTable, log: Logger) {
    this.#table = table;
    this.#log = log;
  }

  /**
   * `fromLastSync`: diff against what the previous sync left in the table
   * instead of listing it again. A source change at a full BGP table would
   * otherwise dump and parse 100k routes for each handful it adds; the
   * caller lists the table on its periodic and retry syncs, which repair
   * what someone else changed.
   */
  async sync(desired: NodeRoute[], opts: { fromLastSync?: boolean } = {}): Promise<SyncResult> {
    const result: SyncResult = { added: 0, removed: 0, unchanged: 0, errors: [] };
    const want = new Map<string, NodeRoute>();
    for (const r of desired) want.set(keyOf(r), r);
    const current = opts.fromLastSync && this.#last ? this.#last : await this.#table.listOwned();
    // What the table holds after this sync, as far as its results tell.
    const after: NodeRoute[] = [];
    const have = new Map<string, NodeRoute>();

    const removals: NodeRoute[] = [];
    for (const r of current) {
      const key = keyOf(r);
      const w = want.get(key);
      if (w && (w === r || sameRoute(w, r)) && !have.has(key)) {
        have.set(key, r);
        after.push(r);
        result.unchanged++;
        continue;
      }
      // Unwanted, changed, or a second route of ours to the same prefix: remove it first.
      removals.push(r);
    }
    const additions: NodeRoute[] = [];
    for (const [key, r] of want) if (!have.has(key)) additions.push(r);
    const level = removals.length + additions.length > LOG_EACH_UP_TO ? 'debug' : 'info';
    // describeRoute per route costs as much as encoding it: only when the line is written.
    const logEach = level === 'info' || this.#log.isLevelEnabled('debug');
    if (this.#table.applyMany) {
      await this.#applyMany(this.#table.applyMany.bind(this.#table), removals, additions, result, after, logEach ? level : undefined);
    } else {
      await this.#applyOneByOne(removals, additions, result, after, logEach ? level : undefined);
    }
    this.#last = after;
    return result;
  }

  /** Through the table's batches (removals first, in the table's own calls). */
  async #applyMany(
    applyMany: NonNullable<RouteTable['applyMany']>,
    removals: NodeRoute[],
    additions: NodeRoute[],
    result: SyncResult,
    after: NodeRoute[],
    level: 'debug' | 'info' | undefined,
  ): Promise<void> {
    const { removed, added } = await applyMany(removals, additions);
    removals.forEach((r, i) => {
      const outcome = removed[i];
      if (outcome instanceof Error) {
        this.#failed(result, r, outcome);
        after.push(r);
      } else if (outcome) {
        result.removed++;
        if (level) this.#log[level]({ route: describeRoute(r) }, 'routes: removed');
      }
    });
    additions.forEach((r, i) => {
      const error = added[i];
      if (error) return this.#failed(result, r, error);
      result.added++;
      if (level) this.#log[level]({ route: describeRoute(r) }, 'routes: added');
      after.push(r);
    });
  }

  /** One netlink round trip per route, IN_FLIGHT of them pending at once. */
  async #applyOneByOne(removals: NodeRoute[], additions: NodeRoute[], result: SyncResult, after: NodeRoute[], level: 'debug' | 'info' | undefined): Promise<void> {
    // Every removal is done before any addition: a changed route's old form must be gone before its new one goes in.
    await windowed(
      removals.map((r) => async () => {
        const ok = await this.#try(result, r, async () => {
          if (await this.#table.remove(r)) {
            result.removed++;
            if (level) this.#log[level]({ route: describeRoute(r) }, 'routes: removed');
          }
        });
        if (!ok) after.push(r);
      }),
      IN_FLIGHT,
    );
    await windowed(
      additions.map((r) => async () => {
        const ok = await this.#try(result, r, async () => {
          await this.#table.add(r);
          result.added++;
          if (level) this.#log[level]({ route: describeRoute(r) }, 'routes: added');
        });
        if (ok) after.push(r);
      }),
      IN_FLIGHT,
    );
  }

  #failed(result: SyncResult, r: NodeRoute, err: Error): void {
    result.errors.push({ route: describeRoute(r), error: err.message });
    this.#log.warn({ route: describeRoute(r), err: err.message }, 'routes: failed');
  }

  /** Whether `fn` worked; a failure is counted and logged. */
  async #try(result: SyncResult, r: NodeRoute, fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      this.#failed(result, r, err as Error);
      return false;
    }
  }
}
