// Network sysctls (/proc/sys/net/...), in this namespace or another one.
// /proc/sys/net resolves to the namespace of the thread that opens the file,
// so for another namespace the file is opened inside it (inNetnsSync) and
// then read or written from here.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { inNetnsSync } from './socket.ts';

const path = (key: string): string => `/proc/sys/${key.replace(/\./g, '/')}`;

function open(key: string, flags: 'r' | 'r+', netnsPath?: string): number {
  return netnsPath ? inNetnsSync(netnsPath, () => openSync(path(key), flags)) : openSync(path(key), flags);
}

/**
 * Reads a sysctl, e.g. 'net.ipv4.ip_forward'. Interface names may contain
 * dots, so per-interface keys use a slash there: 'net/ipv4/conf/eth0/proxy_arp'
 * style paths are accepted as well.
 */
export function readSysctl(key: string, netnsPath?: string): string {
  const fd = open(key, 'r', netnsPath);
  try {
    const buf = Buffer.alloc(256);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString().trim();
  } finally {
    closeSync(fd);
  }
}

/** Writes a sysctl only when it differs (a write is a change event the kernel logs and propagates). Returns true if it wrote. */
export function ensureSysctl(key: string, value: string, netnsPath?: string): boolean {
  const fd = open(key, 'r+', netnsPath);
  try {
    const buf = Buffer.alloc(256);
    const n = readSync(fd, buf, 0, buf.length, 0);
    if (buf.subarray(0, n).toString().trim() === value) return false;
    writeSync(fd, value + '\n', 0);
    return true;
  } finally {
    closeSync(fd);
  }
}

/** A per-interface key: ifaceSysctl(4, 'vethX', 'proxy_arp') → 'net/ipv4/conf/vethX/proxy_arp'. */
export function ifaceSysctl(family: 4 | 6, iface: string, leaf: string): string {
  return `net/ipv${family}/conf/${iface}/${leaf}`;
}
