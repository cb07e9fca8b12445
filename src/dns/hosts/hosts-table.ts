import net from 'node:net';
import { reverseName } from './reverse-name.ts';

/** The `hosts` plugin's configuration (CoreDNS plugin/hosts README). */
export interface HostsConfig {
  /** The hosts file; '' for inline entries only. CoreDNS's default is /etc/hosts. */
  file: string;
  /** Inline lines from the Corefile block, in hosts(5) form; they win over the file's. */
  inline: string[];
  /** Zones answered; names outside them are passed on. */
  zones: string[];
  ttl: number;
  noReverse: boolean;
  /** null: no fallthrough (names in the zones that are not in the table are NXDOMAIN); [] = every zone. */
  fallthrough: string[] | null;
  /** How often the file is re-read (ms); 0 = never. CoreDNS: 5 s. */
  reloadMs: number;
}

export interface HostsEntry {
  v4: string[];
  v6: string[];
}

/** Names (absolute, lowercase) → addresses, and reverse names → names, from hosts(5) lines. */
export class HostsTable {
  readonly names = new Map<string, HostsEntry>();
  readonly reverse = new Map<string, string[]>();

  static parse(lines: string[], noReverse = false): HostsTable {
    const t = new HostsTable();
    for (const raw of lines) {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) continue;
      const [addrText, ...names] = line.split(/\s+/);
      const addr = addrText.split('%')[0];
      const family = net.isIP(addr);
      if (!family || names.length === 0) continue; // hosts(5) lines we cannot use are skipped, as libc does
      for (const n of names) {
        const name = n.toLowerCase().endsWith('.') ? n.toLowerCase() : `${n.toLowerCase()}.`;
        let e = t.names.get(name);
        if (!e) t.names.set(name, (e = { v4: [], v6: [] }));
        const list = family === 4 ? e.v4 : e.v6;
        if (!list.includes(addr)) list.push(addr);
        if (!noReverse && !name.startsWith('*.')) {
          const r = reverseName(addr);
          const targets = t.reverse.get(r) ?? [];
          if (!targets.includes(name)) targets.push(name);
          t.reverse.set(r, targets);
        }
      }
    }
    return t;
  }

  /** Inline lines override the file's entries for the same name (README: "entries will be overridden"). */
  static merge(fileTable: HostsTable, inline: HostsTable): HostsTable {
    const t = new HostsTable();
    for (const [k, v] of fileTable.names) t.names.set(k, v);
    for (const [k, v] of inline.names) t.names.set(k, v);
    for (const [k, v] of fileTable.reverse) t.reverse.set(k, v);
    for (const [k, v] of inline.reverse) t.reverse.set(k, v);
    return t;
  }

  /** Exact name, else a `*.parent` wildcard matching exactly one more label (README: apex excluded). */
  lookup(name: string): HostsEntry | undefined {
    const exact = this.names.get(name);
    if (exact) return exact;
    const dot = name.indexOf('.');
    if (dot < 0 || dot === name.length - 1) return undefined;
    return this.names.get(`*.${name.slice(dot + 1)}`);
  }

  get size(): number {
    return this.names.size;
  }
}
