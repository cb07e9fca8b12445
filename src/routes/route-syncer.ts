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

const keyOf = (r: NodeRoute): string => `${r.family}|${r.dst}`;

export class RouteSyncer {
  readonly #table: RouteTable;
  readonly #log: Logger;

  constructor(table: RouteTable, log: Logger) {
    this.#table = table;
    this.#log = log;
  }

  async sync(desired: NodeRoute[]): Promise<SyncResult> {
    const result: SyncResult = { added: 0, removed: 0, unchanged: 0, errors: [] };
    const want = new Map(desired.map((r) => [keyOf(r), r]));
    const current = await this.#table.listOwned();
    const have = new Map<string, NodeRoute>();

    for (const r of current) {
      const w = want.get(keyOf(r));
      if (w && sameRoute(w, r) && !have.has(keyOf(r))) {
        have.set(keyOf(r), r);
        result.unchanged++;
        continue;
      }
      // Unwanted, changed, or a second route of ours to the same prefix: remove it first.
      await this.#try(result, r, async () => {
        if (await this.#table.remove(r)) {
          result.removed++;
          this.#log.info({ route: describeRoute(r) }, 'routes: removed');
        }
      });
    }
    for (const [key, r] of want) {
      if (have.has(key)) continue;
      await this.#try(result, r, async () => {
        await this.#table.add(r);
        result.added++;
        this.#log.info({ route: describeRoute(r) }, 'routes: added');
      });
    }
    return result;
  }

  async #try(result: SyncResult, r: NodeRoute, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      const error = (err as Error).message;
      result.errors.push({ route: describeRoute(r), error });
      this.#log.warn({ route: describeRoute(r), err: error }, 'routes: failed');
    }
  }
}
