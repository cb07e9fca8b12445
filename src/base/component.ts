import type { Registry } from 'prom-client';
import type { Logger } from './log.ts';

/**
 * What the agent gives every part it runs (proxier, DNS, routes, …), beside
 * the store that part reads and its own options: each room declares the
 * options it needs, so no room reads the agent's config.
 */
export interface ComponentContext {
  log: Logger;
  /** The registry served on metricsBindAddress /metrics. */
  metrics: Registry;
  nodeName: string;
}

/**
 * A consumer of the store run by the agent. `stop` must leave kernel state in
 * place: a restarted agent adopts what it finds (docs/design/layout.md#data-flows-one-way).
 */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** For /healthz: false when the component has stopped doing its job (e.g. syncs stalled). */
  healthy(): boolean;
  /** For the /healthz body: what an operator should see at once though the component is healthy (e.g. service ports left out). */
  details?(): Record<string, unknown>;
}
