// The `netlink` package reports a kernel NLMSG_ERROR as a plain Error whose
// message is "Request rejected: <ERRNO NAME>". These helpers turn that back
// into the errno name callers match on.
import { NetletError } from '../base/errors.ts';

export function errnoOf(err: unknown): string | undefined {
  if (err instanceof NetlinkError) return err.errno;
  const m = /Request rejected: (E[A-Z0-9]+|-?\d+)/.exec((err as Error)?.message ?? '');
  return m?.[1];
}

export const isErrno = (err: unknown, ...names: string[]): boolean => names.includes(errnoOf(err) ?? '');

/** A netlink request the kernel refused, with what was asked. */
export class NetlinkError extends NetletError {
  readonly errno: string;

  constructor(what: string, errno: string, options?: { cause?: unknown }) {
    super('ERR_NETLINK', `${what}: ${errno}`, options);
    this.errno = errno;
  }
}

/** Runs a request; a kernel refusal becomes a NetlinkError naming `what`. */
export async function request<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const errno = errnoOf(err);
    if (errno) throw new NetlinkError(what, errno, { cause: err });
    throw err;
  }
}
