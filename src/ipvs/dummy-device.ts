// kube-ipvs0: the dummy device, left down, that holds every ClusterIP,
// external IP and load balancer IP as a /32 (/128), so the kernel takes
// packets to them as local and hands them to IPVS at LOCAL_IN. Addresses
// are added and removed through rtnetlink, only the difference from what
// the device holds, many per datagram.

import { closeRtnl, deleteLink, encodeAddressMessage, ensureDummy, linkByName, listAddresses, openRtnl, withRtnl } from '../netlink/index.ts';
import { errnoName, openBatchSocket } from '../netlink/batch-socket.ts';
import { BATCH_WINDOW } from '../netlink/ipvs.ts';
import { NetletError } from '../base/errors.ts';

const NETLINK_ROUTE = 0;
import type { Rtnl } from '../netlink/index.ts';
import type { Family } from '../base/family.ts';

export const DUMMY_DEVICE = 'kube-ipvs0';

/** What the backend asks of the device: a fake in the unit tests. */
export interface AddressHolder {
  /** Makes the device hold exactly `wanted` of `family`; returns how many addresses changed. */
  sync(family: Family, wanted: ReadonlySet<string>): Promise<number>;
  /** Addresses of `family` it holds now. */
  addresses(family: Family): Promise<string[]>;
  /** Adds and removes the given addresses only (a partial sync); with nothing known, a whole sync to `all()`. */
  applyDelta(family: Family, adds: readonly string[], dels: readonly string[], all: () => ReadonlySet<string>): Promise<number>;
  /** Forget what is known: the next sync reads the device again (full syncs). */
  invalidate(): void;
}

const prefixOf = (family: Family): number => (family === 4 ? 32 : 128);

export class KubeIpvs0 implements AddressHolder {
  /** The device's index once ensured; addresses of each family as last synced. */
  #index = 0;
  #known = new Map<Family, Set<string>>();

  async #ensure(sock: Rtnl): Promise<number> {
    // The index changes when someone deletes and recreates the device: look it up each sync.
    const link = await ensureDummy(sock, DUMMY_DEVICE);
    if (link.index !== this.#index) this.#known.clear();
    this.#index = link.index;
    return link.index;
  }

  async addresses(family: Family): Promise<string[]> {
    return this.#with(async (sock) => {
      const index = await this.#ensure(sock);
      return (await listAddresses(sock, index)).filter((a) => a.family === family).map((a) => a.cidr.slice(0, a.cidr.indexOf('/')));
    });
  }

  invalidate(): void {
    this.#known.clear();
  }

  async applyDelta(family: Family, adds: readonly string[], dels: readonly string[], all: () => ReadonlySet<string>): Promise<number> {
    const held = this.#known.get(family);
    if (!held || !this.#index) return this.sync(family, all());
    if (adds.length === 0 && dels.length === 0) return 0;
    return this.#change(family, this.#index, held, adds, dels);
  }

  /** Applies the changes and keeps `held` equal to the device's addresses; forgets them when a batch fails (the next sync lists them again). */
  async #change(family: Family, index: number, held: Set<string>, adds: readonly string[], dels: readonly string[]): Promise<number> {
    try {
      await this.#batch(family, index, adds, dels);
    } catch (err) {
      this.#known.delete(family);
      throw err;
    }
    for (const ip of adds) held.add(ip);
    for (const ip of dels) held.delete(ip);
    return adds.length + dels.length;
  }

  /** Adds and deletes addresses in batches (many per datagram); one already there, or already gone, is no failure. */
  async #batch(family: Family, index: number, adds: readonly string[], dels: readonly string[]): Promise<void> {
    const changes = [...adds.map((ip) => ['add', ip] as const), ...dels.map((ip) => ['delete', ip] as const)];
    if (changes.length === 0) return;
    const sock = openBatchSocket(NETLINK_ROUTE, 'rtnetlink');
    try {
      for (let i = 0; i < changes.length; i += BATCH_WINDOW) {
        const window = changes.slice(i, i + BATCH_WINDOW);
        const errnos = await sock.batch(window.map(([op, ip]) => (seq: number) => encodeAddressMessage(op, seq, index, `${ip}/${prefixOf(family)}`)));
        errnos.forEach((errno, j) => {
          const [op, ip] = window[j];
          const name = errnoName(errno);
          if (errno === 0 || (op === 'add' && name === 'EEXIST') || (op === 'delete' && name === 'EADDRNOTAVAIL')) return;
          throw new NetletError('ERR_NETLINK', `${op} address ${ip} on ${DUMMY_DEVICE} failed: ${name}`);
        });
      }
    } finally {
      sock.close();
    }
  }

  async sync(family: Family, wanted: ReadonlySet<string>): Promise<number> {
    const known = this.#known.get(family);
    // Nothing to change: no socket, no round trip (a partial sync of endpoints only).
    if (known && known.size === wanted.size && [...wanted].every((ip) => known.has(ip))) return 0;
    return this.#with(async (sock) => {
      const index = await this.#ensure(sock);
      let held = this.#known.get(family);
      if (!held) {
        held = new Set((await listAddresses(sock, index)).filter((a) => a.family === family).map((a) => a.cidr.slice(0, a.cidr.indexOf('/'))));
        this.#known.set(family, held);
      }
      const adds = [...wanted].filter((ip) => !held.has(ip));
      const dels = [...held].filter((ip) => !wanted.has(ip));
      return this.#change(family, index, held, adds, dels);
    });
  }

  async #with<T>(fn: (sock: Rtnl) => Promise<T>): Promise<T> {
    const sock = openRtnl();
    try {
      return await fn(sock);
    } finally {
      closeRtnl(sock);
    }
  }
}

/** Deletes kube-ipvs0 (cleanup); false when there was none. */
export async function deleteDummyDevice(): Promise<boolean> {
  return withRtnl(undefined, async (sock) => ((await linkByName(sock, DUMMY_DEVICE)) ? deleteLink(sock, DUMMY_DEVICE) : false));
}
