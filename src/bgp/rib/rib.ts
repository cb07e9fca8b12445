// Every path every peer announced (Adj-RIB-In), indexed by prefix, and the
// selected paths per prefix (Loc-RIB) kept current as paths come and go.
// Reports which prefixes' selection changed so the speaker re-advertises
// and the route source re-syncs only those.

import type { Family } from '../../base/family.ts';
import { selectPaths, type Path } from './path.ts';

const keyOf = (family: Family, prefix: string) => `${family}|${prefix}`;

/**
 * A prefix's paths: the one path itself while a single peer announced it
 * (a full table from one router: 100k prefixes, one Map each saved), a map
 * peer → path once several did.
 */
type Paths = Path | Map<string, Path>;

const pathOf = (paths: Paths | undefined, peer: string): Path | undefined =>
  paths instanceof Map ? paths.get(peer) : paths?.peer === peer ? paths : undefined;
const allOf = (paths: Paths | undefined): Iterable<Path> => (paths instanceof Map ? paths.values() : paths ? [paths] : []);

export class Rib {
  /** prefix key → its paths. */
  readonly #paths = new Map<string, Paths>();
  /** peer → its prefix keys, to drop a peer fast. */
  readonly #byPeer = new Map<string, Set<string>>();
  /** prefix key → selected paths (best first). */
  readonly #selected = new Map<string, Path[]>();
  #changed = new Set<string>();

  /** Adds or replaces the path a peer announced for its prefix. */
  announce(path: Path): void {
    const key = keyOf(path.family, path.prefix);
    const paths = this.#paths.get(key);
    if (paths instanceof Map) paths.set(path.peer, path);
    else if (!paths || paths.peer === path.peer) this.#paths.set(key, path);
    else this.#paths.set(key, new Map([[paths.peer, paths], [path.peer, path]]));
    let keys = this.#byPeer.get(path.peer);
    if (!keys) this.#byPeer.set(path.peer, (keys = new Set()));
    keys.add(key);
    this.#reselect(key);
  }

  withdraw(peer: string, family: Family, prefix: string): void {
    const key = keyOf(family, prefix);
    const paths = this.#paths.get(key);
    if (!pathOf(paths, peer)) return;
    if (paths instanceof Map) {
      paths.delete(peer);
      if (paths.size === 1) this.#paths.set(key, paths.values().next().value!);
    } else {
      this.#paths.delete(key);
    }
    this.#byPeer.get(peer)?.delete(key);
    this.#reselect(key);
  }

  /** Drops every path of the peer (a session lost without graceful restart, or a stale-path sweep with `onlyStale`). */
  dropPeer(peer: string, filter: (p: Path) => boolean = () => true): number {
    const keys = this.#byPeer.get(peer);
    if (!keys) return 0;
    let n = 0;
    for (const key of [...keys]) {
      const p = pathOf(this.#paths.get(key), peer);
      if (!p || !filter(p)) continue;
      this.withdraw(peer, p.family, p.prefix);
      n++;
    }
    if (!keys.size) this.#byPeer.delete(peer);
    return n;
  }

  /** RFC 4724 4.2: marks the peer's paths stale (kept, but replaced or swept later). */
  markStale(peer: string, family?: Family): number {
    let n = 0;
    for (const key of this.#byPeer.get(peer) ?? []) {
      const p = pathOf(this.#paths.get(key), peer);
      if (p && (family === undefined || p.family === family)) {
        p.stale = true;
        n++;
      }
    }
    return n;
  }

  /** How many paths a peer has in the table (for status: prefixes received). */
  countFrom(peer: string): number {
    return this.#byPeer.get(peer)?.size ?? 0;
  }

  /** The selected paths (best first, then its equals) of every prefix that has any. */
  *selected(): Iterable<Path[]> {
    yield* this.#selected.values();
  }

  selectedFor(family: Family, prefix: string): Path[] {
    return this.#selected.get(keyOf(family, prefix)) ?? [];
  }

  /** Prefix keys ("4|10.0.0.0/8") whose selection changed since the last call. */
  takeChanged(): Set<string> {
    const c = this.#changed;
    this.#changed = new Set();
    return c;
  }

  #reselect(key: string): void {
    const before = this.#selected.get(key);
    const after = selectPaths(allOf(this.#paths.get(key)));
    if (after.length) this.#selected.set(key, after);
    else this.#selected.delete(key);
    if (!samePaths(before ?? [], after)) this.#changed.add(key);
  }
}

function samePaths(a: readonly Path[], b: readonly Path[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}
