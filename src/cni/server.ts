// The agent side of netlet-cni's fast path (native/cni-shim.c): serves CNI
// calls on a Unix socket inside the resident agent, so a pod's setup costs a
// tiny C process instead of a Node.js start. The work is exactly the
// plugin's (runCni): the same code, in a process that is already warm.
//
// Wire format, one call per connection: "KEY=VALUE\0" for each CNI_*
// variable, one more "\0", the network config (the plugin's stdin) up to
// the client's half-close; the reply is one byte of exit status followed by
// the text the plugin prints.
//
// The agent must run in the node's network namespace (hostNetwork) and see
// the runtime's netns files (CNI_NETNS paths, e.g. /var/run/netns).
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { chmodSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { runCni } from './run.ts';
import type { CreateIpam } from './run.ts';
import { CniCode, CniError, errorJson } from './errors.ts';
import { LATEST_VERSION } from './version.ts';

export const DEFAULT_CNI_SOCKET = '/run/netlet/cni.sock';
/** Longer than any ADD takes, including an IPAM lock wait; the runtime's own timeout is usually minutes. */
const REQUEST_TIMEOUT_MS = 120_000;

/** Splits a request into its environment and stdin; throws CniError(4) on a malformed one. */
export function decodeRequest(buf: Buffer): { env: Record<string, string>; stdin: string } {
  const env: Record<string, string> = {};
  let off = 0;
  for (;;) {
    const end = buf.indexOf(0, off);
    if (end < 0) throw new CniError(CniCode.invalidEnvironment, 'request: environment block not terminated');
    if (end === off) {
      off = end + 1;
      break;
    }
    const pair = buf.toString('utf8', off, end);
    const eq = pair.indexOf('=');
    if (eq <= 0 || !pair.startsWith('CNI_')) throw new CniError(CniCode.invalidEnvironment, `request: '${pair.slice(0, 40)}' is not a CNI_ variable`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
    off = end + 1;
  }
  return { env, stdin: buf.toString('utf8', off) };
}

export function encodeReply(exitCode: number, stdout: string): Buffer {
  return Buffer.concat([Buffer.from([exitCode & 0xff]), Buffer.from(stdout ? stdout + '\n' : '')]);
}

/** Which call failed, for the server's log: what the runtime passed. */
export interface FailedCall {
  command: string;
  containerID: string;
  netns: string;
  ifname: string;
}

export interface CniServerOptions {
  socketPath?: string;
  createIpam: CreateIpam;
  nodeName?: string;
  /** A connection that broke (not a CNI failure: the runtime never got an answer). */
  onError?: (err: Error) => void;
  /** A call answered with a CNI error: the runtime shows it to the user, the server's owner logs it. */
  onCallFailed?: (call: FailedCall, err: CniError) => void;
}

const failedCall = (env: Record<string, string>): FailedCall => ({
  command: env.CNI_COMMAND ?? '',
  containerID: env.CNI_CONTAINERID ?? '',
  netns: env.CNI_NETNS ?? '',
  ifname: env.CNI_IFNAME ?? '',
});

async function serve(conn: Socket, opts: CniServerOptions): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of conn) chunks.push(chunk as Buffer);
  let reply: Buffer;
  let env: Record<string, string> = {};
  try {
    const request = decodeRequest(Buffer.concat(chunks));
    env = request.env;
    const { stdout, exitCode, error } = await runCni(env, request.stdin, opts.createIpam, { nodeName: opts.nodeName });
    reply = encodeReply(exitCode, stdout);
    if (error) opts.onCallFailed?.(failedCall(env), error);
  } catch (err) {
    const e = err instanceof CniError ? err : new CniError(CniCode.internal, (err as Error).message);
    reply = encodeReply(1, JSON.stringify(errorJson(e, LATEST_VERSION)));
    opts.onCallFailed?.(failedCall(env), e);
  }
  conn.end(reply);
}

/**
 * Listens on `socketPath` (mode 0600, replacing a stale socket, or the
 * socket of an agent still running beside this one) and serves CNI calls
 * until closed.
 *
 * The socket is bound under a name of its own and renamed over
 * `socketPath`: an agent started beside the old one (an overlapping
 * restart, deploy/30-daemonset.yaml) takes new calls at once, and the old
 * one's close cannot remove the new one's socket, as closing a socket bound
 * at `socketPath` would (libuv unlinks the path it bound). Closing removes
 * `socketPath` only while it is still this server's.
 */
export async function startCniServer(opts: CniServerOptions): Promise<Server> {
  const path = opts.socketPath ?? DEFAULT_CNI_SOCKET;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const own = `${path}.${process.pid}`;
  rmSync(own, { force: true });
  // allowHalfOpen: the client half-closes after its request; the reply still has to go out.
  const server = createServer({ allowHalfOpen: true }, (conn) => {
    conn.on('error', (err) => opts.onError?.(err));
    // A client that never finishes its request must not hold a connection forever.
    conn.setTimeout(REQUEST_TIMEOUT_MS, () => conn.destroy());
    serve(conn, opts).catch((err) => {
      opts.onError?.(err as Error);
      conn.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(own, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Only root (the runtime) may ask for pod networking.
  chmodSync(own, 0o600);
  const { ino, dev } = statSync(own);
  renameSync(own, path);
  server.once('close', () => {
    const now = statSync(path, { throwIfNoEntry: false });
    if (now && now.ino === ino && now.dev === dev) rmSync(path, { force: true });
  });
  return server;
}
