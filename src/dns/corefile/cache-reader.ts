// The `cache` plugin's reader: its arguments and every property CoreDNS
// documents, into the block's cache settings.
import { defaultCacheSettings } from '../cache/cache-settings.ts';
import type { CacheSettings } from '../cache/cache-settings.ts';
import { absoluteZone } from './config.ts';
import type { DnsConfig } from './config.ts';
import type { Directive } from './syntax.ts';
import { argCount, duration, fail, integer } from './directive-args.ts';
import type { PluginContext } from './directive-args.ts';

/** `success|denial CAPACITY [TTL [MINTTL]]` of `cache`. */
function cacheKind(s: Directive, ctx: PluginContext, limits: CacheSettings): void {
  const key = `cache ${s.name}`;
  argCount(s, ctx, 1, 3, key);
  const success = s.name === 'success';
  const cap = integer(s, ctx, key, s.args[0], 1, 10_000_000);
  if (success) limits.successCapacity = cap;
  else limits.denialCapacity = cap;
  // CoreDNS reserves a TTL of 0 (and below); MINTTL may be 0.
  if (s.args[1] !== undefined) limits[success ? 'successTtl' : 'denialTtl'] = integer(s, ctx, key, s.args[1], 1, 86_400 * 7);
  if (s.args[2] !== undefined) limits[success ? 'successMinTtl' : 'denialMinTtl'] = integer(s, ctx, key, s.args[2], 0, 86_400);
}

function cachePrefetch(s: Directive, ctx: PluginContext, limits: CacheSettings): void {
  const key = 'cache prefetch';
  argCount(s, ctx, 1, 3, key);
  limits.prefetch.amount = integer(s, ctx, key, s.args[0], 0, 1_000_000);
  if (s.args[1] !== undefined) limits.prefetch.durationMs = duration(s, ctx, key, s.args[1]);
  if (s.args[2] !== undefined) {
    const pct = s.args[2];
    if (!pct.endsWith('%')) fail(s, ctx, key, `'${pct}': the percentage needs its % sign (like 10%)`);
    limits.prefetch.percentage = integer(s, ctx, key, pct.slice(0, -1), 10, 90);
  }
}

function cacheServeStale(s: Directive, ctx: PluginContext, limits: CacheSettings): void {
  const key = 'cache serve_stale';
  const upToMs = s.args[0] === undefined ? 3_600_000 : duration(s, ctx, key, s.args[0]);
  const mode = (s.args[1] ?? 'immediate').toLowerCase();
  if (mode !== 'immediate' && mode !== 'verify') fail(s, ctx, key, `'${s.args[1]}' is not a refresh mode (immediate or verify)`);
  const verify = mode === 'verify';
  // After the mode: verify takes VERIFY_TIMEOUT first; both then RESPONSE_TTL and FAILURE_RECHECK.
  const rest = s.args.slice(2);
  const names = verify ? ['VERIFY_TIMEOUT', 'RESPONSE_TTL', 'FAILURE_RECHECK'] : ['RESPONSE_TTL', 'FAILURE_RECHECK'];
  if (rest.length > names.length) fail(s, ctx, key, `'serve_stale … ${mode}' takes at most ${names.join(', ')}; '${rest[names.length]}' is one too many`);
  const given = (name: string) => rest[names.indexOf(name)];
  const ms = (name: string) => (given(name) === undefined ? 0 : duration(s, ctx, key, given(name)));
  const verifyTimeoutMs = ms('VERIFY_TIMEOUT');
  const responseTtlMs = ms('RESPONSE_TTL');
  if (responseTtlMs % 1000 !== 0) fail(s, ctx, key, `RESPONSE_TTL '${given('RESPONSE_TTL')}' must be whole seconds`);
  const failureRecheckMs = ms('FAILURE_RECHECK');
  limits.serveStale = { upToS: Math.floor(upToMs / 1000), verify, verifyTimeoutMs, responseTtlS: responseTtlMs / 1000, failureRecheckMs };
}

function cacheDisable(s: Directive, ctx: PluginContext, limits: CacheSettings): void {
  const key = 'cache disable';
  argCount(s, ctx, 1, Infinity, key);
  const zones = s.args.length > 1 ? s.args.slice(1).map(absoluteZone) : ['.'];
  if (s.args[0] === 'success') limits.disableSuccess = zones;
  else if (s.args[0] === 'denial') limits.disableDenial = zones;
  else fail(s, ctx, key, `'${s.args[0]}': disable takes success or denial`);
}

/** plugin/cache README: `cache [TTL] [ZONES...]` and every property of its block. */
export function cache(d: Directive, config: DnsConfig, ctx: PluginContext): void {
  const limits = defaultCacheSettings();
  let zones = d.args;
  if (zones[0] !== undefined && /^-?\d+$/.test(zones[0])) {
    // README: `cache TTL` caps both kinds; the defaults are 3600 and 1800. CoreDNS reserves 0.
    const ttl = integer(d, ctx, 'cache', zones[0], 1, 86_400 * 7);
    limits.successTtl = ttl;
    limits.denialTtl = ttl;
    zones = zones.slice(1);
  }
  limits.zones = (zones.length ? zones : ctx.blockZones).map(absoluteZone);
  for (const s of d.block ?? []) {
    const key = `cache ${s.name}`;
    switch (s.name) {
      case 'success':
      case 'denial':
        cacheKind(s, ctx, limits);
        break;
      case 'prefetch':
        cachePrefetch(s, ctx, limits);
        break;
      case 'serve_stale':
        cacheServeStale(s, ctx, limits);
        break;
      case 'servfail': {
        argCount(s, ctx, 1, 1, key);
        const ms = duration(s, ctx, key, s.args[0]);
        // RFC 2308 §7.1: SERVFAIL is not to be cached for longer than 5 minutes.
        if (ms > 300_000) fail(s, ctx, key, 'SERVFAIL may be cached for at most 5m');
        limits.servfailTtl = Math.floor(ms / 1000);
        break;
      }
      case 'disable':
        cacheDisable(s, ctx, limits);
        break;
      case 'keepttl':
        argCount(s, ctx, 0, 0, key);
        limits.keepTtl = true;
        break;
      case 'serve_stale_policy':
        argCount(s, ctx, 1, 1, key);
        if (s.args[0] !== 'prefer_positive') fail(s, ctx, key, `'${s.args[0]}' is not a serve_stale policy (prefer_positive is the only one)`);
        limits.preferPositive = true;
        break;
      default:
        fail(s, ctx, key, `'cache' property '${s.name}' is not supported by netlet`);
    }
  }
  config.cache = { enabled: true, successTtl: limits.successTtl, denialTtl: limits.denialTtl, prefetch: limits.prefetch.amount };
  config.cacheLimits = limits;
}
