// CNI results: one internal shape (the 1.x one), printed in the shape of the
// cniVersion the runtime asked for (SPEC.md "Success"; 0.3.x/0.4.0 carry
// ips[].version; 1.1.0 adds interface and route attributes).
import { compareVersions } from './version.ts';

export interface ResultInterface {
  name: string;
  mac?: string;
  /** The netns path for interfaces inside the container; absent on the host. */
  sandbox?: string;
  mtu?: number;
}

export interface ResultIp {
  /** CIDR */
  address: string;
  gateway?: string;
  /** Index into interfaces. */
  interface?: number;
}

export interface ResultRoute {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface Dns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface CniResult {
  cniVersion: string;
  interfaces: ResultInterface[];
  ips: ResultIp[];
  routes: ResultRoute[];
  dns: Dns;
}

export const emptyResult = (cniVersion: string): CniResult => ({ cniVersion, interfaces: [], ips: [], routes: [], dns: {} });

const isV4 = (cidr: string): boolean => !cidr.includes(':');

/** The JSON object to print for `version`. */
export function formatResult(result: CniResult, version: string): Record<string, unknown> {
  const v11 = compareVersions(version, '1.1.0') >= 0;
  const v1 = compareVersions(version, '1.0.0') >= 0;
  const interfaces = result.interfaces.map((i) => {
    const o: Record<string, unknown> = { name: i.name };
    if (i.mac !== undefined) o.mac = i.mac;
    if (v11 && i.mtu !== undefined) o.mtu = i.mtu;
    if (i.sandbox !== undefined) o.sandbox = i.sandbox;
    return o;
  });
  const ips = result.ips.map((ip) => {
    const o: Record<string, unknown> = {};
    if (!v1) o.version = isV4(ip.address) ? '4' : '6';
    if (ip.interface !== undefined) o.interface = ip.interface;
    o.address = ip.address;
    if (ip.gateway !== undefined) o.gateway = ip.gateway;
    return o;
  });
  const routes = result.routes.map((r) => {
    const o: Record<string, unknown> = { dst: r.dst };
    if (r.gw !== undefined) o.gw = r.gw;
    if (v11) {
      for (const k of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) if (r[k] !== undefined) o[k] = r[k];
    }
    return o;
  });
  const out: Record<string, unknown> = { cniVersion: version, interfaces, ips, routes, dns: result.dns };
  return out;
}

/**
 * Reads a prevResult of any supported version into the internal shape.
 * Returns undefined for a missing one; throws TypeError naming the field.
 */
export function parsePrevResult(raw: unknown, cniVersion: string): CniResult | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new TypeError('prevResult: expected an object');
  const r = raw as Record<string, unknown>;
  const list = (k: string): Array<Record<string, unknown>> => {
    const v = r[k];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || x === null)) throw new TypeError(`prevResult.${k}: expected a list of objects`);
    return v as Array<Record<string, unknown>>;
  };
  const str = (o: Record<string, unknown>, k: string, where: string, required = false): string | undefined => {
    const v = o[k];
    if (v === undefined) {
      if (required) throw new TypeError(`${where}.${k}: required`);
      return undefined;
    }
    if (typeof v !== 'string') throw new TypeError(`${where}.${k}: expected a string`);
    return v;
  };
  const num = (o: Record<string, unknown>, k: string, where: string): number | undefined => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number') throw new TypeError(`${where}.${k}: expected a number`);
    return v;
  };
  return {
    cniVersion: typeof r.cniVersion === 'string' ? r.cniVersion : cniVersion,
    interfaces: list('interfaces').map((o, i) => ({
      name: str(o, 'name', `prevResult.interfaces[${i}]`, true)!,
      mac: str(o, 'mac', `prevResult.interfaces[${i}]`),
      sandbox: str(o, 'sandbox', `prevResult.interfaces[${i}]`),
      mtu: num(o, 'mtu', `prevResult.interfaces[${i}]`),
    })),
    ips: list('ips').map((o, i) => ({
      address: str(o, 'address', `prevResult.ips[${i}]`, true)!,
      gateway: str(o, 'gateway', `prevResult.ips[${i}]`),
      interface: num(o, 'interface', `prevResult.ips[${i}]`),
    })),
    routes: list('routes').map((o, i) => {
      const route: ResultRoute = { dst: str(o, 'dst', `prevResult.routes[${i}]`, true)! };
      const gw = str(o, 'gw', `prevResult.routes[${i}]`);
      if (gw !== undefined) route.gw = gw;
      for (const k of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) {
        const v = num(o, k, `prevResult.routes[${i}]`);
        if (v !== undefined) route[k] = v;
      }
      return route;
    }),
    dns: (typeof r.dns === 'object' && r.dns !== null ? r.dns : {}) as Dns,
  };
}

/**
 * Chaining: this plugin's result appended to what earlier plugins returned,
 * with this plugin's ips[].interface indexes shifted past theirs.
 */
export function mergeResults(prev: CniResult | undefined, mine: CniResult): CniResult {
  if (!prev) return mine;
  const shift = prev.interfaces.length;
  return {
    cniVersion: mine.cniVersion,
    interfaces: [...prev.interfaces, ...mine.interfaces],
    ips: [...prev.ips, ...mine.ips.map((ip) => (ip.interface === undefined ? ip : { ...ip, interface: ip.interface + shift }))],
    routes: [...prev.routes, ...mine.routes],
    dns: Object.keys(mine.dns).length ? mine.dns : prev.dns,
  };
}
