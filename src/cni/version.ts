// CNI spec versions this plugin speaks, and the VERSION command.
import { CniCode, CniError } from './errors.ts';
import type { CniCommand } from './env.ts';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const LATEST_VERSION = '1.1.0';

/** The first spec version that has each command (SPEC.md: CHECK in 0.4.0, STATUS and GC in 1.1.0). */
const SINCE: Partial<Record<CniCommand, string>> = { CHECK: '0.4.0', STATUS: '1.1.0', GC: '1.1.0' };

/** Compares dotted versions numerically: -1, 0, 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d < 0 ? -1 : 1;
  }
  return 0;
}

export function checkVersion(version: string, command: CniCommand): void {
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    throw new CniError(
      CniCode.incompatibleVersion,
      `incompatible CNI version ${version}`,
      `supported: ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  const since = SINCE[command];
  if (since && compareVersions(version, since) < 0) {
    throw new CniError(CniCode.incompatibleVersion, `config version ${version} does not allow ${command} (needs ${since} or later)`);
  }
}

/** The VERSION reply: the version the caller asked about (or the latest) and every version supported. */
export function versionResult(requested: string | undefined): { cniVersion: string; supportedVersions: string[] } {
  return { cniVersion: requested || LATEST_VERSION, supportedVersions: [...SUPPORTED_VERSIONS] };
}
