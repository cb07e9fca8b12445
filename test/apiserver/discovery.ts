// Discovery documents kubectl reads before anything else: /api (APIVersions),
// /apis (APIGroupList), /apis/<group>, /api/v1 and /apis/<group>/<version>
// (APIResourceList), /version. Served as plain application/json, so kubectl
// falls back from aggregated discovery to these legacy documents.

import type { Catalog } from './catalog.ts';
import type { ResourceInfo } from './resources.ts';
import { VERBS } from './resources.ts';

const STATUS_SUBRESOURCE = new Set(['services', 'pods', 'nodes', 'namespaces', 'customresourcedefinitions']);

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-netlet-test',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

function resourceEntries(r: ResourceInfo): object[] {
  const main: Record<string, unknown> = {
    name: r.plural,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: VERBS,
  };
  if (r.shortNames.length) main.shortNames = r.shortNames;
  if (r.categories.length) main.categories = r.categories;
  const out: object[] = [main];
  if (STATUS_SUBRESOURCE.has(r.plural) && !r.custom) {
    out.push({ name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] });
  }
  return out;
}

function groups(catalog: Catalog): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of catalog.all()) {
    if (!r.group) continue;
    const versions = m.get(r.group) ?? [];
    if (!versions.includes(r.version)) versions.push(r.version);
    m.set(r.group, versions);
  }
  return m;
}

function groupDoc(name: string, versions: string[]): object {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

/** The discovery document at `path`, or undefined when the path is not a discovery path. */
export function discoveryDoc(catalog: Catalog, path: string, serverAddress: string): object | undefined {
  if (path === '/api') {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  }
  if (path === '/apis') {
    const list = [...groups(catalog)].map(([name, versions]) => groupDoc(name, versions));
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: list };
  }
  if (path === '/version') return VERSION_INFO;
  const core = /^\/api\/(v1)$/.exec(path);
  const grouped = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
  if (core || grouped) {
    const group = grouped ? grouped[1] : '';
    const version = grouped ? grouped[2] : 'v1';
    const rs = catalog.all().filter((r) => r.group === group && r.version === version);
    if (rs.length === 0) return undefined;
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources: rs.flatMap(resourceEntries),
    };
  }
  const g = /^\/apis\/([^/]+)$/.exec(path);
  if (g) {
    const versions = groups(catalog).get(g[1]);
    if (!versions) return undefined;
    return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g[1], versions) };
  }
  return undefined;
}
