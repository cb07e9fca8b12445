// The per-service chains the backend's renders use, kept between syncs and
// updated by what changed: a full sync then finds the stale chains by looking
// up each name the tables hold once (docs/design/iptables-sync.md#stale-chains).

import type { RenderedPlan } from './render-sync.ts';

export class ActiveChains {
  /** undefined: not known (nothing synced yet, or a sync failed half-way); rebuilt by the next update. */
  #names: Set<string> | undefined;

  /** Whether `name` was in use at the last update; false when nothing is known. */
  has(name: string): boolean {
    return this.#names?.has(name) ?? false;
  }

  /**
   * Brings the set from the renders `before` to `after` (per plan key) and
   * returns the chains `before` used that `after` does not. Renders are
   * compared by identity: a plan that rendered the same keeps its earlier
   * render (render-sync.ts `reuse`), and a changed one gets a new object.
   * `keys`: the only plan keys that may differ (a partial sync's changes);
   * all of them when absent.
   */
  update(before: ReadonlyMap<string, RenderedPlan | undefined>, after: ReadonlyMap<string, RenderedPlan>, keys?: Iterable<string>): string[] {
    const gone: string[] = [];
    if (!this.#names) {
      this.#names = new Set();
      for (const r of after.values()) for (const c of r.chains) this.#names.add(c);
      for (const r of before.values()) for (const c of r?.chains ?? []) if (!this.#names.has(c)) gone.push(c);
      return gone;
    }
    const names = this.#names;
    const visit = (key: string) => {
      const was = before.get(key);
      const now = after.get(key);
      if (was === now) return;
      // Chain names hash the plan key, so no other plan uses these.
      const kept = new Set(now?.chains ?? []);
      for (const c of was?.chains ?? []) {
        if (!kept.has(c)) {
          names.delete(c);
          gone.push(c);
        }
      }
      for (const c of kept) names.add(c);
    };
    if (keys) {
      for (const key of keys) visit(key);
    } else {
      for (const key of after.keys()) visit(key);
      for (const key of before.keys()) if (!after.has(key)) visit(key);
    }
    return gone;
  }

  /** After a sync that may have landed in part: rebuild at the next update. */
  forget(): void {
    this.#names = undefined;
  }
}
