// Cuts a TCP byte stream into BGP messages and checks each header (RFC 4271
// 4.1 and 6.1) before anything reads the body.

import { ErrorCode, HeaderSubcode, HEADER_LENGTH, MARKER_LENGTH, MAX_MESSAGE_LENGTH, MIN_LENGTH } from './constants.ts';
import { BgpNotificationError } from './notification-error.ts';

const MARKER = Buffer.alloc(MARKER_LENGTH, 0xff);

/** A whole message: its type and the body after the 19-octet header. */
export interface Frame {
  type: number;
  body: Buffer;
  /** The whole message, header included (some NOTIFICATIONs carry it back). */
  raw: Buffer;
}

/**
 * Collects bytes and yields whole messages. After it throws, the stream is
 * out of step and the session must end with the NOTIFICATION it carries.
 */
export class MessageFramer {
  #pending: Buffer = Buffer.alloc(0);

  /** Adds bytes; returns every message they complete, in order. */
  push(chunk: Buffer): Frame[] {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const frames: Frame[] = [];
    let at = 0;
    while (this.#pending.length - at >= HEADER_LENGTH) {
      const length = checkHeader(this.#pending, at);
      if (this.#pending.length - at < length) break;
      const raw = this.#pending.subarray(at, at + length);
      frames.push({ type: raw[18], body: raw.subarray(HEADER_LENGTH), raw });
      at += length;
    }
    this.#pending = this.#pending.subarray(at);
    return frames;
  }

  /** Bytes held for a message not yet complete. */
  get buffered(): number {
    return this.#pending.length;
  }
}

/** Checks the header at `at`; returns the message length. */
export function checkHeader(buf: Buffer, at: number): number {
  if (!MARKER.equals(buf.subarray(at, at + MARKER_LENGTH))) {
    throw new BgpNotificationError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED, 'the marker is not all ones');
  }
  const length = buf.readUInt16BE(at + 16);
  const type = buf[at + 18];
  // RFC 4271 6.1: the data field of a length error is the erroneous length field.
  const lengthField = buf.subarray(at + 16, at + 18);
  if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) {
    throw new BgpNotificationError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH, `length ${length} is outside 19..4096`, Buffer.from(lengthField));
  }
  const min = MIN_LENGTH[type];
  if (min === undefined) {
    throw new BgpNotificationError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_TYPE, `unknown message type ${type}`, Buffer.from([type]));
  }
  // KEEPALIVE is exactly a header; the rest have a floor. ROUTE-REFRESH's exact size is its own error (RFC 7313).
  if (length < min || (type === 4 && length !== HEADER_LENGTH)) {
    throw new BgpNotificationError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH, `length ${length} is wrong for message type ${type}`, Buffer.from(lengthField));
  }
  return length;
}

/** A message with its header. */
export function frameMessage(type: number, body: Buffer): Buffer {
  const length = HEADER_LENGTH + body.length;
  if (length > MAX_MESSAGE_LENGTH) throw new RangeError(`a BGP message of ${length} octets is longer than ${MAX_MESSAGE_LENGTH}`);
  const out = Buffer.alloc(length, 0xff);
  out.writeUInt16BE(length, 16);
  out[18] = type;
  body.copy(out, HEADER_LENGTH);
  return out;
}
