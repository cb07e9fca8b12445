// Status error objects in the shape kube-apiserver sends
// (k8s.io/apimachinery/pkg/api/errors): kind Status, status Failure, a reason
// per HTTP code, and details naming the object. Note the real quirk that
// NotFound/AlreadyExists/Conflict put the *resource* ("services") in
// details.kind, while Invalid puts the *Kind* ("Service").

import type { ResourceInfo } from './resources.ts';
import { qualifiedName } from './resources.ts';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { reason?: string; message: string; field?: string }[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: { continue?: string };
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

export const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** An error a handler throws; the router turns it into a Status response. */
export class ApiError extends Error {
  readonly status: Status;

  constructor(status: Status) {
    super(status.message);
    this.status = status;
  }
}

export function statusOf(code: number, message: string, reason = REASONS[code] ?? 'Unknown', details?: StatusDetails): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) s.details = details;
  return s;
}

function objectDetails(r: ResourceInfo, name: string): StatusDetails {
  return r.group ? { name, group: r.group, kind: r.plural } : { name, kind: r.plural };
}

export const notFound = (r: ResourceInfo, name: string): ApiError =>
  new ApiError(statusOf(404, `${qualifiedName(r)} "${name}" not found`, 'NotFound', objectDetails(r, name)));

export const alreadyExists = (r: ResourceInfo, name: string): ApiError =>
  new ApiError(statusOf(409, `${qualifiedName(r)} "${name}" already exists`, 'AlreadyExists', objectDetails(r, name)));

export const conflict = (r: ResourceInfo, name: string, why: string): ApiError =>
  new ApiError(
    statusOf(409, `Operation cannot be fulfilled on ${qualifiedName(r)} "${name}": ${why}`, 'Conflict', objectDetails(r, name)),
  );

export const STALE_UPDATE = 'the object has been modified; please apply your changes to the latest version and try again';

export const badRequest = (message: string): ApiError => new ApiError(statusOf(400, message, 'BadRequest'));

export const unknownPath = (): ApiError =>
  new ApiError(statusOf(404, 'the server could not find the requested resource', 'NotFound', {}));

export const methodNotAllowed = (method: string): ApiError =>
  new ApiError(statusOf(405, `the server does not allow this method on the requested resource (${method})`, 'MethodNotAllowed', {}));

/** 422 Invalid, one cause per bad field. */
export function invalid(r: ResourceInfo, name: string, causes: { field: string; message: string }[]): ApiError {
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  const details: StatusDetails = { name, kind: r.kind };
  if (r.group) details.group = r.group;
  details.causes = causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field }));
  const qualifiedKind = r.group ? `${r.kind}.${r.group}` : r.kind;
  return new ApiError(statusOf(422, `${qualifiedKind} "${name}" is invalid: ${text}`, 'Invalid', details));
}

/** 410 for a watch (or an exact list) from a resourceVersion older than the retained history. */
export const tooOldResourceVersion = (asked: number, oldest: number, reason: 'Expired' | 'Gone' = 'Expired'): Status =>
  statusOf(410, `too old resource version: ${asked} (${oldest})`, reason);

/** 410 for a LIST whose continue token points before the retained history (apiserver wording, shortened). */
export function expiredContinue(): ApiError {
  return new ApiError(
    statusOf(
      410,
      'The provided continue parameter is too old to display a consistent list result. ' +
        'You can start a new list without the continue parameter.',
      'Expired',
    ),
  );
}

/** 504 for a LIST at a resourceVersion the server has not reached (storage.NewTooLargeResourceVersionError). */
export function tooLargeResourceVersion(asked: number, current: number): ApiError {
  return new ApiError(
    statusOf(504, `Timeout: Too large resource version: ${asked}, current: ${current}`, 'Timeout', {
      causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
      retryAfterSeconds: 1,
    }),
  );
}

export function internalError(message: string): Status {
  return statusOf(500, `Internal error occurred: ${message}`, 'InternalError', { causes: [{ message }] });
}

export const unauthorized = (): Status => statusOf(401, 'Unauthorized', 'Unauthorized');
