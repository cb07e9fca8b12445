// What an API failure means for the operator reading the log. A 403 is the
// cluster's RBAC saying no (a ClusterRole without that verb on that
// resource); a 401 is the credentials refused (an expired or wrong token or
// certificate); only a failure without an answer is an unreachable server.
// Each is fixed in a different place, so the log line must not mix them up.
import { ApiError, ApiUnreachableError, WatchStalledError } from './api-errors.ts';

export type FailureKind = 'forbidden' | 'unauthorized' | 'unreachable' | 'api-error';

export interface ApiFailure {
  kind: FailureKind;
  /** A short phrase for a log message, e.g. "forbidden by RBAC: list services". */
  headline: string;
  /** Structured fields for the log line ("apiResource": a reflector's logger already binds "resource"). */
  fields: { failure: FailureKind; verb: string; apiResource: string; status?: number; hint?: string };
}

/** `verb` as RBAC names it (get, list, watch, create, delete…); `resource` its plural, with the group when not core. */
export function describeApiFailure(err: unknown, verb: string, resource: string): ApiFailure {
  const request = `${verb} ${resource}`;
  if (err instanceof ApiError && err.status === 403) {
    return {
      kind: 'forbidden',
      headline: `forbidden by RBAC: ${request}`,
      fields: { failure: 'forbidden', verb, apiResource: resource, status: 403, hint: `the ClusterRole bound to netlet's identity does not grant "${verb}" on ${resource} (deploy/10-rbac.yaml)` },
    };
  }
  if (err instanceof ApiError && err.status === 401) {
    return {
      kind: 'unauthorized',
      headline: `unauthorized: the API server refused netlet's credentials for ${request}`,
      fields: { failure: 'unauthorized', verb, apiResource: resource, status: 401, hint: 'the token or client certificate is wrong, expired or unknown to the API server' },
    };
  }
  if (err instanceof ApiError) {
    return {
      kind: 'api-error',
      headline: `the API server answered ${err.status}${err.reason ? ` ${err.reason}` : ''} to ${request}`,
      fields: { failure: 'api-error', verb, apiResource: resource, status: err.status },
    };
  }
  const unreachable = err instanceof ApiUnreachableError || err instanceof WatchStalledError;
  return {
    kind: unreachable ? 'unreachable' : 'api-error',
    headline: unreachable ? 'API server unreachable' : `${request} failed`,
    fields: { failure: unreachable ? 'unreachable' : 'api-error', verb, apiResource: resource },
  };
}
