import type { ClusterConnection } from '../k8s/connection.ts';

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
