// rtnetlink sockets, in this namespace or another one.
//
// A netlink socket belongs to the network namespace of the thread that
// created it, and keeps it for life. So to work inside a pod's namespace we
// move the current thread there with setns(2), create the socket, and move
// the thread back before any other JavaScript runs (all of it synchronous,
// inside one try/finally). Every later request on that socket acts in the
// pod's namespace, whatever thread sends it. This costs two syscalls, where
// a worker thread would cost ~10 ms of start-up on each CNI call.
import { createRequire } from 'node:module';
import { closeSync, openSync } from 'node:fs';
import type { RtNetlinkSocket } from 'netlink';
import { setnsAddon } from './native.ts';

export type Rtnl = RtNetlinkSocket;

type RtModule = Pick<typeof import('netlink'), 'createRtNetlink'>;
type RtStructs = (typeof import('netlink'))['rt'];
let netlinkModule: { createRtNetlink: RtModule['createRtNetlink']; rt: RtStructs } | undefined;

/**
 * The rtnetlink part of the `netlink` package, loaded at run time through
 * Node's own resolver rather than bundled: its native binding finds itself
 * relative to its own files (node-gyp-build + __dirname), which a bundle
 * would break. Only dist/rt is loaded, not the package index, which would
 * also load the nl80211 and WireGuard codecs (about half its start-up cost).
 */
export function netlinkPackage(): { createRtNetlink: RtModule['createRtNetlink']; rt: RtStructs } {
  if (!netlinkModule) {
    const require = createRequire(import.meta.url);
    netlinkModule = {
      createRtNetlink: (require('netlink/dist/rt/rt.js') as RtModule).createRtNetlink,
      rt: require('netlink/dist/rt/structs.js') as RtStructs,
    };
  }
  return netlinkModule;
}

/**
 * Runs `fn` synchronously with the current thread inside the network
 * namespace at `netnsPath` (e.g. /var/run/netns/x or /proc/PID/ns/net), then
 * returns the thread to its own namespace. `fn` must not await: only
 * synchronous work (creating a socket, opening a /proc/sys file) is safe.
 */
export function inNetnsSync<T>(netnsPath: string, fn: () => T): T {
  const addon = setnsAddon();
  const target = openSync(netnsPath, 'r');
  const home = addon.currentNetnsFd();
  try {
    addon.setns(target);
    try {
      return fn();
    } finally {
      try {
        addon.setns(home);
      } catch (err) {
        // Continuing on a thread stuck in the wrong namespace would program
        // the wrong kernel; stopping is the only safe answer.
        process.stderr.write(`netlet: cannot return to the original network namespace: ${(err as Error).message}\n`);
        process.abort();
      }
    }
  } finally {
    closeSync(home);
    closeSync(target);
  }
}

/** An rtnetlink socket in this thread's namespace, or in `netnsPath`'s. Close it with `closeRtnl`. */
export function openRtnl(netnsPath?: string): Rtnl {
  const { createRtNetlink } = netlinkPackage();
  return netnsPath ? inNetnsSync(netnsPath, () => createRtNetlink()) : createRtNetlink();
}

/** Closes the socket. Always close before a worker or the process ends (an open one aborted the process). */
export function closeRtnl(sock: Rtnl): void {
  try {
    sock.socket.close();
  } catch {
    // already closed
  }
}

/** Opens a socket, runs `fn`, closes it whatever happens. */
export async function withRtnl<T>(netnsPath: string | undefined, fn: (sock: Rtnl) => Promise<T>): Promise<T> {
  const sock = openRtnl(netnsPath);
  try {
    return await fn(sock);
  } finally {
    closeRtnl(sock);
  }
}
