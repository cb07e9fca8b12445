// A strict reading of a DNS reply for the wire fuzz test: every count
// matched by a record, every name inside the message (pointers only
// backwards, labels ≤ 63, names ≤ 255), every RDATA inside the message and
// nothing after the last record. Written apart from src/dns/wire/ so a bug
// there is not read the same way twice.

/** Why `reply` is not a well-formed response to `query`, or null. */
export function replyProblem(query: Buffer, reply: Buffer): string | null {
  if (reply.length < 12) return `reply of ${reply.length} bytes, shorter than a header`;
  if (!(reply[2] & 0x80)) return 'reply without QR';
  if (query.length >= 2 && reply.readUInt16BE(0) !== query.readUInt16BE(0)) return 'reply ID differs from the query';
  const counts = [reply.readUInt16BE(4), reply.readUInt16BE(6), reply.readUInt16BE(8), reply.readUInt16BE(10)];
  if (counts[0] > 1) return `${counts[0]} questions`;
  let at = 12;
  for (let section = 0; section < 4; section++) {
    for (let i = 0; i < counts[section]; i++) {
      const end = nameEnd(reply, at);
      if (typeof end === 'string') return `section ${section} record ${i}: ${end}`;
      at = end + (section === 0 ? 4 : 10);
      if (at > reply.length) return `section ${section} record ${i}: fixed fields past the end`;
      if (section > 0) {
        at += reply.readUInt16BE(at - 2);
        if (at > reply.length) return `section ${section} record ${i}: RDATA past the end`;
      }
    }
  }
  if (at !== reply.length) return `${reply.length - at} bytes after the last record`;
  return null;
}

/** The offset after the name at `start`, or what is wrong with it. */
function nameEnd(b: Buffer, start: number): number | string {
  let at = start;
  let end = -1;
  let length = 1;
  for (let hops = 0; ; ) {
    if (at >= b.length) return 'name runs past the end';
    const len = b[at];
    if (len === 0) return end < 0 ? at + 1 : end;
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= b.length) return 'pointer cut off';
      const target = ((len & 0x3f) << 8) | b[at + 1];
      if (target >= at) return 'pointer forwards';
      if (end < 0) end = at + 2;
      if (++hops > 127) return 'pointer loop';
      at = target;
      continue;
    }
    if (len > 63) return `label of ${len}`;
    length += len + 1;
    if (length > 255) return 'name longer than 255';
    at += len + 1;
  }
}
