import type { ClusterConnection } from '../k8s/connection.ts';
import type { RequestLimits } from '../k8s/request-limiter.ts';

/**
 * How `netlet dns` reaches the API server and what it lists, from the
 * Corefile's `kubernetes` properties (CoreDNS's client settings).
 */
export interface SourceAccess {
  /** With a kubeconfig: this context instead of the file's current one. */
  context?: string;
  /** This API server URL (and client certificates) instead of the kubeconfig chain; ignored with --kubeconfig or --manifests. */
  endpoint?: { url: string; tls?: { cert: string; key: string; ca: string } };
  limits?: RequestLimits;
  /** Only Services, EndpointSlices and Pods with matching labels are kept (sent to the API server; applied to manifests). */
  labelSelector?: string;
}

/** Where the agent's store is filled from: API server, manifest folder, snapshot. */
export interface AgentSources {
  /**
   * The API server connection the store is filled from (absent with a
   * manifest folder): the agent's identity, which its other API users (the
   * CNI server's block claims) share instead of finding their own.
   */
  readonly connection?: ClusterConnection;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** False when the store cannot be trusted (e.g. never synced). */
  healthy(): boolean;
  /** Extra health fields, e.g. { offline: true } when serving from a snapshot. */
  details(): Record<string, unknown>;
}
