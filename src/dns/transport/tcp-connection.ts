import type net from 'node:net';

/** Most queries one TCP connection may have in flight (pipelined, RFC 7766 §6.2.1.1). */
const MAX_TCP_IN_FLIGHT = 64;
/** Replies queued for a client that does not read; past this the connection is closed. */
const MAX_UNREAD_REPLY_BYTES = 256 * 1024;

export interface TcpConnectionOptions {
  /** A whole message must arrive within this long of the connection going idle (ms). */
  readTimeoutMs: number;
  /** Answers one message: the reply, null to close (RFC 7766 §6.2.4), or a promise of either. */
  answer: (msg: Buffer) => Buffer | null | Promise<Buffer | null>;
}

/**
 * Serves one DNS-over-TCP connection (RFC 1035 §4.2.2, RFC 7766): 2-byte
 * length frames, pipelined queries, replies in completion order.
 *
 * The read timeout is a deadline for a whole message, not a limit on the
 * gap between bytes (issue 13: one byte every 3 s kept a connection for
 * ever). It starts when the connection is accepted and whenever the last
 * query in flight is answered; a complete message stops it, partial bytes
 * do not. Queries in flight are bounded by the forwarder's own timeouts.
 */
export function serveTcpConnection(c: net.Socket, opts: TcpConnectionOptions): void {
  c.setNoDelay(true);
  c.on('error', () => c.destroy());
  let deadline: NodeJS.Timeout | null = null;
  const arm = () => {
    if (deadline) clearTimeout(deadline);
    deadline = setTimeout(() => c.destroy(), opts.readTimeoutMs);
  };
  const disarm = () => {
    if (deadline) clearTimeout(deadline);
    deadline = null;
  };
  c.on('close', disarm);
  arm();

  let pending: Buffer = Buffer.alloc(0);
  let inFlight = 0;
  const answered = (reply: Buffer | null) => {
    inFlight--;
    if (c.destroyed) return;
    if (!reply) {
      c.end();
      return;
    }
    const frame = Buffer.allocUnsafe(2 + reply.length);
    frame.writeUInt16BE(reply.length, 0);
    reply.copy(frame, 2);
    c.write(frame);
    if (c.writableLength > MAX_UNREAD_REPLY_BYTES) {
      c.destroy();
      return;
    }
    if (inFlight === 0) arm();
  };

  c.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 2) {
      const len = pending.readUInt16BE(0);
      if (pending.length < 2 + len) break;
      const msg = pending.subarray(2, 2 + len);
      pending = pending.subarray(2 + len);
      if (++inFlight > MAX_TCP_IN_FLIGHT) {
        c.destroy();
        return;
      }
      disarm();
      let reply: Buffer | null | Promise<Buffer | null>;
      try {
        reply = opts.answer(msg);
      } catch {
        // The handler does not throw on input; if it ever does, this connection ends and the server goes on.
        c.destroy();
        return;
      }
      if (reply instanceof Promise) reply.then(answered, () => answered(null));
      else answered(reply);
    }
  });
}
