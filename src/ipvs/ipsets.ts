// The IPVS mode's ipsets, kept equal to what the plans want with one
// `ipset restore` per sync carrying only the changes (create -exist, add,
// del). Why restore and not netlink: the ipset netlink protocol needs
// NLA_F_NET_BYTEORDER on its attributes, which the `netlink` package's
// writer never sets, and one process reading a whole batch on stdin costs
// the same few milliseconds for 1 entry or 10k; kube-proxy's cost is one
// `ipset` process per entry (k/k#133773), which this avoids. What the kernel
// holds is read once (`ipset save`, adopting what an earlier agent or
// kube-proxy left) and after a failure; otherwise the last sync's result
// is the known state.

import { NetletError } from '../base/errors.ts';
import { runTool } from '../base/run-tool.ts';
import type { Family } from '../base/family.ts';
import { ALL_SETS, createLine, ownedSetNames, setName } from './ipset-names.ts';
import type { SetName } from './ipset-names.ts';

export class IpsetError extends NetletError {
  constructor(message: string) {
    super('ERR_IPSET', message);
  }
}

/** Runs `ipset` with stdin; a fake in the unit tests. */
export type IpsetRunner = (args: string[], input?: string) => Promise<{ code: number; stdout: string; stderr: string }>;

export const systemIpset: IpsetRunner = (args, input) => runTool('ipset', args, input);

/** Entries by kernel set name. */
export type SetContents = Map<string, Set<string>>;

/** `ipset save` text → contents of the sets netlet owns (others ignored). */
export function parseSave(text: string, owned: ReadonlySet<string> = ownedSetNames()): SetContents {
  const out: SetContents = new Map();
  for (const line of text.split('\n')) {
    const [verb, name, entry] = line.split(' ');
    if (!owned.has(name)) continue;
    if (verb === 'create') out.set(name, out.get(name) ?? new Set());
    else if (verb === 'add' && entry) {
      let s = out.get(name);
      if (!s) out.set(name, (s = new Set()));
      s.add(entry);
    }
  }
  return out;
}

/** The `ipset restore` lines turning `known` into `wanted` for one family ('' when nothing changes). */
export function restoreInput(family: Family, known: SetContents | undefined, wanted: ReadonlyMap<SetName, ReadonlySet<string>>): string {
  const lines: string[] = [];
  for (const set of ALL_SETS) {
    const name = setName(set, family);
    const have = known?.get(name);
    const want = wanted.get(set);
    if (!have) lines.push(createLine(set, family));
    if (want) for (const e of want) if (!have?.has(e)) lines.push(`add ${name} ${e}`);
    if (have) for (const e of have) if (!want?.has(e)) lines.push(`del ${name} ${e}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export class IpsetSync {
  readonly #family: Family;
  readonly #run: IpsetRunner;
  #known: SetContents | undefined;

  constructor(family: Family, run: IpsetRunner = systemIpset) {
    this.#family = family;
    this.#run = run;
  }

  invalidate(): void {
    this.#known = undefined;
  }

  /** Lines written at the last sync (0 when nothing changed). */
  async sync(wanted: ReadonlyMap<SetName, ReadonlySet<string>>): Promise<number> {
    try {
      if (!this.#known) this.#known = await readSets(this.#run);
      const input = restoreInput(this.#family, this.#known, wanted);
      if (!input) return 0;
      const r = await this.#run(['restore', '-exist'], input);
      if (r.code !== 0) throw new IpsetError(`ipset restore failed: ${r.stderr.trim() || `exit ${r.code}`}`);
      const known: SetContents = this.#known;
      for (const set of ALL_SETS) known.set(setName(set, this.#family), new Set(wanted.get(set) ?? []));
      return input.split('\n').length - 1;
    } catch (err) {
      this.#known = undefined;
      throw err;
    }
  }

  /**
   * Adds and deletes the given entries only (a partial sync), in one
   * restore; with nothing known (after a failure), a whole sync to `all()`.
   */
  async applyDelta(adds: ReadonlyArray<[SetName, string]>, dels: ReadonlyArray<[SetName, string]>, all: () => ReadonlyMap<SetName, ReadonlySet<string>>): Promise<number> {
    const known = this.#known;
    if (!known) return this.sync(all());
    if (adds.length === 0 && dels.length === 0) return 0;
    const lines: string[] = [];
    for (const [set, e] of dels) lines.push(`del ${setName(set, this.#family)} ${e}`);
    for (const [set, e] of adds) lines.push(`add ${setName(set, this.#family)} ${e}`);
    try {
      const r = await this.#run(['restore', '-exist'], `${lines.join('\n')}\n`);
      if (r.code !== 0) throw new IpsetError(`ipset restore failed: ${r.stderr.trim() || `exit ${r.code}`}`);
    } catch (err) {
      this.#known = undefined;
      throw err;
    }
    for (const [set, e] of dels) known.get(setName(set, this.#family))?.delete(e);
    for (const [set, e] of adds) {
      const name = setName(set, this.#family);
      let s = known.get(name);
      if (!s) known.set(name, (s = new Set()));
      s.add(e);
    }
    return lines.length;
  }

  /**
   * Whether the kernel's sets of this family still hold as many entries as
   * the last sync left (one `ipset list -t`: headers, no members). A set
   * flushed, destroyed or edited is caught; true when nothing is known yet.
   */
  async intact(): Promise<boolean> {
    const known = this.#known;
    if (!known) return true;
    const r = await this.#run(['list', '-t']);
    if (r.code !== 0) return false;
    const held = entryCounts(r.stdout);
    for (const set of ALL_SETS) {
      const name = setName(set, this.#family);
      if (held.get(name) !== (known.get(name)?.size ?? 0)) return false;
    }
    return true;
  }
}

/** `ipset list -t` text → entries per set name. */
export function entryCounts(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let name = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('Name: ')) name = line.slice(6).trim();
    else if (line.startsWith('Number of entries: ')) out.set(name, Number(line.slice(19)));
  }
  return out;
}

/** What the kernel's sets netlet owns hold now. */
export async function readSets(run: IpsetRunner): Promise<SetContents> {
  const r = await run(['save']);
  if (r.code !== 0) throw new IpsetError(`ipset save failed: ${r.stderr.trim() || `exit ${r.code}`} (is the ip_set module loaded?)`);
  return parseSave(r.stdout);
}

/** Destroys every set netlet (and kube-proxy) own; a set still referenced by a rule stays, named in the error. */
export async function destroyOwnedSets(run: IpsetRunner = systemIpset): Promise<number> {
  const held = await readSets(run);
  if (held.size === 0) return 0;
  const input = [...held.keys()].map((n) => `destroy ${n}`).join('\n') + '\n';
  const r = await run(['restore', '-exist'], input);
  if (r.code !== 0) throw new IpsetError(`ipset destroy failed: ${r.stderr.trim()}`);
  return held.size;
}
