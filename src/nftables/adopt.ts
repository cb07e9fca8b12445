// What a restarted agent's first full sync reads of the table it adopts: the
// elements of the shared sets and maps, as nft syntax, so that it removes
// only those no plan wants instead of emptying and refilling every map
// (10k services: reading 0.6 s, against ~2 s more kernel work for a refill).

import { NftError } from './nft.ts';
import type { NftRunner, TableListing } from './nft.ts';
import type { Element } from './render-plan.ts';
import { parseTableJson } from './trace/table-json.ts';
import type { NftTable } from './trace/table-json.ts';
import { TABLE } from './words.ts';
import type { FamilyWords } from './words.ts';

/** The table as a restart finds it: its chains, sets and maps, and the elements of the shared ones. */
export interface HeldTable {
  listing: TableListing;
  /** Elements of each set and map; one whose elements cannot be written back as nft text is left out (the caller empties it instead). */
  elements: Map<string, Element[]>;
}

/** One `nft -j list table` (nft lists elements anyway, so a terse listing would cost as much again). */
export async function readTable(nft: NftRunner, w: FamilyWords): Promise<HeldTable> {
  const r = await nft.run(['-j', 'list', 'table', w.ip, TABLE]);
  if (r.code !== 0) {
    if (/No such file or directory/.test(r.stderr)) return { listing: { exists: false, chains: new Set(), sets: new Set(), maps: new Set() }, elements: new Map() };
    throw new NftError(`nft -j list table ${w.ip} ${TABLE} failed (exit ${r.code}): ${r.stderr.trim()}`);
  }
  const table = parseTableJson(r.stdout);
  return {
    listing: { exists: true, chains: new Set(table.chains.keys()), sets: new Set(table.sets.keys()), maps: new Set(table.maps.keys()) },
    elements: heldElements(table),
  };
}

export function elementsOf(json: string, sets: ReadonlySet<string>): Map<string, Element[]> {
  return heldElements(parseTableJson(json), sets);
}

function heldElements(table: NftTable, sets?: ReadonlySet<string>): Map<string, Element[]> {
  const out = new Map<string, Element[]>();
  for (const [set, keys] of table.sets) {
    if (sets && !sets.has(set)) continue;
    const elements = keys.map((k) => ({ set, key: text(k), value: '' }));
    if (elements.every((e) => e.key !== undefined)) out.set(set, elements as Element[]);
  }
  for (const [set, pairs] of table.maps) {
    if (sets && !sets.has(set)) continue;
    const elements = pairs.map(([k, v]) => ({ set, key: text(k), value: verdictText(v) ?? text(v) }));
    if (elements.every((e) => e.key !== undefined && e.value !== undefined)) out.set(set, elements as Element[]);
  }
  return out;
}

/** An element's key or data in nft syntax, as render-plan.ts writes it; undefined for a form netlet does not write. */
function text(v: unknown): string | undefined {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (v && typeof v === 'object') {
    if ('concat' in v) {
      const parts = (v as { concat: unknown[] }).concat.map(text);
      return parts.includes(undefined) ? undefined : parts.join(' . ');
    }
    if ('prefix' in v) {
      const { addr, len } = (v as { prefix: { addr: string; len: number } }).prefix;
      return `${addr}/${len}`;
    }
  }
  return undefined;
}

function verdictText(v: unknown): string | undefined {
  if (!v || typeof v !== 'object') return undefined;
  if ('goto' in v) return `goto ${(v as { goto: { target: string } }).goto.target}`;
  if ('jump' in v) return `jump ${(v as { jump: { target: string } }).jump.target}`;
  if ('drop' in v) return 'drop';
  if ('accept' in v) return 'accept';
  return undefined;
}
