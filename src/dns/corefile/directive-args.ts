import { ConfigError } from '../../base/errors.ts';
import type { DnsConfig } from './config.ts';
import type { Directive } from './syntax.ts';
import { parseDuration } from './syntax.ts';
import { parseLabelSelector } from '../../k8s/label-selector.ts';

// What every plugin reader shares: the context of the directive, and
// argument checks that refuse by name and line.

export interface PluginContext {
  file: string;
  /** The server block's zones ("." for kubeadm's Corefile). */
  blockZones: string[];
}

export type PluginReader = (d: Directive, config: DnsConfig, ctx: PluginContext) => void;

export function fail(d: Directive, ctx: PluginContext, key: string, why: string): never {
  throw new ConfigError(key, `${ctx.file} line ${d.line}: ${why}`);
}

export function argCount(d: Directive, ctx: PluginContext, min: number, max: number, plugin = d.name): void {
  if (d.args.length < min || d.args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    fail(d, ctx, plugin, `'${d.name}' takes ${want} argument(s), got ${d.args.length}`);
  }
}

export function noBlock(d: Directive, ctx: PluginContext): void {
  if (d.block && d.block.length) fail(d.block[0], ctx, `${d.name} ${d.block[0].name}`, `'${d.name}' has no property '${d.block[0].name}' in netlet`);
}

export function integer(d: Directive, ctx: PluginContext, key: string, text: string | undefined, min: number, max: number): number {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n < min || n > max) fail(d, ctx, key, `'${text}' is not an integer in [${min}, ${max}]`);
  return n;
}

export function duration(d: Directive, ctx: PluginContext, key: string, text: string | undefined): number {
  if (text === undefined) fail(d, ctx, key, `${key} needs a duration`);
  try {
    return parseDuration(text, key);
  } catch (err) {
    return fail(d, ctx, key, (err as Error).message);
  }
}


/** A label selector written as the directive's arguments (`labels`, `namespace_labels`): checked, returned as text. */
export function labelSelector(d: Directive, ctx: PluginContext, key: string): string {
  argCount(d, ctx, 1, Infinity, key);
  const text = d.args.join(' ');
  try {
    parseLabelSelector(text);
  } catch (err) {
    fail(d, ctx, key, (err as Error).message);
  }
  return text;
}
