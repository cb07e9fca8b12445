import { isIP } from 'node:net';
import IPCIDR from 'ip-cidr';
import type { DnsConfig } from './config.ts';
import type { AclRule, FrontPlugin } from './front-config.ts';
import { typeNumber } from './mnemonics.ts';
import { readRewrite } from './rewrite-reader.ts';
import { zonesOf } from './server-keys.ts';
import type { Directive } from './syntax.ts';
import type { PluginContext, PluginReader } from './directive-args.ts';
import { argCount, fail, integer, noBlock } from './directive-args.ts';

// Readers of the plugins that stand in front of the kubernetes answers and
// forwarding (config.front; src/dns/plugins/ runs them).

function add(config: DnsConfig, p: FrontPlugin): void {
  (config.front ??= []).push(p);
}

const bare = (plugin: 'local' | 'any' | 'minimal' | 'whoami'): PluginReader => (d, config, ctx) => {
  argCount(d, ctx, 0, 0);
  noBlock(d, ctx);
  add(config, { plugin });
};

function bufsize(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  argCount(d, ctx, 0, 1);
  noBlock(d, ctx);
  // README: default 1232, the DNS Flag Day 2020 size; 512 to 4096.
  add(config, { plugin: 'bufsize', size: d.args[0] === undefined ? 1232 : integer(d, ctx, 'bufsize', d.args[0], 512, 4096) });
}

function chaos(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  noBlock(d, ctx);
  const [version = 'netlet', ...authors] = d.args;
  add(config, { plugin: 'chaos', version, authors: authors.length ? authors : ['netlet'] });
}

function rewrite(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  let rules;
  try {
    rules = readRewrite(d);
  } catch (err) {
    return fail(d, ctx, 'rewrite', (err as Error).message);
  }
  // Every rewrite line of a block is one rule list, in the order written.
  const existing = config.front?.find((p) => p.plugin === 'rewrite');
  if (existing && existing.plugin === 'rewrite') existing.rules.push(...rules);
  else add(config, { plugin: 'rewrite', rules });
}

function acl(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  const zones = d.args.length ? zonesOf(d.args, `${ctx.file} line ${d.line}`) : ctx.blockZones;
  const rules: AclRule[] = [];
  for (const s of d.block ?? []) {
    const key = `acl ${s.name}`;
    if (!['allow', 'block', 'filter', 'drop'].includes(s.name)) fail(s, ctx, key, `'${s.name}' is not an acl action (allow, block, filter, drop)`);
    const rule: AclRule = { action: s.name as AclRule['action'], types: [], nets: [] };
    let list: 'type' | 'net' | null = null;
    for (const w of s.args) {
      if (w === 'type' || w === 'net') list = w;
      else if (list === 'type') {
        if (w === '*') continue;
        const t = typeNumber(w);
        if (t === null) fail(s, ctx, key, `'${w}' is not a record type`);
        rule.types.push(t);
      } else if (list === 'net') {
        if (w === '*') continue;
        const cidr = w.includes('/') ? w : `${w}/${isIP(w) === 6 ? 128 : 32}`;
        if (!IPCIDR.isValidCIDR(cidr)) fail(s, ctx, key, `'${w}' is not an address or CIDR`);
        rule.nets.push(cidr);
      } else fail(s, ctx, key, `'${w}': expected 'type' or 'net' first`);
    }
    rules.push(rule);
  }
  if (rules.length === 0) fail(d, ctx, 'acl', 'acl needs at least one rule (allow, block, filter or drop)');
  add(config, { plugin: 'acl', zones, rules });
}

export const FRONT_PLUGINS: Record<string, PluginReader> = {
  bufsize,
  local: bare('local'),
  acl,
  any: bare('any'),
  chaos,
  rewrite,
  minimal: bare('minimal'),
  whoami: bare('whoami'),
};
