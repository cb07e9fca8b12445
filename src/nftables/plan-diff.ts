// What changed between two renders of one plan, as transaction statements:
// its elements (a changed value is a delete and an add: a map element
// cannot be replaced in place) and its own chains.

import { sameList } from '../base/same-list.ts';
import type { Element, OwnChain } from './render-plan.ts';
import type { TableChange } from './transaction.ts';

const elementId = (e: Element): string => `${e.set}\n${e.key}`;

/** The element changes of one plan. */
export function diffElements(before: readonly Element[], now: readonly Element[], change: TableChange): void {
  const nowById = new Map(now.map((e) => [elementId(e), e]));
  const beforeById = new Map(before.map((e) => [elementId(e), e]));
  for (const [id, e] of beforeById) {
    const next = nowById.get(id);
    if (!next || next.value !== e.value) change.deleteElements.push(e);
  }
  for (const [id, e] of nowById) {
    const prev = beforeById.get(id);
    if (!prev || prev.value !== e.value) change.addElements.push(e);
  }
}

export function diffChains(before: readonly OwnChain[], now: readonly OwnChain[], change: TableChange): void {
  const beforeByName = new Map(before.map((c) => [c.name, c]));
  const nowNames = new Set(now.map((c) => c.name));
  for (const c of now) {
    const prev = beforeByName.get(c.name);
    if (!prev) change.newChains.push(c.name);
    if (!prev || !sameList(prev.rules, c.rules)) change.rewriteChains.push(c);
  }
  for (const c of before) {
    if (nowNames.has(c.name)) continue;
    change.flushChains.push(c.name);
    change.deleteChains.push(c.name);
  }
}
