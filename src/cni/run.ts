// One plugin invocation as a function: environment and stdin in, stdout text
// and exit status out. main.ts wires it to the process; tests call it directly.
import { hostname } from 'node:os';
import { NetletError, ConfigError } from '../base/errors.ts';
import type { Ipam } from '../ipam/types.ts';
import { parseEnv } from './env.ts';
import { decodeJson, parseNetConf, versionOf } from './config.ts';
import { CniCode, CniError, errorJson } from './errors.ts';
import { formatResult } from './result.ts';
import { LATEST_VERSION, versionResult } from './version.ts';

export type CreateIpam = (ipamConf: unknown, opts: { nodeName: string }) => Promise<Ipam>;

export interface Outcome {
  stdout: string;
  exitCode: number;
  /** The error printed on stdout, for a caller that logs failures (the agent's CNI server). */
  error?: CniError;
}

/** Maps any failure to the CNI error the runtime will show. */
export function toCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  if (err instanceof ConfigError) return new CniError(CniCode.invalidConfig, err.message);
  if (err instanceof NetletError) {
    const byName: Record<string, number> = {
      LockTimeoutError: CniCode.tryAgainLater,
      IpamExhaustedError: CniCode.ipamExhausted,
      IpamStateError: CniCode.ioFailure,
    };
    return new CniError(byName[err.name] ?? CniCode.internal, err.message, err.code, { cause: err });
  }
  return new CniError(CniCode.internal, (err as Error)?.message ?? String(err), '', { cause: err });
}

/** `nodeName`: when the network config names none (default: the host name; the agent passes its own). */
export async function runCni(env: NodeJS.ProcessEnv, stdin: string, createIpam: CreateIpam, opts: { nodeName?: string } = {}): Promise<Outcome> {
  let version = LATEST_VERSION;
  let opened: Ipam | undefined;
  try {
    const cniEnv = parseEnv(env);
    if (cniEnv.command === 'VERSION') {
      // stdin is {"cniVersion": "..."} or empty (SPEC.md "VERSION").
      const asked = stdin.trim() ? versionOf(decodeJson(stdin)) : undefined;
      return { stdout: JSON.stringify(versionResult(asked)), exitCode: 0 };
    }
    const raw = decodeJson(stdin);
    version = versionOf(raw) ?? version;
    const conf = parseNetConf(raw, cniEnv.command);
    const ipam = await createIpam(conf.ipam, { nodeName: conf.nodeName || opts.nodeName || hostname() });
    opened = ipam;
    const out = await (async () => {
      switch (cniEnv.command) {
        case 'ADD': {
          const { cmdAdd } = await import('./add.ts');
          return formatResult(await cmdAdd(cniEnv, conf, ipam), conf.cniVersion);
        }
        case 'DEL': {
          const { cmdDel } = await import('./del.ts');
          await cmdDel(cniEnv, ipam);
          return undefined;
        }
        case 'CHECK': {
          const { cmdCheck } = await import('./check.ts');
          await cmdCheck(cniEnv, conf, ipam);
          return undefined;
        }
        case 'STATUS': {
          const { cmdStatus } = await import('./status.ts');
          await cmdStatus(ipam);
          return undefined;
        }
        case 'GC': {
          const { cmdGc } = await import('./gc.ts');
          await cmdGc(conf, ipam);
          return undefined;
        }
      }
    })();
    return { stdout: out === undefined ? '' : JSON.stringify(out), exitCode: 0 };
  } catch (err) {
    const cniErr = toCniError(err);
    return { stdout: JSON.stringify(errorJson(cniErr, version)), exitCode: 1, error: cniErr };
  } finally {
    // API connections of block claims: a resident server must not keep one per call.
    await opened?.close?.().catch(() => undefined);
  }
}
