// For `netlet cleanup`: removes every inter-node route netlet installed (the
// routes of NODE_ROUTES_PROTOCOL in the main table), and nothing else; then
// lets each route mode remove its devices and entries (the reverse of the
// order they were made in: routes first, so none is left naming a device
// being deleted).

import { NetletError } from '../base/errors.ts';
import type { Logger } from '../base/log.ts';
import { knownRouteModes } from './modes.ts';
import type { RouteMode } from './modes.ts';
import { RouteSyncer } from './route-syncer.ts';
import type { RouteTable } from './route-table.ts';

/**
 * Returns how many routes were removed; `table` defaults to this namespace's
 * main table, `modes` to every mode netlet knows (cleanup runs without the
 * agent's config, and a node may have run another mode before).
 */
export async function removeNodeRoutes(log: Logger, table?: RouteTable, givenModes?: readonly RouteMode[]): Promise<number> {
  const modes = givenModes ?? (await knownRouteModes());
  let t = table;
  if (!t) {
    const { NetlinkRouteTable } = await import('./netlink-route-table.ts');
    t = new NetlinkRouteTable();
  }
  try {
    const r = await new RouteSyncer(t, log).sync([]);
    const failed = r.errors.map((e) => e.route);
    // A mode cleans up even when a route could not be removed: its devices are independent of that route.
    for (const mode of modes) {
      try {
        await mode.cleanup?.();
      } catch (err) {
        failed.push(`${mode.name} mode state (${(err as Error).message})`);
      }
    }
    if (failed.length) throw new NetletError('ERR_ROUTES_CLEANUP', `could not remove ${failed.join(', ')}`);
    return r.removed;
  } finally {
    if (!table) t.close();
  }
}
