// A proxy mode (proxy.mode) as one module: what the agent, `netlet trace` and
// `netlet cleanup` ask of a backend as a whole, beside the per-family syncs
// of backend.ts. The agent's registry (agent/proxy-backends.ts) maps each
// mode name to its module, loaded only when used, so a new backend is a new
// module and one entry there, not a branch in the proxier or the commands.

import type { Registry } from 'prom-client';
import type { Logger } from '../base/log.ts';
import type { ProxyBackend } from './backend.ts';
import type { Family } from './plan.ts';

/** How often the proxier syncs a backend (ms), from the backend's own config section. */
export interface SyncPeriods {
  /** Least time between two syncs: changes within it are applied together. */
  minSyncPeriod: number;
  /** The periodic sync, the integrity poll (ProxyBackend.intact), the failure backoff's ceiling and the healthz timeout. */
  syncPeriod: number;
  /** Time between periodic full syncs; a backend whose config has no separate one uses its syncPeriod. */
  fullSyncPeriod: number;
}

/**
 * What a rule-writing backend (iptables, nftables) reads of the config: its
 * own section (kube-proxy's iptables: and nftables: sections have the same
 * keys) and conntrack's tcpBeLiberal.
 */
export interface RuleBackendOptions {
  /** The fwmark bit of packets to masquerade. */
  masqueradeBit: number;
  /** When set, the INVALID-drop rule is left out (as kube-proxy does). */
  tcpBeLiberal: boolean;
  periods: SyncPeriods;
}

/** A backend set up from its config, ready for the proxier. */
export interface ConfiguredBackend {
  readonly periods: SyncPeriods;
  /**
   * One backend for one IP family. Throws when the family cannot be proxied
   * on this node (no ip6tables: the proxier then runs IPv4 only).
   */
  create(family: Family): ProxyBackend | Promise<ProxyBackend>;
}

/** What a backend gets from the agent besides its own options. */
export interface BackendEnv {
  log: Logger;
  metrics?: Registry;
}

/** The first packet of a new connection, as `netlet trace` follows it. */
export interface TracePacket {
  src: string;
  dst: string;
  port: number;
  proto: 'tcp' | 'udp' | 'sctp';
}

export interface TraceRequest {
  packet: TracePacket;
  /** This node's addresses: what the rules take for a local address. */
  localAddresses: readonly string[];
  /** `--mode`: which flavour of the backend to read (iptables: nft or legacy); undefined: detected. */
  flavour?: string;
  /** `--from-file`: the rules as the backend dumps them (iptables: iptables-save output), instead of the kernel's. */
  rulesText?: string;
}

export interface TraceReport {
  /** Every way the packet can go, for `--json`. */
  outcomes: readonly unknown[];
  /** The outcomes in words; with every rule that matched when verbose. */
  describe(verbose: boolean): string;
}

export interface CleanupOptions {
  /** Also remove what kube-proxy leaves that netlet never writes (the iptables chains of its IPVS mode). */
  kubeProxy: boolean;
}

/** One part of a cleanup (a table set, a tool flavour, a family). */
export interface CleanupReport {
  /** What was cleaned, e.g. "iptables-nft" or "ip6tables-legacy". */
  what: string;
  /** What `removed` counts, in the singular: "chain". */
  unit: string;
  removed: number;
  /** Why this part could not be cleaned; the others still were. */
  error?: string;
}

/** One proxy mode's module. `Options` is what the backend reads of its own config section. */
export interface ProxyBackendKind<Options> {
  configure(options: Options, env: BackendEnv): ConfiguredBackend;
  /** Where a new connection goes through the live (or dumped) rules. */
  trace(req: TraceRequest): Promise<TraceReport>;
  /** Removes everything of this backend (both families, every flavour) from the kernel. */
  cleanup(opts: CleanupOptions): Promise<CleanupReport[]>;
}
