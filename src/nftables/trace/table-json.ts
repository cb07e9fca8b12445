// netlet's table as `nft -j list table` prints it: the rules of each chain
// (as nft's JSON expressions) and the elements of each set and map.

import { NetletError } from '../../base/errors.ts';

/** One JSON expression or statement of a rule, as nft writes it: an object with one key. */
export type NftExpr = Record<string, unknown>;

export interface TracedRule {
  chain: string;
  /** The rule's place in its chain, from 1. */
  index: number;
  expr: NftExpr[];
}

export interface NftTable {
  chains: Map<string, TracedRule[]>;
  /** Set elements (keys), or map elements as [key, value]. */
  sets: Map<string, unknown[]>;
  maps: Map<string, [unknown, unknown][]>;
}

export function parseTableJson(text: string): NftTable {
  let doc: { nftables?: Record<string, Record<string, unknown>>[] };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (err) {
    throw new NetletError('ERR_USAGE', `not the JSON of \`nft -j list table\`: ${(err as Error).message}`);
  }
  const table: NftTable = { chains: new Map(), sets: new Map(), maps: new Map() };
  for (const item of doc.nftables ?? []) {
    if (item.chain) table.chains.set(item.chain.name as string, []);
    else if (item.set) table.sets.set(item.set.name as string, ((item.set.elem as unknown[]) ?? []).map(unwrapElem));
    else if (item.map) table.maps.set(item.map.name as string, ((item.map.elem as [unknown, unknown][]) ?? []).map(([k, v]) => [unwrapElem(k), v]));
    else if (item.rule) {
      const chain = item.rule.chain as string;
      let rules = table.chains.get(chain);
      if (!rules) table.chains.set(chain, (rules = []));
      rules.push({ chain, index: rules.length + 1, expr: item.rule.expr as NftExpr[] });
    }
  }
  return table;
}

/** An element with a timeout is `{elem: {val, timeout, expires}}`: its value is what matches. */
function unwrapElem(e: unknown): unknown {
  if (e && typeof e === 'object' && 'elem' in e) return (e as { elem: { val: unknown } }).elem.val;
  return e;
}
