// For `netlet cleanup`: removes every inter-node route netlet installed (the
// routes of NODE_ROUTES_PROTOCOL in the main table), and nothing else.

import type { Logger } from '../base/log.ts';
import { RouteSyncer } from './route-syncer.ts';
import type { RouteTable } from './route-table.ts';

/** Returns how many routes were removed; `table` defaults to this namespace's main table. */
export async function removeNodeRoutes(log: Logger, table?: RouteTable): Promise<number> {
  let t = table;
  if (!t) {
    const { NetlinkRouteTable } = await import('./netlink-route-table.ts');
    t = new NetlinkRouteTable();
  }
  try {
    const r = await new RouteSyncer(t, log).sync([]);
    if (r.errors.length) throw new Error(`could not remove ${r.errors.map((e) => e.route).join(', ')}`);
    return r.removed;
  } finally {
    if (!table) t.close();
  }
}
