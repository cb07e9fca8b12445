import type { Registry } from 'prom-client';
import type { ObjectStore } from '../k8s/store.ts';
import type { AgentConfig } from './config.ts';
import type { Logger } from './log.ts';

/** What every part the agent runs (proxier, DNS, routes, …) is given. */
export interface AgentContext {
  config: AgentConfig;
  log: Logger;
  store: ObjectStore;
  /** The registry served on metricsBindAddress /metrics. */
  metrics: Registry;
  nodeName: string;
}

/**
 * A consumer of the store run by the agent. `stop` must leave kernel state in
 * place (ARCHITECTURE.md: a restarted agent adopts what it finds).
 */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** For /healthz: false when the component has stopped doing its job (e.g. syncs stalled). */
  healthy(): boolean;
}
