// The per-peer finite state machine of RFC 4271 8: Idle, Connect, Active,
// OpenSent, OpenConfirm, Established, with the connect-retry, hold and
// keepalive timers and connection collision detection (6.8). A peer may
// hold more than one TCP connection while a collision is resolved; each
// carries its own phase and timers, and the peer's state is its most
// advanced connection's. Time and TCP are injected so tests drive it by hand.

import type { Clock } from '../../base/bounded-frequency-runner.ts';
import { CeaseSubcode, ErrorCode, FsmSubcode } from '../wire/constants.ts';
import { MessageFramer } from '../wire/header.ts';
import { decodeMessage, encodeKeepalive, encodeNotification, type RouteRefreshMessage } from '../wire/messages.ts';
import { BgpNotificationError, type NotificationFields } from '../wire/notification-error.ts';
import { encodeOpen, type OpenMessage } from '../wire/open.ts';
import type { DecodedUpdate } from '../wire/update.ts';
import type { Connection, Dialer } from './connection.ts';
import { localIdIsLower, localOpen, negotiate, type Negotiated, type SessionConfig } from './negotiate.ts';

export type PeerState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export interface SessionDown {
  reason: string;
  /** The NOTIFICATION that ended it, and which side sent it. */
  notification?: NotificationFields & { sent: boolean };
  /** RFC 4724 4.2: the peer announced graceful restart and the session ended without a NOTIFICATION, so its routes stay, stale. */
  graceful: boolean;
  negotiated: Negotiated;
}

export interface PeerEvents {
  stateChanged?(from: PeerState, to: PeerState): void;
  /** `localAddress`: this side's address on the session's connection. */
  established(n: Negotiated, localAddress: string | undefined): void;
  update(u: DecodedUpdate): void;
  routeRefresh?(r: RouteRefreshMessage): void;
  down(d: SessionDown): void;
  /** A connection that never reached Established failed (for status: the last error). */
  attemptFailed?(reason: string): void;
}

export interface PeerFsmOptions {
  session: SessionConfig;
  peerAddress: string;
  port: number;
  localAddress?: string;
  /** TCP MD5 key (RFC 2385) of dialled connections. */
  md5Key?: string;
  /** Wait for the peer to dial (RFC 4271 8.1.1 PassiveTcpEstablishment). */
  passive: boolean;
  /** Seconds between dial attempts (BIRD in Calico uses 5, RFC 4271 suggests 120). */
  connectRetryTime?: number;
  /** Seconds idle after an error before starting again, doubling per failure up to the second number (Calico's BIRD: "error wait time 5,30"). */
  idleHoldTime?: [number, number];
  clock: Clock;
  dial: Dialer;
  events: PeerEvents;
}

/** RFC 4271 8: the hold timer while waiting for the peer's OPEN ("4 minutes is suggested"). */
const OPEN_HOLD_SECONDS = 240;

type Phase = 'Connect' | 'OpenSent' | 'OpenConfirm' | 'Established';
const RANK: Record<PeerState, number> = { Idle: 0, Active: 1, Connect: 2, OpenSent: 3, OpenConfirm: 4, Established: 5 };

interface Attempt {
  conn: Connection;
  direction: 'out' | 'in';
  phase: Phase;
  framer: MessageFramer;
  negotiated?: Negotiated;
  holdTimer?: unknown;
  keepaliveTimer?: unknown;
  gone: boolean;
}

export class PeerFsm {
  readonly #o: PeerFsmOptions;
  readonly #attempts = new Set<Attempt>();
  #running = false;
  #idleHold = false;
  #idleHoldSeconds: number;
  #retryTimer?: unknown;
  #state: PeerState = 'Idle';
  #established?: Attempt;

  constructor(o: PeerFsmOptions) {
    this.#o = o;
    this.#idleHoldSeconds = (o.idleHoldTime ?? [5, 30])[0];
  }

  get state(): PeerState {
    return this.#state;
  }

  get negotiated(): Negotiated | undefined {
    return this.#established?.negotiated;
  }

  /** ManualStart (RFC 4271 8.1.2 events 1 and 4). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#begin();
  }

  /** ManualStop: Cease to every connection, then Idle until started again. */
  stop(subcode: number = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, reason = 'stopped'): void {
    this.#running = false;
    this.#clearRetry();
    for (const a of [...this.#attempts]) this.#fail(a, new BgpNotificationError(ErrorCode.CEASE, subcode, reason));
    this.#refresh();
  }

  /** An incoming TCP connection from this peer. Refused (closed) when stopped. */
  accept(conn: Connection): boolean {
    if (!this.#running) {
      conn.end();
      return false;
    }
    // Accepted even during the idle hold: a restarted peer that dials at once should not wait out its own retry timer.
    const a = this.#track(conn, 'in');
    this.#sendOpen(a);
    this.#refresh();
    return true;
  }

  /** Writes messages on the Established connection; false when there is none. */
  send(messages: readonly Buffer[]): boolean {
    const a = this.#established;
    if (!a || a.gone) return false;
    for (const m of messages) a.conn.write(m);
    return true;
  }

  #begin(): void {
    this.#idleHold = false;
    if (!this.#o.passive) this.#dial();
    this.#refresh();
  }

  #dial(): void {
    this.#armRetry(this.#o.connectRetryTime ?? 5);
    const conn = this.#o.dial({ host: this.#o.peerAddress, port: this.#o.port, localAddress: this.#o.localAddress, ...(this.#o.md5Key ? { md5Key: this.#o.md5Key } : {}) });
    this.#track(conn, 'out');
  }

  #armRetry(seconds: number): void {
    this.#clearRetry();
    this.#retryTimer = this.#o.clock.setTimeout(() => this.#retryExpired(), seconds * 1000);
  }

  #clearRetry(): void {
    if (this.#retryTimer !== undefined) this.#o.clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  /** ConnectRetryTimer_Expires (and the end of an idle hold): dial again unless a connection got further. */
  #retryExpired(): void {
    this.#retryTimer = undefined;
    if (!this.#running) return;
    this.#idleHold = false;
    if ([...this.#attempts].some((a) => a.phase !== 'Connect')) return this.#refresh();
    for (const a of [...this.#attempts]) this.#drop(a, 'connect retry timer expired');
    if (this.#o.passive) return this.#refresh();
    this.#dial();
    this.#refresh();
  }

  #track(conn: Connection, direction: 'out' | 'in'): Attempt {
    const a: Attempt = { conn, direction, phase: direction === 'out' ? 'Connect' : 'OpenSent', framer: new MessageFramer(), gone: false };
    this.#attempts.add(a);
    conn.attach({
      open: () => {
        if (a.gone) return;
        this.#sendOpen(a);
        this.#refresh();
      },
      data: (chunk) => this.#data(a, chunk),
      closed: (reason) => {
        if (!a.gone) this.#lost(a, reason);
      },
    });
    return a;
  }

  #sendOpen(a: Attempt): void {
    a.phase = 'OpenSent';
    // RFC 4271 8.2.2: the TCP connection is up, so stop trying to make one.
    if (a.direction === 'out') this.#clearRetry();
    a.conn.write(encodeOpen(this.#open()));
    this.#armHold(a, OPEN_HOLD_SECONDS);
  }

  #open(): OpenMessage {
    return localOpen(this.#o.session);
  }

  #armHold(a: Attempt, seconds: number): void {
    if (a.holdTimer !== undefined) this.#o.clock.clearTimeout(a.holdTimer);
    a.holdTimer = seconds > 0 ? this.#o.clock.setTimeout(() => this.#fail(a, new BgpNotificationError(ErrorCode.HOLD_TIMER_EXPIRED, 0, `no message for ${seconds} s`)), seconds * 1000) : undefined;
  }

  #armKeepalive(a: Attempt): void {
    const seconds = a.negotiated?.keepaliveTime ?? 0;
    if (seconds <= 0) return;
    a.keepaliveTimer = this.#o.clock.setTimeout(() => {
      if (a.gone) return;
      a.conn.write(encodeKeepalive());
      this.#armKeepalive(a);
    }, seconds * 1000);
  }

  #data(a: Attempt, chunk: Buffer): void {
    if (a.gone) return;
    try {
      for (const frame of a.framer.push(chunk)) {
        if (a.gone) return;
        this.#message(a, decodeMessage(frame, { fourOctetAs: a.negotiated?.fourOctetAs ?? true }));
      }
    } catch (err) {
      if (err instanceof BgpNotificationError) this.#fail(a, err);
      else this.#fail(a, new BgpNotificationError(ErrorCode.CEASE, CeaseSubcode.OUT_OF_RESOURCES, `internal error: ${(err as Error).message}`));
    }
    this.#refresh();
  }

  #message(a: Attempt, m: ReturnType<typeof decodeMessage>): void {
    if (m.type === 'notification') return this.#lost(a, 'NOTIFICATION received', { ...m.notification, sent: false });
    switch (a.phase) {
      case 'OpenSent':
        if (m.type !== 'open') throw new BgpNotificationError(ErrorCode.FSM, FsmSubcode.IN_OPEN_SENT, `${m.type} before OPEN`);
        return this.#openReceived(a, m.open);
      case 'OpenConfirm':
        if (m.type !== 'keepalive') throw new BgpNotificationError(ErrorCode.FSM, FsmSubcode.IN_OPEN_CONFIRM, `${m.type} in OpenConfirm`);
        return this.#toEstablished(a);
      case 'Established':
        if (m.type === 'open') throw new BgpNotificationError(ErrorCode.FSM, FsmSubcode.IN_ESTABLISHED, 'OPEN in Established');
        this.#armHold(a, a.negotiated!.holdTime);
        if (m.type === 'update') this.#o.events.update(m.update);
        else if (m.type === 'route-refresh') this.#o.events.routeRefresh?.(m.refresh);
        return;
      default:
        // Data on a connection not yet reported open cannot happen with TCP; treat it as out of step.
        throw new BgpNotificationError(ErrorCode.FSM, FsmSubcode.UNSPECIFIED, `${m.type} before the connection opened`);
    }
  }

  #openReceived(a: Attempt, open: OpenMessage): void {
    const n = negotiate(this.#o.session, open);
    a.negotiated = n;
    for (const other of [...this.#attempts]) {
      if (other === a || other.phase === 'Connect') continue;
      if (other.phase === 'Established') {
        // RFC 4724 4.2: a new OPEN from a peer whose session is Established with graceful restart means it restarted.
        if (other.negotiated?.peerGracefulRestart) {
          this.#drop(other, 'the peer opened a new session (restarted)');
          continue;
        }
        throw new BgpNotificationError(ErrorCode.CEASE, CeaseSubcode.CONNECTION_COLLISION_RESOLUTION, 'a session is already Established');
      }
      // RFC 4271 6.8: the connection dialled by the side with the lower identifier is closed.
      const loserDirection = localIdIsLower(this.#o.session.routerId, n.remoteId) ? 'out' : 'in';
      const loser = a.direction === loserDirection ? a : other;
      this.#fail(loser, new BgpNotificationError(ErrorCode.CEASE, CeaseSubcode.CONNECTION_COLLISION_RESOLUTION, 'connection collision'));
      if (loser === a) return;
    }
    a.phase = 'OpenConfirm';
    a.conn.write(encodeKeepalive());
    this.#armHold(a, n.holdTime);
    this.#armKeepalive(a);
  }

  #toEstablished(a: Attempt): void {
    a.phase = 'Established';
    this.#established = a;
    this.#clearRetry();
    this.#idleHoldSeconds = (this.#o.idleHoldTime ?? [5, 30])[0];
    for (const other of [...this.#attempts]) {
      if (other !== a) this.#fail(other, new BgpNotificationError(ErrorCode.CEASE, CeaseSubcode.CONNECTION_COLLISION_RESOLUTION, 'another connection is Established'));
    }
    this.#refresh();
    this.#o.events.established(a.negotiated!, a.conn.localAddress());
  }

  /** Sends the NOTIFICATION and closes the connection. */
  #fail(a: Attempt, err: BgpNotificationError): void {
    if (a.gone) return;
    if (a.phase !== 'Connect') a.conn.write(encodeNotification(err.fields));
    this.#lost(a, err.message, { ...err.fields, sent: true });
  }

  /** Closes without a NOTIFICATION (a dial given up, a restarted peer's old session). */
  #drop(a: Attempt, reason: string): void {
    this.#lost(a, reason);
  }

  /** The connection is finished, whichever way; the peer moves on. */
  #lost(a: Attempt, reason: string, notification?: SessionDown['notification']): void {
    if (a.gone) return;
    a.gone = true;
    this.#attempts.delete(a);
    for (const t of [a.holdTimer, a.keepaliveTimer]) if (t !== undefined) this.#o.clock.clearTimeout(t);
    a.conn.end();
    if (a === this.#established) {
      this.#established = undefined;
      const graceful = !!a.negotiated!.peerGracefulRestart && !notification;
      this.#afterLoss(notification !== undefined);
      this.#o.events.down({ reason, notification, graceful, negotiated: a.negotiated! });
    } else {
      this.#o.events.attemptFailed?.(notification ? `${reason}` : reason);
      if (this.#attempts.size === 0 && !this.#established) this.#afterLoss(notification !== undefined);
    }
    this.#refresh();
  }

  /** Next step once no connection is left: an idle hold after an error, else the connect-retry wait (Active). */
  #afterLoss(error: boolean): void {
    if (!this.#running || this.#attempts.size > 0) return;
    if (error) {
      this.#idleHold = true;
      const [, max] = this.#o.idleHoldTime ?? [5, 30];
      this.#armRetry(this.#idleHoldSeconds);
      this.#idleHoldSeconds = Math.min(max, this.#idleHoldSeconds * 2);
    } else if (this.#retryTimer === undefined) {
      this.#armRetry(this.#o.connectRetryTime ?? 5);
    }
  }

  #refresh(): void {
    let next: PeerState = !this.#running || this.#idleHold ? 'Idle' : 'Active';
    for (const a of this.#attempts) if (RANK[a.phase] > RANK[next]) next = a.phase;
    if (next === this.#state) return;
    const from = this.#state;
    this.#state = next;
    this.#o.events.stateChanged?.(from, next);
  }
}
