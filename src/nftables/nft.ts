// Running `nft`: one `nft -f -` per sync (one kernel transaction), and the
// terse listing a full sync reads to adopt what a previous agent left.

import { NetletError } from '../base/errors.ts';
import { runTool, startTool } from '../base/run-tool.ts';
import { TABLE } from './words.ts';
import type { FamilyWords } from './words.ts';

/** What netlet runs nft through; a test can give its own. */
export interface NftRunner {
  /** Runs `nft args` with `input` on stdin. */
  run(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /**
   * Runs `nft args` with `pieces` written to stdin one after the other, so a
   * full sync's input (3 MB at 10k services) is never one string
   * (docs/design/v8-heap.md#no-large-strings). Without it, the pieces are joined.
   */
  runPieces?(args: string[], pieces: Iterable<string>): Promise<{ code: number; stdout: string; stderr: string }>;
}

export const systemNft: NftRunner = {
  run: (args, input = '') => runTool('nft', args, input),
  async runPieces(args, pieces) {
    const tool = startTool('nft', args);
    for (const piece of pieces) if (!(await tool.write(piece))) break; // nft stopped reading: its stderr says why
    return tool.end();
  },
};

/** Characters per piece written to nft: young-generation strings, well under V8's large-object size. */
export const PIECE_CHARS = 32 * 1024;

/** Lines gathered into pieces of about PIECE_CHARS. */
export function* inPieces(lines: Iterable<string>): Generator<string> {
  let piece: string[] = [];
  let size = 0;
  for (const line of lines) {
    piece.push(line);
    size += line.length;
    if (size >= PIECE_CHARS) {
      yield piece.join('');
      piece = [];
      size = 0;
    }
  }
  if (piece.length > 0) yield piece.join('');
}

/** nft refused an input or a command: its message names the line. */
export class NftError extends NetletError {
  constructor(message: string) {
    super('ERR_NFT', message);
  }
}

/** Applies one `nft -f` input (a string, or lines written in pieces) as one transaction; throws NftError with nft's message (and the lines it names) on failure. */
export async function applyScript(nft: NftRunner, script: string | Iterable<string>): Promise<void> {
  const args = ['-f', '-'];
  const r =
    typeof script === 'string'
      ? await nft.run(args, script)
      : nft.runPieces
        ? await nft.runPieces(args, inPieces(script))
        : await nft.run(args, [...script].join(''));
  if (r.code !== 0) throw new NftError(`nft -f failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(0, 12).join('\n')}`);
}

export interface TableListing {
  exists: boolean;
  chains: Set<string>;
  sets: Set<string>;
  maps: Set<string>;
}

/** The chains and sets of netlet's table in one family, without set contents (`nft -t`). */
export async function listTable(nft: NftRunner, w: FamilyWords, table = TABLE): Promise<TableListing> {
  const r = await nft.run(['-t', 'list', 'table', w.ip, table]);
  if (r.code !== 0) {
    if (/No such file or directory/.test(r.stderr)) return { exists: false, chains: new Set(), sets: new Set(), maps: new Set() };
    throw new NftError(`nft list table ${w.ip} ${table} failed (exit ${r.code}): ${r.stderr.trim()}`);
  }
  return parseListing(r.stdout);
}

function parseListing(text: string): TableListing {
  const chains = new Set<string>();
  const sets = new Set<string>();
  const maps = new Set<string>();
  for (const m of text.matchAll(/^\t(chain|set|map) (\S+) \{/gm)) (m[1] === 'chain' ? chains : m[1] === 'set' ? sets : maps).add(m[2]);
  return { exists: true, chains, sets, maps };
}

/**
 * The chains of netlet's table, from `nft list chains` (~4 ms at 10k
 * services: it reads no set, unlike any listing of rules or of the table);
 * `exists` false when the table is gone. Sets and maps are not listed.
 */
export async function listChains(nft: NftRunner, w: FamilyWords): Promise<TableListing> {
  const r = await nft.run(['list', 'chains', w.ip]);
  if (r.code !== 0) throw new NftError(`nft list chains ${w.ip} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return parseChainList(r.stdout, w);
}

function parseChainList(text: string, w: FamilyWords): TableListing {
  const chains = new Set<string>();
  let exists = false;
  let ours = false;
  for (const line of text.split('\n')) {
    const table = /^table (\S+) (\S+) \{/.exec(line);
    if (table) {
      ours = table[1] === w.ip && table[2] === TABLE;
      exists ||= ours;
      continue;
    }
    const chain = ours ? /^\tchain (\S+) \{/.exec(line) : null;
    if (chain) chains.add(chain[1]);
  }
  return { exists, chains, sets: new Set(), maps: new Set() };
}

/** The rules of one chain as `nft list chain` prints them, or undefined when the chain (or table) is gone. */
export async function listChain(nft: NftRunner, w: FamilyWords, chain: string): Promise<string | undefined> {
  const r = await nft.run(['list', 'chain', w.ip, TABLE, chain]);
  return r.code === 0 ? r.stdout : undefined;
}

/** Whether a set exists in netlet's table: `nft list set` reads only that set (~3 ms), unlike `list chain`. */
export async function setExists(nft: NftRunner, w: FamilyWords, set: string): Promise<boolean> {
  return (await nft.run(['list', 'set', w.ip, TABLE, set])).code === 0;
}

/**
 * The element of a one-element set of netlet's table, as nft lists it
 * (undefined when the set is gone or empty), and whether the table itself
 * is gone: nft underlines the missing name in its error, the table's or the
 * set's. Only an underlined table name says "gone"; anything else is taken
 * as a table that may exist.
 */
export async function readSingleElement(nft: NftRunner, w: FamilyWords, set: string): Promise<{ element?: string; tableGone: boolean }> {
  const r = await nft.run(['list', 'set', w.ip, TABLE, set]);
  if (r.code === 0) return { element: /elements = \{ ([^,}\s]+) \}/.exec(r.stdout)?.[1], tableGone: false };
  const lines = r.stderr.split('\n');
  const at = lines.findIndex((l) => l.startsWith('list set '));
  const command = lines[at] ?? '';
  const caret = lines[at + 1] ?? '';
  const tableAt = command.indexOf(` ${TABLE} `) + 1;
  const tableGone = at >= 0 && tableAt > 0 && caret === `${' '.repeat(tableAt)}${'^'.repeat(TABLE.length)}`;
  return { tableGone };
}
