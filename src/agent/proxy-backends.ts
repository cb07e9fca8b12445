// The proxy modes (proxy.mode) and the backend module of each, loaded only
// when used: the agent creates the configured one, `netlet trace` asks the
// one named, `netlet cleanup` every one. A new backend is one entry here and
// its own module (proxier/backend-kind.ts), not a branch in the commands.

import { ConfigError } from '../base/errors.ts';
import type { BackendEnv, ConfiguredBackend, ProxyBackendKind } from '../proxier/backend-kind.ts';
import { ipvsBackendOptions, ruleBackendOptions } from './config.ts';
import type { AgentConfig } from './config.ts';

interface ProxyMode<Options> {
  load(): Promise<ProxyBackendKind<Options>>;
  /** What the backend reads of the config: its own section. */
  options(config: AgentConfig): Options;
}

/** A mode the config schema accepts (kube-proxy's files name it) but netlet has no backend for: why, for the error. */
interface RefusedMode {
  refused: string;
}

// Each entry checked against its own module's Options, then kept without them.
const mode = <Options>(m: ProxyMode<Options>): ProxyMode<unknown> => m as ProxyMode<unknown>;

const PROXY_MODES: Readonly<Record<string, ProxyMode<unknown> | RefusedMode>> = {
  iptables: mode({
    load: async () => (await import('../iptables/kind.ts')).iptablesKind,
    options: (config) => ruleBackendOptions(config, 'iptables'),
  }),
  nftables: mode({
    load: async () => (await import('../nftables/kind.ts')).nftablesKind,
    options: (config) => ruleBackendOptions(config, 'nftables'),
  }),
  ipvs: mode({
    load: async () => (await import('../ipvs/kind.ts')).ipvsKind,
    options: (config) => ipvsBackendOptions(config),
  }),
};

function proxyMode(name: string): ProxyMode<unknown> {
  const m = PROXY_MODES[name];
  if (!m) throw new ConfigError('proxy.mode', `netlet has no ${JSON.stringify(name)} backend; use ${runnableModes().join(', ')} (or none)`);
  if ('refused' in m) throw new ConfigError('proxy.mode', m.refused);
  return m;
}

/** The modes netlet has a backend for. */
export function runnableModes(): string[] {
  return Object.entries(PROXY_MODES).flatMap(([name, m]) => ('refused' in m ? [] : [name]));
}

/** The backend module of a mode, for trace and cleanup; a ConfigError naming proxy.mode when netlet has none. */
export async function proxyBackendKind(name: string): Promise<ProxyBackendKind<unknown>> {
  return proxyMode(name).load();
}

/** The config's proxy mode, set up from its own config section; undefined for mode none. */
export async function configuredBackend(config: AgentConfig, env: BackendEnv): Promise<ConfiguredBackend | undefined> {
  if (config.proxy.mode === 'none') return undefined;
  const m = proxyMode(config.proxy.mode);
  return (await m.load()).configure(m.options(config), env);
}
