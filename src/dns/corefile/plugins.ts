import { isIP } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import IPCIDR from 'ip-cidr';
import { networkInterfaces } from 'node:os';
import { absoluteZone, parseListen } from './config.ts';
import type { DnsConfig, PodsMode } from './config.ts';
import type { Directive } from './syntax.ts';
import { defaultForwardOptions } from '../forward/options.ts';
import type { ForwardPolicy } from '../forward/options.ts';
import { parseUpstreamAddress } from '../forward/upstream-list.ts';
import type { HostsConfig } from '../hosts/hosts-table.ts';
import { zonesOf } from './server-keys.ts';
import { argCount, duration, fail, integer, labelSelector, noBlock } from './directive-args.ts';
import type { PluginContext, PluginReader } from './directive-args.ts';
export type { PluginContext, PluginReader } from './directive-args.ts';
import { FRONT_PLUGINS } from './front-readers.ts';
import { cache } from './cache-reader.ts';
import { checkApiAccess, readApiAccess } from './kubernetes-api-reader.ts';

// One function per supported plugin: each reads its directive into the
// DnsConfig and rejects, by name and line, what netlet does not do.

function address(d: Directive, ctx: PluginContext, text: string | undefined, fallback: string): string {
  if (text === undefined) return fallback;
  try {
    parseListen(text, d.name);
  } catch (err) {
    fail(d, ctx, d.name, (err as Error).message);
  }
  return text;
}

const simple = (apply: (c: DnsConfig) => void): PluginReader => (d, config, ctx) => {
  argCount(d, ctx, 0, 0);
  noBlock(d, ctx);
  apply(config);
};

/** `errors [{ stacktrace; consolidate DURATION REGEXP [LEVEL] }]`. */
function errors(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  argCount(d, ctx, 0, 0);
  config.errors = true;
  for (const s of d.block ?? []) {
    const key = `errors ${s.name}`;
    if (s.name === 'stacktrace') {
      // netlet's error lines always carry the stack (pino's err serializer): nothing to turn on.
      argCount(s, ctx, 0, 0, key);
    } else if (s.name === 'consolidate') {
      argCount(s, ctx, 2, 3, key);
      const periodMs = duration(s, ctx, key, s.args[0]);
      try {
        new RegExp(s.args[1]);
      } catch (err) {
        fail(s, ctx, key, `'${s.args[1]}' is not a regular expression: ${(err as Error).message}`);
      }
      const levels: Record<string, 'warn' | 'error' | 'info' | 'debug'> = { warning: 'warn', error: 'error', info: 'info', debug: 'debug' };
      const level = levels[s.args[2] ?? 'error'];
      if (!level) fail(s, ctx, key, `'${s.args[2]}' is not a level (warning, error, info, debug)`);
      (config.errorsConsolidate ??= []).push({ periodMs, pattern: s.args[1], level });
    } else fail(s, ctx, key, `'errors' has no property '${s.name}'`);
  }
}

/** `log [NAMES…] [FORMAT] [{ class CLASSES… }]`: the common and combined formats. */
function log(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  const names: string[] = [];
  let combined = false;
  for (const a of d.args) {
    if (a.includes('{')) {
      if (a === '{common}') combined = false;
      else if (a === '{combined}') combined = true;
      else fail(d, ctx, 'log', `log format '${a}': only {common} and {combined} are supported`);
    } else names.push(...zonesOf([a], `${ctx.file} line ${d.line}`));
  }
  let classes: Array<'success' | 'denial' | 'error'> = ['success', 'denial', 'error'];
  for (const s of d.block ?? []) {
    if (s.name !== 'class') fail(s, ctx, `log ${s.name}`, `'log' has no property '${s.name}'`);
    argCount(s, ctx, 1, Infinity, 'log class');
    const wanted = new Set<'success' | 'denial' | 'error'>();
    for (const c of s.args) {
      if (c === 'all') ['success', 'denial', 'error'].forEach((x) => wanted.add(x as 'success'));
      else if (c === 'success' || c === 'denial' || c === 'error') wanted.add(c);
      else fail(s, ctx, 'log class', `'${c}' is not a class (all, success, denial, error)`);
    }
    classes = [...wanted];
  }
  config.log = true;
  config.logFilter = { names: names.length ? names : ['.'], classes, combined };
}

function health(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  argCount(d, ctx, 0, 1);
  config.health = address(d, ctx, d.args[0], ':8080');
  for (const s of d.block ?? []) {
    if (s.name !== 'lameduck') fail(s, ctx, `health ${s.name}`, `'health' has no property '${s.name}'`);
    argCount(s, ctx, 1, 1, 'health lameduck');
    config.lameduckMs = duration(s, ctx, 'health lameduck', s.args[0]);
  }
}

function kubernetes(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  const zones = d.args.length ? zonesOf(d.args, `${ctx.file} line ${d.line}`) : ctx.blockZones;
  config.zones = zones;
  config.fallthrough = [];
  for (const s of d.block ?? []) {
    const key = `kubernetes ${s.name}`;
    switch (s.name) {
      case 'pods':
        argCount(s, ctx, 1, 1, key);
        if (!['disabled', 'insecure', 'verified'].includes(s.args[0])) fail(s, ctx, key, `'${s.args[0]}' is not disabled, insecure or verified`);
        config.pods = s.args[0] as PodsMode;
        break;
      case 'fallthrough':
        config.fallthrough = (s.args.length ? s.args : zones).map(absoluteZone);
        break;
      case 'ttl':
        argCount(s, ctx, 1, 1, key);
        config.ttl = integer(s, ctx, key, s.args[0], 0, 3600);
        break;
      case 'endpoint_pod_names':
        argCount(s, ctx, 0, 0, key);
        config.endpointPodNames = true;
        break;
      case 'noendpoints':
        argCount(s, ctx, 0, 0, key);
        config.noEndpoints = true;
        break;
      case 'ignore':
        argCount(s, ctx, 1, 1, key);
        if (s.args[0] !== 'empty_service') fail(s, ctx, key, `'${s.args[0]}' is not empty_service (the only thing 'ignore' takes)`);
        config.ignoreEmptyService = true;
        break;
      case 'namespace_labels':
        config.namespaceLabels = labelSelector(s, ctx, key);
        break;
      case 'kubeconfig':
        argCount(s, ctx, 1, 2, key);
        config.kubeconfig = s.args[0];
        if (s.args[1]) config.kubeconfigContext = s.args[1];
        break;
      case 'namespaces':
        argCount(s, ctx, 1, Infinity, key);
        config.namespaces = s.args.map((n) => n.toLowerCase());
        break;
      case 'startup_timeout':
        argCount(s, ctx, 1, 1, key);
        config.startupTimeoutMs = duration(s, ctx, key, s.args[0]);
        break;
      case 'multicluster': {
        argCount(s, ctx, 1, Infinity, key);
        const mcs = zonesOf(s.args, `${ctx.file} line ${s.line}`);
        // As CoreDNS: a clusterset zone is one the plugin is authoritative for, else no query would reach it.
        const outside = mcs.find((z) => !zones.includes(z));
        if (outside) fail(s, ctx, key, `'kubernetes multicluster' zone '${outside}' is not one of the kubernetes zones (${zones.join(' ')}): name it after 'kubernetes' too`);
        config.multicluster = mcs;
        break;
      }
      case 'upstream':
        // CoreDNS 1.5.2 stopped reading it: ExternalName targets are resolved through the block's own plugins since.
        config.warnings?.push(`${ctx.file} line ${s.line}: 'kubernetes upstream' has been ignored since CoreDNS 1.5.2 and is ignored here too: ExternalName targets are resolved through this block's forward`);
        break;
      case 'resyncperiod':
        config.warnings?.push(`${ctx.file} line ${s.line}: 'kubernetes resyncperiod' was removed in CoreDNS 1.7.0 and is ignored: netlet follows the API's watch`);
        break;
      default:
        if (!readApiAccess(s, config, ctx)) fail(s, ctx, key, `'kubernetes' property '${s.name}' is not supported by netlet`);
    }
  }
  checkApiAccess(d, config, ctx);
}

/** The rcodes a reply header can carry (4 bits), by the names CoreDNS reads. */
const HEADER_RCODES: Record<string, number> = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10,
};

function headerRcode(s: Directive, ctx: PluginContext, key: string, name: string): number {
  const code = HEADER_RCODES[name.toUpperCase()];
  if (code === undefined) fail(s, ctx, key, `'${name}' is not an rcode (${Object.keys(HEADER_RCODES).join(', ')})`);
  return code;
}

function forward(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  if (d.name === 'proxy') {
    config.warnings?.push(`${ctx.file} line ${d.line}: 'proxy' was removed in CoreDNS 1.6.0; read as 'forward' with the same zone and upstreams`);
  }
  argCount(d, ctx, 2, Infinity);
  const opts = defaultForwardOptions();
  opts.from = absoluteZone(d.args[0]);
  const to = d.args.slice(1);
  for (const t of to) {
    if (/^(https|grpc):\/\//.test(t)) fail(d, ctx, 'forward', `'${t}': only plain DNS and DNS-over-TLS upstreams are supported (no DNS-over-HTTPS/gRPC)`);
    if (!t.startsWith('/') && !parseUpstreamAddress(t)) fail(d, ctx, 'forward', `'${t}' is not an IP[:PORT] address or a resolv.conf path`);
  }
  for (const s of d.block ?? []) {
    const key = `forward ${s.name}`;
    switch (s.name) {
      case 'max_concurrent':
        argCount(s, ctx, 1, 1, key);
        opts.maxConcurrent = integer(s, ctx, key, s.args[0], 1, 1_000_000);
        break;
      case 'max_fails':
        argCount(s, ctx, 1, 1, key);
        opts.maxFails = integer(s, ctx, key, s.args[0], 0, 1000);
        break;
      case 'policy':
        argCount(s, ctx, 1, 1, key);
        if (!['random', 'round_robin', 'sequential'].includes(s.args[0])) fail(s, ctx, key, `unknown policy '${s.args[0]}' (random, round_robin, sequential)`);
        opts.policy = s.args[0] as ForwardPolicy;
        break;
      case 'health_check': {
        if (s.args.length < 1) fail(s, ctx, key, 'health_check needs a duration');
        opts.healthCheckMs = duration(s, ctx, key, s.args[0]);
        for (let i = 1; i < s.args.length; i++) {
          if (s.args[i] === 'no_rec') opts.healthCheckRecursion = false;
          else if (s.args[i] === 'domain' && s.args[i + 1]) opts.healthCheckDomain = absoluteZone(s.args[++i]);
          else fail(s, ctx, key, `unknown health_check option '${s.args[i]}'`);
        }
        break;
      }
      case 'force_tcp':
        argCount(s, ctx, 0, 0, key);
        opts.forceTcp = true;
        break;
      case 'prefer_udp':
        argCount(s, ctx, 0, 0, key);
        opts.preferUdp = true;
        break;
      case 'expire':
        argCount(s, ctx, 1, 1, key);
        opts.expireMs = duration(s, ctx, key, s.args[0]);
        break;
      case 'except':
        argCount(s, ctx, 1, Infinity, key);
        opts.except.push(...zonesOf(s.args, `${ctx.file} line ${s.line}`));
        break;
      case 'next':
      case 'failover': {
        argCount(s, ctx, 1, Infinity, key);
        const codes = s.args.map((a) => headerRcode(s, ctx, key, a));
        if (s.name === 'next') opts.nextRcodes.push(...codes);
        else opts.failoverRcodes.push(...codes);
        break;
      }
      case 'failfast_all_unhealthy_upstreams':
        argCount(s, ctx, 0, 0, key);
        opts.failfastAllUnhealthy = true;
        break;
      case 'tls': {
        // As CoreDNS reads it: none = system CAs; CA; CERT KEY; CERT KEY CA.
        argCount(s, ctx, 0, 3, key);
        const [a, b, c] = s.args;
        const serverName = opts.tls?.serverName;
        if (s.args.length === 1) opts.tls = { ca: a };
        else if (s.args.length >= 2) opts.tls = { cert: a, key: b, ...(c ? { ca: c } : {}) };
        else opts.tls = {};
        if (serverName) opts.tls.serverName = serverName;
        break;
      }
      case 'tls_servername':
        argCount(s, ctx, 1, 1, key);
        opts.tls = { ...(opts.tls ?? {}), serverName: s.args[0] };
        break;
      default:
        fail(s, ctx, key, `'${d.name}' property '${s.name}' is not supported by netlet`);
    }
  }
  // One transport per forward, as CoreDNS; TLS settings with no tls:// upstream would be ignored, so they are refused.
  const overTls = to.filter((t) => t.startsWith('tls://')).length;
  if (overTls > 0 && overTls < to.length) fail(d, ctx, 'forward', "mixes tls:// and plain DNS upstreams: use one 'forward' per transport");
  if (opts.tls && overTls === 0) fail(d, ctx, 'forward tls', "'tls' and 'tls_servername' apply to tls:// upstreams, and this forward has none");
  if (config.upstreams.length === 0) {
    config.upstreams = to;
    config.forward = opts;
  } else {
    config.extraForwards ??= [];
    config.extraForwards.push({ upstreams: to, options: opts });
  }
}

/**
 * `bind ADDRESS|INTERFACE… [{ except ADDRESS… }]`: the block listens on
 * these addresses only; an interface name stands for its addresses now.
 */
function bind(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  argCount(d, ctx, 1, Infinity);
  const except = new Set<string>();
  for (const s of d.block ?? []) {
    if (s.name !== 'except') fail(s, ctx, `bind ${s.name}`, `'bind' has no property '${s.name}'`);
    for (const a of s.args) except.add(a);
  }
  const port = config.listen[0]?.port ?? 53;
  const hosts: string[] = config.bound ? config.listen.map((l) => l.host) : [];
  for (const a of d.args) {
    if (isIP(a)) hosts.push(a);
    else {
      const nic = networkInterfaces()[a];
      if (!nic) fail(d, ctx, 'bind', `'${a}' is neither an IP address nor an interface of this machine`);
      // Link-local IPv6 would need a zone index to bind; CoreDNS skips those too.
      hosts.push(...nic.filter((n) => !(n.family === 'IPv6' && n.address.startsWith('fe80:'))).map((n) => n.address));
    }
  }
  const kept = [...new Set(hosts)].filter((h) => !except.has(h));
  if (kept.length === 0) fail(d, ctx, 'bind', 'no address left to listen on');
  config.listen = kept.map((host) => ({ host, port }));
  config.bound = true;
}

function reload(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  argCount(d, ctx, 0, 2);
  noBlock(d, ctx);
  // README: interval ≥ 2 s (default 30 s), jitter ≥ 1 s (default 15 s), at most half the interval.
  const intervalMs = d.args[0] ? duration(d, ctx, 'reload', d.args[0]) : 30_000;
  if (intervalMs < 2000) fail(d, ctx, 'reload', 'the interval must be at least 2s');
  let jitterMs = d.args[1] ? duration(d, ctx, 'reload', d.args[1]) : 15_000;
  if (d.args[1] && jitterMs < 1000) fail(d, ctx, 'reload', 'the jitter must be at least 1s');
  jitterMs = Math.min(jitterMs, intervalMs / 2);
  config.reload = { intervalMs, jitterMs };
}

/** `loadbalance [round_robin | weighted WEIGHTFILE] { reload DURATION; prefer CIDR… }` (plugin/loadbalance README). */
function loadbalance(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  argCount(d, ctx, 0, 2);
  const policy = d.args[0] ?? 'round_robin';
  if (policy !== 'round_robin' && policy !== 'weighted') fail(d, ctx, 'loadbalance', `policy '${policy}' is not supported (round_robin and weighted are)`);
  if (policy === 'round_robin') argCount(d, ctx, 0, 1);
  else if (d.args.length !== 2) fail(d, ctx, 'loadbalance', "'weighted' needs a WEIGHTFILE");
  // A relative path is the Corefile's folder's, as `file` takes it (netlet has no `root`).
  const weightFile = policy === 'round_robin' ? null : isAbsolute(d.args[1]) ? d.args[1] : resolve(dirname(ctx.file), d.args[1]);
  let reloadMs = 30_000;
  const prefer: string[] = [];
  for (const s of d.block ?? []) {
    const key = `loadbalance ${s.name}`;
    if (s.name === 'reload' && weightFile !== null) {
      argCount(s, ctx, 1, 1, key);
      reloadMs = duration(s, ctx, key, s.args[0]);
    } else if (s.name === 'prefer') {
      argCount(s, ctx, 1, Infinity, key);
      for (const c of s.args) if (!c.includes('/') || !IPCIDR.isValidCIDR(c)) fail(s, ctx, key, `'${c}' is not a CIDR`);
      prefer.push(...s.args);
    } else fail(s, ctx, key, `'loadbalance${weightFile === null ? ' round_robin' : ''}' property '${s.name}' is not supported by netlet`);
  }
  if (weightFile === null) config.loadbalance = true;
  if (weightFile !== null || prefer.length) (config.front ??= []).push({ plugin: 'loadbalance', weightFile, reloadMs, prefer });
}

function hosts(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  const h: HostsConfig = {
    file: d.args[0] ?? '/etc/hosts',
    inline: [],
    zones: (d.args.length > 1 ? d.args.slice(1) : ctx.blockZones).map(absoluteZone),
    ttl: 3600,
    noReverse: false,
    fallthrough: null,
    reloadMs: 5000,
  };
  for (const s of d.block ?? []) {
    const key = `hosts ${s.name}`;
    if (s.name === 'ttl') h.ttl = integer(s, ctx, key, s.args[0], 0, 86_400 * 7);
    else if (s.name === 'no_reverse') h.noReverse = true;
    else if (s.name === 'reload') h.reloadMs = duration(s, ctx, key, s.args[0]);
    else if (s.name === 'fallthrough') h.fallthrough = s.args.map(absoluteZone);
    else if (isIP(s.name.split('%')[0])) h.inline.push([s.name, ...s.args].join(' '));
    else fail(s, ctx, key, `'hosts' property '${s.name}' is not supported by netlet`);
  }
  config.hosts = h;
}

export const PLUGINS: Record<string, PluginReader> = {
  errors,
  log,
  health,
  ready: (d, c, ctx) => {
    argCount(d, ctx, 0, 1);
    noBlock(d, ctx);
    c.ready = address(d, ctx, d.args[0], ':8181');
  },
  prometheus: (d, c, ctx) => {
    argCount(d, ctx, 0, 1);
    noBlock(d, ctx);
    c.prometheus = address(d, ctx, d.args[0], ':9153');
  },
  kubernetes,
  forward,
  cache,
  loop: simple((c) => (c.loop = true)),
  reload,
  loadbalance,
  hosts,
  bind,
  ...FRONT_PLUGINS,
};
