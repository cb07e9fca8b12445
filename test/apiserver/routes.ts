// Resource paths of the API:
//   /api/v1/{plural}[/{name}[/{sub}]]                       cluster-scoped, or all namespaces
//   /api/v1/namespaces/{ns}/{plural}[/{name}[/{sub}]]        namespaced
//   /apis/{group}/{version}/…                               the same under a group
//   /api/v1/watch/…, /apis/{g}/{v}/watch/…                   the old watch prefix
// "/api/v1/namespaces/{ns}" alone is the Namespace object itself.

import type { Catalog } from './catalog.ts';
import type { ResourceInfo } from './resources.ts';

export interface ResourcePath {
  info: ResourceInfo;
  /** '' for cluster-scoped resources and all-namespace collections. */
  namespace: string;
  /** '' for a collection. */
  name: string;
  subresource: string;
  watchPrefix: boolean;
}

export function parseResourcePath(catalog: Catalog, pathname: string): ResourcePath | undefined {
  const parts = pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else return undefined;
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const target = catalog.find(group, version, rest[2]);
    if (target?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  const info = catalog.find(group, version, rest[0] ?? '');
  if (!info || rest.length > 3) return undefined;
  if (namespace && !info.namespaced) return undefined;
  return { info, namespace, name: rest[1] ?? '', subresource: rest[2] ?? '', watchPrefix };
}
