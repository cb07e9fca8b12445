// CNI error codes as data (CNI SPEC.md "Error codes"). A CniError is printed
// as {cniVersion, code, msg, details} on stdout with a non-zero exit status.
import { NetletError } from '../base/errors.ts';

export const CniCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  /** STATUS: the plugin cannot service ADD requests. */
  notAvailable: 50,
  /** STATUS: not available, and existing pods may have limited connectivity. */
  notAvailableDegraded: 51,
  /** Plugin-specific codes start at 100. */
  internal: 100,
  /** CHECK found the pod's network not as ADD left it. */
  checkFailed: 101,
  /** IPAM has no free address (and no block to claim). */
  ipamExhausted: 102,
} as const;

export type CniCodeValue = (typeof CniCode)[keyof typeof CniCode];

export class CniError extends NetletError {
  readonly cniCode: number;
  readonly details: string;

  constructor(cniCode: number, msg: string, details = '', options?: { cause?: unknown }) {
    super('ERR_CNI', msg, options);
    this.cniCode = cniCode;
    this.details = details;
  }
}

export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export function errorJson(err: CniError, cniVersion: string): CniErrorJson {
  const out: CniErrorJson = { cniVersion, code: err.cniCode, msg: err.message };
  if (err.details) out.details = err.details;
  return out;
}
