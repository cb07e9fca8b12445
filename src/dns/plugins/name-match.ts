import type { NameMatch } from '../corefile/front-config.ts';

/**
 * A name rule of `rewrite`: the new name for `name` (lowercase, absolute),
 * or null when the rule does not match. Regex replacements use {1}, {2}…
 * for the groups, as CoreDNS writes them.
 */
export function matchName(match: NameMatch, from: string, to: string, name: string, regex: RegExp | null): string | null {
  switch (match) {
    case 'exact':
      return name === from ? to : null;
    case 'prefix':
      return name.startsWith(from) ? to + name.slice(from.length) : null;
    case 'suffix':
      return name.endsWith(from) ? name.slice(0, name.length - from.length) + to : null;
    case 'substring':
      return name.includes(from) ? name.replaceAll(from, to) : null;
    case 'regex': {
      const m = regex!.exec(name);
      return m ? fillGroups(to, m) : null;
    }
  }
}

/** `{N}` → the Nth group of `m`. */
export function fillGroups(template: string, m: RegExpExecArray): string {
  return template.replace(/\{(\d+)\}/g, (_, n: string) => m[Number(n)] ?? '');
}

/** A name made absolute (CoreDNS appends the dot to what a rule produces). */
export const absolute = (name: string) => (name.endsWith('.') ? name : `${name}.`);
