// The real RouteTable: the main table of one network namespace, over the
// shared rtnetlink layer (src/netlink). Routes are written and deleted with
// NODE_ROUTES_PROTOCOL, and the kernel matches the protocol on delete, so a
// foreign route to the same prefix is never the one removed.

import { NetletError } from '../base/errors.ts';
import { errnoName, openBatchSocket } from '../netlink/batch-socket.ts';
import type { BatchSocket } from '../netlink/batch-socket.ts';
import { addRoute, deleteRoute, listRoutes, RouteTable as Tables } from '../netlink/routes.ts';
import type { RouteInfo, RouteSpec } from '../netlink/routes.ts';
import { encodeRouteMessage } from '../netlink/route-message.ts';
import { linkByIndex, linkByName } from '../netlink/links.ts';
import { closeRtnl, openRtnl } from '../netlink/socket.ts';
import type { Rtnl } from '../netlink/socket.ts';
import { NODE_ROUTES_PROTOCOL, describeRoute } from './route-table.ts';
import type { Family, NodeRoute, RouteTable } from './route-table.ts';

/** What the kernel stores when a route is added without a metric (IPv6: IP6_RT_PRIO_USER, include/net/ip6_route.h). */
const DEFAULT_METRIC: Record<Family, number> = { 4: 0, 6: 1024 };

/**
 * Route messages per datagram in applyMany, and datagrams awaiting their
 * ACKs at once: the kernel handles a datagram's messages in one sendmsg and
 * queues an ACK for each, and all of them must fit the socket's receive
 * buffer (256 at once, as the IPVS and kube-ipvs0 batches). Two in flight
 * keep the kernel busy while the answers to the other are read.
 */
const ROUTES_PER_DATAGRAM = 128;
const DATAGRAMS_IN_FLIGHT = 2;
const NETLINK_ROUTE = 0;

export class NetlinkRouteTable implements RouteTable {
  readonly #sock: Rtnl;

  readonly #owned: ReadonlySet<number>;
  readonly #netnsPath: string | undefined;
  /** Opened on the first applyMany. */
  #batch: BatchSocket | undefined;

  /**
   * In this thread's network namespace, or the one at `netnsPath`
   * (/var/run/netns/X, /proc/PID/ns/net). `protocols`: the rtm_protocols
   * netlet owns besides NODE_ROUTES_PROTOCOL (BGP_ROUTES_PROTOCOL with the speaker).
   */
  constructor(netnsPath?: string, protocols: readonly number[] = []) {
    this.#sock = openRtnl(netnsPath);
    this.#netnsPath = netnsPath;
    this.#owned = new Set([NODE_ROUTES_PROTOCOL, ...protocols]);
  }

  async listOwned(): Promise<NodeRoute[]> {
    const all = await listRoutes(this.#sock, { table: Tables.main });
    const out: NodeRoute[] = [];
    // One lookup per device, not per route: a full table of learned routes names a handful of devices.
    const devices = new Map<number, Promise<string | undefined>>();
    const deviceName = (index: number) => {
      let name = devices.get(index);
      if (!name) devices.set(index, (name = linkByIndex(this.#sock, index).then((l) => l?.name)));
      return name;
    };
    for (const r of all) {
      if (!this.#owned.has(r.protocol)) continue;
      if (r.type !== 'unicast' && r.type !== 'blackhole') continue;
      out.push(await this.#toNodeRoute(r, deviceName));
    }
    return out;
  }

  async add(route: NodeRoute): Promise<void> {
    await addRoute(this.#sock, await this.#spec(route));
  }

  async remove(route: NodeRoute): Promise<boolean> {
    return deleteRoute(this.#sock, await this.#spec(route));
  }

  async applyMany(removals: readonly NodeRoute[], additions: readonly NodeRoute[]): Promise<{ removed: Array<boolean | Error>; added: Array<Error | undefined> }> {
    this.#batch ??= openBatchSocket(NETLINK_ROUTE, 'rtnetlink', this.#netnsPath);
    // One lookup per device per call: a tunnel mode names one device for every route.
    const indexes = new Map<string, Promise<number | undefined>>();
    const indexOf = (dev: string) => {
      let index = indexes.get(dev);
      if (!index) indexes.set(dev, (index = linkByName(this.#sock, dev).then((l) => l?.index)));
      return index;
    };
    const removed = await this.#send('delete', removals, indexOf, (errno, r) => {
      if (errno === 0) return true;
      const name = errnoName(errno);
      return name === 'ESRCH' || name === 'ENOENT' ? false : new NetletError('ERR_NETLINK', `delete route ${describeRoute(r)} failed: ${name}`);
    });
    const added = await this.#send('add', additions, indexOf, (errno, r) =>
      errno === 0 ? undefined : new NetletError('ERR_NETLINK', `add route ${describeRoute(r)} failed: ${errnoName(errno)}`),
    );
    return { removed, added };
  }

  /** Sends `routes` as `op` messages, ROUTES_PER_DATAGRAM at a time; each route's outcome from its errno (or the spec's error). */
  async #send<T>(
    op: 'add' | 'delete',
    routes: readonly NodeRoute[],
    indexOf: (dev: string) => Promise<number | undefined>,
    outcome: (errno: number, r: NodeRoute) => T | Error,
  ): Promise<Array<T | Error>> {
    const out = new Array<T | Error>(routes.length);
    let next = 0;
    const sender = async () => {
      while (next < routes.length) {
        const i = next;
        next += ROUTES_PER_DATAGRAM;
        const slice = routes.slice(i, i + ROUTES_PER_DATAGRAM);
        const specs = await Promise.all(slice.map((r) => this.#spec(r, indexOf).catch((err: Error) => err)));
        const sendable = specs.flatMap((spec, j) => (spec instanceof Error ? [] : [{ spec, j }]));
        specs.forEach((spec, j) => {
          if (spec instanceof Error) out[i + j] = spec;
        });
        const errnos = await this.#batch!.batch(sendable.map(({ spec }) => (seq: number) => encodeRouteMessage(op, seq, spec)), { ackLastOnly: true });
        sendable.forEach(({ j }, k) => (out[i + j] = outcome(errnos[k], slice[j])));
      }
    };
    await Promise.all(Array.from({ length: DATAGRAMS_IN_FLIGHT }, sender));
    return out;
  }

  close(): void {
    closeRtnl(this.#sock);
    this.#batch?.close();
  }

  async #spec(route: NodeRoute, indexOf?: (dev: string) => Promise<number | undefined>): Promise<RouteSpec> {
    let oif: number | undefined;
    if (route.dev) {
      oif = indexOf ? await indexOf(route.dev) : (await linkByName(this.#sock, route.dev))?.index;
      if (oif === undefined) throw new Error(`route ${route.dst}: device ${route.dev} does not exist`);
    }
    return {
      dst: route.dst,
      type: route.type,
      gateway: route.type === 'unicast' && !route.gateways ? route.gateway : undefined,
      multipath: route.type === 'unicast' && route.gateways ? route.gateways.map((gateway) => ({ gateway, onlink: route.onlink })) : undefined,
      oif,
      onlink: route.onlink,
      protocol: route.protocol ?? NODE_ROUTES_PROTOCOL,
      table: Tables.main,
      priority: route.metric ?? DEFAULT_METRIC[route.family],
    };
  }

  async #toNodeRoute(r: RouteInfo, deviceName: (index: number) => Promise<string | undefined>): Promise<NodeRoute> {
    const family = r.family;
    const route: NodeRoute = { dst: r.dst, family, type: r.type === 'blackhole' ? 'blackhole' : 'unicast' };
    if (r.gateway) route.gateway = r.gateway;
    if (r.multipath?.length) {
      const gateways = r.multipath.map((h) => h.gateway).sort();
      route.gateway = gateways[0];
      if (gateways.length > 1) route.gateways = gateways;
    }
    if (r.protocol !== NODE_ROUTES_PROTOCOL) route.protocol = r.protocol;
    const metric = r.priority ?? DEFAULT_METRIC[family];
    if (metric !== DEFAULT_METRIC[family]) route.metric = metric;
    if (r.oif && route.type === 'unicast') {
      const dev = await deviceName(r.oif);
      if (dev) route.dev = dev;
    }
    return route;
  }
}
