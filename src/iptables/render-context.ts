import type { Family } from '../proxier/plan.ts';

/** What the renderer needs besides the plans; no policy, only node facts and config. */
export interface RenderContext {
  family: Family;
  /** The masquerade mark as iptables prints it, e.g. "0x4000" (bit 14). */
  masqMark: string;
  /** Node addresses that accept NodePorts; empty means every local address. */
  nodePortAddresses: string[];
  /** nf_conntrack_tcp_be_liberal is set: then INVALID packets need not be dropped. */
  tcpBeLiberal: boolean;
  /**
   * More than 1,000 endpoints in all: leave `-m comment` out of the
   * per-service chains, as kube-proxy does (rules ~40% smaller).
   */
  largeCluster: boolean;
}

/** kube-proxy's threshold for dropping comments (largeClusterEndpointsThreshold). */
export const LARGE_CLUSTER_ENDPOINTS = 1000;

export function masqueradeMark(bit: number): string {
  return `0x${(1 << bit >>> 0).toString(16)}`;
}

/** The loopback range NodePorts are not offered on. */
export function hostLoopback(family: Family): string {
  return family === 6 ? '::1/128' : '127.0.0.0/8';
}
