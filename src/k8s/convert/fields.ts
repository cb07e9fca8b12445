// Validation helpers shared by the converters. Raw API JSON is untrusted: any
// value may be null or of the wrong type at any depth, and the only error a
// converter may throw is InvalidObjectError naming the field. Written by hand
// rather than with a schema library because the reflector decodes thousands of
// EndpointSlices per second: these helpers read each value once and copy only
// what the slim objects keep.

import { isIP } from 'node:net';
import { InvalidObjectError } from '../../base/errors.ts';
import type { IPFamily, Kind, ObjectMeta, Protocol } from '../objects.ts';
import { dns1035LabelProblem, dns1123LabelProblem, dns1123SubdomainProblem, ianaSvcNameProblem, labelValueProblem } from './names.ts';

export type Raw = Record<string, unknown>;

/** Which object is being converted, for error messages ("Service default/web"). */
export interface Ctx {
  kind: string;
  ref: string;
}

const EMPTY: readonly unknown[] = Object.freeze([]);

export function fail(c: Ctx, field: string, reason: string): never {
  throw new InvalidObjectError(c.kind, c.ref, field, reason);
}

/**
 * Rethrows `err`, an error from converting a part of an object whose field
 * names were given relative to `prefix` (e.g. "endpoints[3]"), with the
 * whole path. A hot loop thus builds a field path only for the part that
 * fails, not for every field of every item it checks.
 */
export function rethrowWithin(c: Ctx, prefix: string, err: unknown): never {
  if (!(err instanceof InvalidObjectError)) throw err;
  return fail(c, err.field ? `${prefix}.${err.field}` : prefix, err.reason);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 64 ? v.slice(0, 64) + '…' : v);
  return `${typeof v} ${String(v)}`;
}

/** A mapping, or undefined when absent/null. */
export function record(c: Ctx, v: unknown, field: string): Raw | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) fail(c, field, `expected a mapping, got ${describe(v)}`);
  return v as Raw;
}

/** A list; absent/null is the empty list (the API omits empty lists). */
export function list(c: Ctx, v: unknown, field: string): readonly unknown[] {
  if (v === undefined || v === null) return EMPTY;
  if (!Array.isArray(v)) fail(c, field, `expected a list, got ${describe(v)}`);
  return v;
}

export function string(c: Ctx, v: unknown, field: string, dflt = ''): string {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string') fail(c, field, `expected a string, got ${describe(v)}`);
  return v;
}

export function optionalString(c: Ctx, v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(c, field, `expected a string, got ${describe(v)}`);
  return v;
}

export function bool(c: Ctx, v: unknown, field: string, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') fail(c, field, `expected true or false, got ${describe(v)}`);
  return v;
}

export function int(c: Ctx, v: unknown, field: string, dflt: number, min: number, max: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(c, field, `expected an integer, got ${describe(v)}`);
  if (v < min || v > max) fail(c, field, `${v} is outside ${min}-${max}`);
  return v;
}

/** A required port number 1-65535. */
export function port(c: Ctx, v: unknown, field: string): number {
  if (v === undefined || v === null) fail(c, field, 'required');
  return int(c, v, field, 0, 1, 65535);
}

/** An allocated port such as a nodePort: 0 (or absent) means none. */
export function optionalPort(c: Ctx, v: unknown, field: string): number {
  return int(c, v, field, 0, 0, 65535);
}

/** Absent means TCP, as the API defaults it. */
export function protocol(c: Ctx, v: unknown, field: string): Protocol {
  if (v === undefined || v === null || v === 'TCP') return 'TCP';
  if (v === 'UDP' || v === 'SCTP') return v;
  return fail(c, field, `unknown protocol ${describe(v)} (expected TCP, UDP or SCTP)`);
}

export function oneOf<T extends string>(c: Ctx, v: unknown, field: string, allowed: readonly T[], dflt: T): T {
  if (v === undefined || v === null || v === '') return dflt;
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  return fail(c, field, `must be one of ${allowed.join(', ')}, got ${describe(v)}`);
}

export function ipFamily(c: Ctx, v: unknown, field: string): IPFamily {
  if (v === 'IPv4' || v === 'IPv6') return v;
  return fail(c, field, `expected IPv4 or IPv6, got ${describe(v)}`);
}

/**
 * An IP address; `family` 4 or 6 restricts it. A zone ("fe80::5%eth0"),
 * which node:net accepts, is refused as the API server refuses it: iptables
 * cannot parse it, and it is not an address of a service or endpoint.
 */
export function ip(c: Ctx, v: unknown, field: string, family?: 4 | 6): string {
  if (typeof v !== 'string') fail(c, field, `expected an IP address, got ${describe(v)}`);
  const f = v.includes('%') ? 0 : isIP(v);
  if (f === 0) fail(c, field, `invalid IP address ${describe(v)}`);
  if (family !== undefined && f !== family) fail(c, field, `${v} is not an IPv${family} address`);
  return v;
}

export function ipList(c: Ctx, v: unknown, field: string): string[] {
  const items = list(c, v, field);
  const out: string[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) out[i] = ip(c, items[i], `${field}[${i}]`);
  return out;
}

/** "address/prefix" with a valid address and a prefix within the family's width. */
export function cidr(c: Ctx, v: unknown, field: string): string {
  if (typeof v !== 'string') fail(c, field, `expected a CIDR, got ${describe(v)}`);
  const slash = v.indexOf('/');
  const family = slash > 0 && !v.includes('%') ? isIP(v.slice(0, slash)) : 0;
  const bits = v.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : -1;
  if (family === 0 || prefix < 0 || prefix > (family === 4 ? 32 : 128)) fail(c, field, `invalid CIDR ${describe(v)}`);
  return v;
}

export function cidrList(c: Ctx, v: unknown, field: string): string[] {
  const items = list(c, v, field);
  const out: string[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) out[i] = cidr(c, items[i], `${field}[${i}]`);
  return out;
}

/** A name checked by one of names.ts's rules; the empty string passes (callers decide whether one is required). */
function named(problem: (v: string) => string): (c: Ctx, v: unknown, field: string) => string {
  return (c, v, field) => {
    const s = string(c, v, field);
    const reason = s ? problem(s) : '';
    if (reason) fail(c, field, `${describe(s)} ${reason}`);
    return s;
  };
}

/** Service port names, hostnames, namespaces. */
export const dnsLabel = named(dns1123LabelProblem);
/** Node, Pod, EndpointSlice names; node names in endpoints and pods. */
export const dnsSubdomain = named(dns1123SubdomainProblem);
/** A named targetPort. */
export const ianaSvcName = named(ianaSvcNameProblem);
/** A label's value (e.g. kubernetes.io/service-name). */
export const labelValue = named(labelValueProblem);

/**
 * `a` in an array of its own length, for a list grown by push that is kept:
 * a pushed-to array has spare room (docs/design/v8-heap.md#arrays-sized-to-their-length).
 */
export function sized<T>(a: T[]): T[] {
  return a.length === 0 ? [] : a.slice();
}

/** labels/annotations: string → string; other values are an error. */
export function stringMap(c: Ctx, v: unknown, field: string): Record<string, string> {
  const m = record(c, v, field);
  if (!m) return {};
  for (const k in m) {
    if (typeof m[k] !== 'string') fail(c, `${field}.${k}`, `expected a string, got ${describe(m[k])}`);
    labelValue(c, m[k], `${field}.${k}`);
  }
  return m as Record<string, string>;
}

/** Reads a label or annotation without copying the map. */
export function mapValue(c: Ctx, m: Raw | undefined, field: string, key: string): string {
  if (!m) return '';
  const v = m[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') fail(c, `${field}.${key}`, `expected a string, got ${describe(v)}`);
  return v;
}

/** The same for a label, whose value must be a label value. */
export function labelOf(c: Ctx, m: Raw | undefined, key: string): string {
  return labelValue(c, mapValue(c, m, 'metadata.labels', key), `metadata.labels.${key}`);
}

/**
 * The API server's rule for each kind's name: a Service's is a DNS-1035
 * label (it becomes a DNS name), a Namespace's a DNS-1123 label, the
 * others' DNS-1123 subdomains. Namespaces of namespaced kinds are DNS-1123 labels.
 */
const NAME_RULES: { readonly [K in Kind]: (v: string) => string } = {
  Service: dns1035LabelProblem,
  Namespace: dns1123LabelProblem,
  EndpointSlice: dns1123SubdomainProblem,
  Node: dns1123SubdomainProblem,
  Pod: dns1123SubdomainProblem,
  IPAMBlock: dns1123SubdomainProblem,
  BGPConfiguration: dns1123SubdomainProblem,
  BGPPeer: dns1123SubdomainProblem,
  // Named after the exported Service, whose name is a DNS-1035 label.
  ServiceImport: dns1035LabelProblem,
};

export interface Converted {
  meta: ObjectMeta;
  ctx: Ctx;
  labels: Raw | undefined;
  annotations: Raw | undefined;
}

/**
 * metadata → ObjectMeta. Namespaced kinds without a namespace get "default"
 * (what kubectl does with a manifest that names none); cluster-scoped kinds
 * always get ''.
 */
export function meta(kind: Kind, raw: unknown, namespaced: boolean): Converted {
  const top: Ctx = { kind, ref: '' };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(top, '<root>', `expected an object, got ${describe(raw)}`);
  const m = record(top, (raw as Raw).metadata, 'metadata');
  if (!m) fail(top, 'metadata', 'required');
  const name = string(top, m.name, 'metadata.name');
  const namespace = namespaced ? string(top, m.namespace, 'metadata.namespace') || 'default' : '';
  const ctx = namedCtx(kind, namespace, name, namespaced);
  const uid = string(ctx, m.uid, 'metadata.uid');
  const resourceVersion = string(ctx, m.resourceVersion, 'metadata.resourceVersion');
  return {
    meta: { namespace, name, uid, resourceVersion },
    ctx,
    labels: record(ctx, m.labels, 'metadata.labels'),
    annotations: record(ctx, m.annotations, 'metadata.annotations'),
  };
}

/**
 * The context naming an object, after checking its name and namespace by
 * the API server's rules (throws when they break them). An invalid name or
 * namespace is quoted in the error's ref: it may hold newlines or anything
 * else a log line or a terminal should not get raw.
 */
export function namedCtx(kind: Kind, namespace: string, name: string, namespaced: boolean): Ctx {
  const nsProblem = namespace ? dns1123LabelProblem(namespace) : '';
  const nameProblem = name ? NAME_RULES[kind](name) : '';
  const shown = (v: string, problem: string) => (problem ? describe(v) : v);
  const ctx: Ctx = { kind, ref: namespaced ? `${shown(namespace, nsProblem)}/${shown(name, nameProblem)}` : shown(name, nameProblem) };
  if (namespaced && !namespace) fail(ctx, 'metadata.namespace', 'required');
  if (nsProblem) fail(ctx, 'metadata.namespace', `${describe(namespace)} ${nsProblem}`);
  if (!name) fail(ctx, 'metadata.name', 'required');
  if (nameProblem) fail(ctx, 'metadata.name', `${describe(name)} ${nameProblem}`);
  return ctx;
}
