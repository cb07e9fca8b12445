import type { ComponentContext } from '../base/component.ts';
import type { ObjectStore } from '../k8s/store.ts';
import type { AgentConfig } from './config.ts';

export type { Component, ComponentContext } from '../base/component.ts';

/** The agent's own context: what every component gets, plus the whole config and the store. */
export interface AgentContext extends ComponentContext {
  config: AgentConfig;
  store: ObjectStore;
}
