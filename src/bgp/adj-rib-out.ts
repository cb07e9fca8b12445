// What was last announced to one peer, so a change sends only the
// difference: announcements grouped by identical attributes (one UPDATE
// carries many prefixes), withdrawals per family.

import type { Family } from '../base/family.ts';
import type { Advertisement } from './export-policy.ts';
import { encodeAnnouncement, encodeWithdrawal } from './wire/update-encode.ts';

interface Sent {
  family: Family;
  prefix: string;
  signature: string;
}

export class AdjRibOut {
  readonly #sent = new Map<string, Sent>();

  get size(): number {
    return this.#sent.size;
  }

  keys(): IterableIterator<string> {
    return this.#sent.keys();
  }

  clear(): void {
    this.#sent.clear();
  }

  /**
   * The messages that move the peer from what it was sent to `wanted` for
   * the given prefix keys ("4|10.0.0.0/24"); records them as sent.
   */
  diff(keys: Iterable<string>, wanted: (key: string) => Advertisement | undefined, fourOctetAs: boolean): Buffer[] {
    const groups = new Map<string, { family: Family; adv: Advertisement; prefixes: string[] }>();
    const withdraw: Record<Family, string[]> = { 4: [], 6: [] };
    for (const key of keys) {
      const bar = key.indexOf('|');
      const family = Number(key.slice(0, bar)) as Family;
      const prefix = key.slice(bar + 1);
      const adv = wanted(key);
      const had = this.#sent.get(key);
      if (!adv) {
        if (had) {
          withdraw[family].push(prefix);
          this.#sent.delete(key);
        }
        continue;
      }
      const signature = `${family}|${JSON.stringify(adv)}`;
      if (had?.signature === signature) continue;
      this.#sent.set(key, { family, prefix, signature });
      let g = groups.get(signature);
      if (!g) groups.set(signature, (g = { family, adv, prefixes: [] }));
      g.prefixes.push(prefix);
    }
    const out: Buffer[] = [];
    for (const family of [4, 6] as const) if (withdraw[family].length) out.push(...encodeWithdrawal(family, withdraw[family]));
    for (const g of groups.values()) out.push(...encodeAnnouncement({ family: g.family, prefixes: g.prefixes, nextHop: g.adv.nextHop, attributes: g.adv.attributes }, { fourOctetAs }));
    return out;
  }
}
