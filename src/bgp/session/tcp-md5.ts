// TCP MD5 signatures (RFC 2385) for BGP sessions, through netlet's addon
// (native/tcp-md5.c): Node.js cannot set TCP_MD5SIG, and the key must be on
// the socket before its SYN. A dialled session gets a socket made by the
// addon, keyed, then connected by node:net; the listener gets one key per
// peer (accepted sockets inherit it). The kernel then drops every segment
// from that peer address without the right signature.

import net from 'node:net';
import { findAddon } from '../../base/native-addon.ts';
import { NetletError } from '../../base/errors.ts';

interface TcpMd5Addon {
  tcpSocket(family: 4 | 6): number;
  setMd5(fd: number, peer: string, key: Buffer): void;
}

const ADDON = 'netlet_tcp_md5';
let addon: TcpMd5Addon | undefined;

function md5Addon(): TcpMd5Addon {
  addon ??= findAddon<TcpMd5Addon>(ADDON);
  if (addon) return addon;
  throw new NetletError('ERR_BGP_MD5', `TCP MD5 needs native/build/Release/${ADDON}.node: run 'npm install' (it builds the addons with node-gyp)`);
}

/** True when the addon is built (config checks refuse a password early otherwise). */
export const md5Available = (): boolean => (addon ??= findAddon<TcpMd5Addon>(ADDON)) !== undefined;

/** RFC 2385 keys are at most 80 bytes (TCP_MD5SIG_MAXKEYLEN). */
export const MAX_MD5_KEY_BYTES = 80;

/** A socket, not yet connected, whose SYN and every later segment to `host` carry the MD5 signature of `key`. */
export function md5Socket(host: string, key: string): net.Socket {
  const family = net.isIP(host);
  if (family !== 4 && family !== 6) throw new NetletError('ERR_BGP_MD5', `${host} is not an IP address`);
  const a = md5Addon();
  const fd = a.tcpSocket(family);
  try {
    a.setMd5(fd, host, Buffer.from(key));
  } catch (err) {
    // The fd is ours until net.Socket owns it.
    new net.Socket({ fd }).destroy();
    throw err;
  }
  return new net.Socket({ fd, readable: true, writable: true });
}

/** The fd under a listening node:net server (Linux: libuv's TCP handle exposes it). */
function serverFd(server: net.Server): number {
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new NetletError('ERR_BGP_MD5', 'the BGP listener has no socket to set TCP MD5 keys on');
  return fd;
}

/** Puts (or with '' removes) `peer`'s key on a listening server. */
export function setListenerMd5(server: net.Server, peer: string, key: string): void {
  md5Addon().setMd5(serverFd(server), peer, Buffer.from(key));
}
