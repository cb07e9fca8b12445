import { NetletError } from '../base/errors.ts';

/**
 * A `Status` failure returned by the API server. `status` is the HTTP code
 * and `reason` the Status reason, which tells apart cases that share a code:
 * 409 AlreadyExists (create of a taken name) vs 409 Conflict (update with a
 * stale resourceVersion), 410 Gone / Expired (resourceVersion too old).
 */
export class ApiError extends NetletError {
  readonly status: number;
  readonly reason: string;
  readonly details: unknown;

  constructor(status: number, reason: string, message: string, details?: unknown) {
    super(apiErrorCode(status, reason), message);
    this.status = status;
    this.reason = reason;
    this.details = details;
  }

  get isAlreadyExists(): boolean {
    return this.status === 409 && this.reason === 'AlreadyExists';
  }

  get isConflict(): boolean {
    return this.status === 409 && this.reason !== 'AlreadyExists';
  }

  get isGone(): boolean {
    return this.status === 410;
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }
}

/** Stable codes tests and callers match on; one per reason that matters to netlet. */
function apiErrorCode(status: number, reason: string): string {
  if (status === 409) return reason === 'AlreadyExists' ? 'ERR_API_ALREADY_EXISTS' : 'ERR_API_CONFLICT';
  if (status === 410) return 'ERR_API_GONE';
  if (status === 404) return 'ERR_API_NOT_FOUND';
  if (status === 401) return 'ERR_API_UNAUTHORIZED';
  if (status === 403) return 'ERR_API_FORBIDDEN';
  return 'ERR_API_STATUS';
}

/** The API server could not be reached at all (refused, reset, TLS failure, timeout). */
export class ApiUnreachableError extends NetletError {
  readonly server: string;

  constructor(server: string, cause: unknown) {
    const detail = cause instanceof Error ? ((cause as { code?: string }).code ?? cause.message) : String(cause);
    super('ERR_API_UNREACHABLE', `API server ${server} unreachable: ${detail}`, { cause });
    this.server = server;
  }
}

/** A watch that sent nothing, not even a bookmark, for longer than allowed. */
export class WatchStalledError extends NetletError {
  constructor(path: string, idleMs: number) {
    super('ERR_WATCH_STALLED', `watch ${path} sent nothing for ${Math.round(idleMs / 1000)}s`);
  }
}

/** A Status object body → ApiError; anything else keeps its text as the message. */
export function apiErrorFromBody(status: number, text: string): ApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed && typeof parsed === 'object' && (parsed as { kind?: unknown }).kind === 'Status') {
    return apiErrorFromStatus(parsed as StatusObject, status);
  }
  const snippet = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return new ApiError(status, '', `API server answered HTTP ${status}${snippet ? `: ${snippet.trim()}` : ''}`);
}

export interface StatusObject {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: unknown;
}

export function apiErrorFromStatus(s: StatusObject, httpStatus?: number): ApiError {
  const code = typeof s.code === 'number' && s.code > 0 ? s.code : (httpStatus ?? 500);
  const reason = typeof s.reason === 'string' ? s.reason : '';
  const message = typeof s.message === 'string' && s.message ? s.message : `HTTP ${code}${reason ? ` ${reason}` : ''}`;
  return new ApiError(code, reason, `API error ${code}${reason ? ` ${reason}` : ''}: ${message}`, s.details);
}
