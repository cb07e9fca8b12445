// The elements a full sync may remove: what the table holds after a
// restart, or what the last sync wrote for plans changed since; a freshly
// rendered plan that writes one with the same value keeps it. Looked up by
// set, then key, never through a joined "set key value" string: a render's
// keys are hashed once, where 90k joined ids per full sync at 10k services
// cost ~50 ms and their garbage.

import type { Element } from './render-plan.ts';

export class RemovalCandidates {
  readonly #bySet = new Map<string, Map<string, Element>>();

  /** Adds candidates; a set and key already there keeps its first element. */
  addAll(elements: readonly Element[]): void {
    for (const e of elements) {
      let keys = this.#bySet.get(e.set);
      if (!keys) this.#bySet.set(e.set, (keys = new Map()));
      if (!keys.has(e.key)) keys.set(e.key, e);
    }
  }

  /** Whether there is any candidate (a wanted element need not be rendered to keep one). */
  any(): boolean {
    return this.#bySet.size > 0;
  }

  /** Drops the candidates these (wanted) elements write with the same value. */
  keep(wanted: readonly Element[]): void {
    if (this.#bySet.size === 0) return;
    for (const e of wanted) {
      const keys = this.#bySet.get(e.set);
      const held = keys?.get(e.key);
      if (held && held.value === e.value) keys!.delete(e.key);
    }
  }

  /** The candidates no wanted element kept. */
  remaining(): Element[] {
    const out: Element[] = [];
    for (const keys of this.#bySet.values()) for (const e of keys.values()) out.push(e);
    return out;
  }
}
