import { isIP } from 'node:net';
import IPCIDR from 'ip-cidr';
import type { DnsConfig } from './config.ts';
import type { AclRule, FrontPlugin, TemplateConfig } from './front-config.ts';
import { parseTemplate } from './template-syntax.ts';
import { classNumber, typeNumber } from './mnemonics.ts';
import { readRewrite } from './rewrite-reader.ts';
import { zonesOf } from './server-keys.ts';
import type { Directive } from './syntax.ts';
import type { PluginContext, PluginReader } from './directive-args.ts';
import { argCount, duration, fail, integer, noBlock } from './directive-args.ts';
import { dirname, isAbsolute, resolve } from 'node:path';
import { readFileSync } from 'node:fs';

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

const RCODES: Record<string, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

/** `template CLASS TYPE [ZONE…] { match…; answer…; additional…; authority…; rcode; ederror; fallthrough; upstream }`. */
function template(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  argCount(d, ctx, 2, Infinity);
  const qclass = classNumber(d.args[0]);
  if (qclass === null) fail(d, ctx, 'template', `'${d.args[0]}' is not a class (IN, CH, ANY…)`);
  const qtype = typeNumber(d.args[1]);
  if (qtype === null) fail(d, ctx, 'template', `'${d.args[1]}' is not a record type`);
  const t: TemplateConfig = {
    qclass, qtype, zones: d.args.length > 2 ? zonesOf(d.args.slice(2), `${ctx.file} line ${d.line}`) : ctx.blockZones,
    match: [], answer: [], additional: [], authority: [], rcode: 0, ederror: null, fallthrough: null,
  };
  for (const s of d.block ?? []) {
    const key = `template ${s.name}`;
    const checked = (texts: string[]) => texts.map((text) => {
      try {
        parseTemplate(text);
      } catch (err) {
        fail(s, ctx, key, (err as Error).message);
      }
      return text;
    });
    switch (s.name) {
      case 'match':
        argCount(s, ctx, 1, Infinity, key);
        for (const r of s.args) {
          try {
            new RegExp(r.replace(/\(\?P</g, '(?<'));
          } catch (err) {
            fail(s, ctx, key, `'${r}' is not a regular expression: ${(err as Error).message}`);
          }
        }
        t.match.push(...s.args);
        break;
      case 'answer':
      case 'additional':
      case 'authority':
        argCount(s, ctx, 1, 1, key);
        t[s.name].push(...checked(s.args));
        break;
      case 'rcode':
        argCount(s, ctx, 1, 1, key);
        if (!(s.args[0].toUpperCase() in RCODES)) fail(s, ctx, key, `'${s.args[0]}' is not an rcode (${Object.keys(RCODES).join(', ')})`);
        t.rcode = RCODES[s.args[0].toUpperCase()];
        break;
      case 'ederror':
        argCount(s, ctx, 1, 2, key);
        // A 16-bit INFO-CODE (RFC 8914 §2), any of them as CoreDNS takes it, and free text.
        if (!/^\d{1,5}$/.test(s.args[0]) || Number(s.args[0]) > 65535) fail(s, ctx, key, `'${s.args[0]}' is not an extended DNS error code (0-65535)`);
        t.ederror = { code: Number(s.args[0]), text: s.args[1] ?? '' };
        break;
      case 'fallthrough':
        t.fallthrough = zonesOf(s.args, `${ctx.file} line ${s.line}`);
        break;
      case 'upstream':
        config.warnings?.push(`${ctx.file} line ${s.line}: 'template upstream' is ignored since CoreDNS 1.6 and here too: CNAME targets are not resolved by the template`);
        break;
      default:
        fail(s, ctx, key, `'template' property '${s.name}' is not supported by netlet`);
    }
  }
  // One template plugin per block, its templates tried in the order written.
  const existing = config.front?.find((p) => p.plugin === 'template');
  if (existing && existing.plugin === 'template') existing.templates.push(t);
  else add(config, { plugin: 'template', templates: [t] });
}

/** `file DBFILE [ZONES…] [{ reload DURATION }]`: the zone file is read when the block is built (plugins/file.ts). */
function file(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  argCount(d, ctx, 1, Infinity);
  const path = isAbsolute(d.args[0]) ? d.args[0] : resolve(dirname(ctx.file), d.args[0]);
  const zones = d.args.length > 1 ? zonesOf(d.args.slice(1), `${ctx.file} line ${d.line}`) : ctx.blockZones;
  let reloadMs = 60_000;
  for (const s of d.block ?? []) {
    if (s.name === 'reload') {
      argCount(s, ctx, 1, 1, 'file reload');
      reloadMs = duration(s, ctx, 'file reload', s.args[0]);
    } else if (s.name === 'upstream') {
      config.warnings?.push(`${ctx.file} line ${s.line}: 'file upstream' has been ignored since CoreDNS 1.6 and is here too`);
    } else fail(s, ctx, `file ${s.name}`, `'file' property '${s.name}' is not supported by netlet`);
  }
  add(config, { plugin: 'file', path, zones, reloadMs });
}

/** The search domains of a resolv.conf (its last `search` or `domain` line wins, as in resolv.conf(5)). */
function searchDomains(path: string): string[] {
  let out: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const w = line.trim().split(/\s+/);
    if (w[0] === 'search' || w[0] === 'domain') out = w.slice(1).map((d) => (d.endsWith('.') ? d : `${d}.`).toLowerCase());
  }
  return out;
}

/**
 * `autopath [ZONES…] @kubernetes|RESOLV-CONF`. With @kubernetes each
 * client's list is its pod's (its namespace, then svc, then the cluster
 * zone, then this host's resolv.conf search domains), which needs
 * `pods verified` to know the pod behind an address, as CoreDNS requires.
 */
function autopath(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  argCount(d, ctx, 1, Infinity);
  noBlock(d, ctx);
  const source = d.args[d.args.length - 1];
  const zones = d.args.length > 1 ? zonesOf(d.args.slice(0, -1), `${ctx.file} line ${d.line}`) : ctx.blockZones;
  if (source.startsWith('@') && source !== '@kubernetes') fail(d, ctx, 'autopath', `'${source}': only @kubernetes can provide the search path`);
  const fromKubernetes = source === '@kubernetes';
  let search: string[];
  try {
    search = searchDomains(fromKubernetes ? '/etc/resolv.conf' : source);
  } catch (err) {
    return fail(d, ctx, 'autopath', `cannot read ${fromKubernetes ? '/etc/resolv.conf' : source}: ${(err as Error).message}`);
  }
  add(config, { plugin: 'autopath', zones, fromKubernetes, search });
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
  template,
  file,
  autopath,
};
