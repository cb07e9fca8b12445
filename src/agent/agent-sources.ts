/** Where the agent's store is filled from: API server, manifest folder, snapshot. */
export interface AgentSources {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** False when the store cannot be trusted (e.g. never synced). */
  healthy(): boolean;
  /** Extra health fields, e.g. { offline: true } when serving from a snapshot. */
  details(): Record<string, unknown>;
}
