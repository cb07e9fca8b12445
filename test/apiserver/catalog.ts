// The served resources (built-in plus those added by CRDs) and their tables,
// looked up by group/version/plural or by kind.

import type { ResourceInfo } from './resources.ts';
import { builtinResources } from './resources.ts';
import type { ResourceTable, Storage } from './storage.ts';

export class Catalog {
  readonly #storage: Storage;
  readonly #byPath = new Map<string, ResourceInfo>();

  constructor(storage: Storage) {
    this.#storage = storage;
    for (const r of builtinResources()) this.add(r);
  }

  /** Adds (or keeps) a resource; a CRD served twice keeps its first description. */
  add(r: ResourceInfo): void {
    const k = `${r.group}/${r.version}/${r.plural}`;
    if (!this.#byPath.has(k)) this.#byPath.set(k, r);
  }

  find(group: string, version: string, plural: string): ResourceInfo | undefined {
    return this.#byPath.get(`${group}/${version}/${plural}`);
  }

  all(): ResourceInfo[] {
    return [...this.#byPath.values()];
  }

  /** The resource for a kind (first served version), or for "plural" / "plural.group" / "shortname". */
  resolve(nameOrKind: string): ResourceInfo | undefined {
    const lower = nameOrKind.toLowerCase();
    for (const r of this.#byPath.values()) {
      if (r.kind === nameOrKind || r.plural === lower || r.shortNames.includes(lower) || `${r.plural}.${r.group}` === lower) return r;
    }
    return undefined;
  }

  table(r: ResourceInfo): ResourceTable {
    return this.#storage.table(r);
  }

  /** Tables of namespaced resources (for deleting a namespace's contents). */
  namespacedTables(): ResourceTable[] {
    return this.all()
      .filter((r) => r.namespaced)
      .map((r) => this.table(r));
  }
}
