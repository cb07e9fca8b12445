// Whether this node's routes outlived the agent (RFC 4724's "forwarding
// state preserved"): the kernel's main table still holds routes netlet
// wrote, its own blocks' blackholes (NODE_ROUTES_PROTOCOL) or learned
// routes (BGP_ROUTES_PROTOCOL). Then the speaker starts as a restarting one.

import { listRoutes, RouteTable } from '../netlink/routes.ts';
import { closeRtnl, openRtnl } from '../netlink/socket.ts';
import { BGP_ROUTES_PROTOCOL, NODE_ROUTES_PROTOCOL } from '../routes/route-table.ts';

export async function kernelKeptRoutes(): Promise<boolean> {
  const sock = openRtnl();
  try {
    const routes = await listRoutes(sock, { table: RouteTable.main });
    return routes.some((r) => r.protocol === BGP_ROUTES_PROTOCOL || r.protocol === NODE_ROUTES_PROTOCOL);
  } finally {
    closeRtnl(sock);
  }
}
