import type { WireRecord } from './message.ts';
import { parseRecord, qualify, words } from './rr-text.ts';

// An RFC 1035 §5 master file: $ORIGIN and $TTL, "@", relative names, an
// owner left blank repeating the previous one, ( … ) spanning lines, ";"
// comments. $INCLUDE is refused (CoreDNS's file plugin refuses it too).
// Throws a message with the line number.

/** The lines of `text` with comments gone and parenthesised groups joined, each with its first line number. */
function logicalLines(text: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  let pending: { line: number; text: string } | null = null;
  let depth = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    // A ";" starts a comment unless inside quotes.
    let body = '';
    let quoted = false;
    for (let k = 0; k < raw.length; k++) {
      const c = raw[k];
      if (c === '"' && raw[k - 1] !== '\\') quoted = !quoted;
      if (c === ';' && !quoted) break;
      body += c;
    }
    for (const c of body) {
      if (c === '(') depth++;
      if (c === ')') depth--;
    }
    const cleaned = body.replace(/[()]/g, ' ');
    if (pending) pending.text += ` ${cleaned.trim()}`;
    else pending = { line: i + 1, text: cleaned.replace(/\s+$/, '') };
    if (depth <= 0) {
      depth = 0;
      if (pending.text.trim()) out.push(pending);
      pending = null;
    }
  }
  if (pending && pending.text.trim()) throw new Error(`line ${pending.line}: '(' is never closed`);
  return out;
}

export function parseZoneFile(text: string, origin: string): WireRecord[] {
  const records: WireRecord[] = [];
  let ttl = 3600;
  let ttlSet = false;
  let owner: string | undefined;
  for (const { line, text: l } of logicalLines(text)) {
    try {
      const w = words(l.trim());
      if (w[0] === '$ORIGIN') {
        origin = qualify(w[1] ?? '', origin).toLowerCase();
        continue;
      }
      if (w[0] === '$TTL') {
        ttl = Number(w[1]);
        if (!/^\d+$/.test(w[1] ?? '')) throw new Error(`'$TTL ${w[1] ?? ''}' is not a TTL`);
        ttlSet = true;
        continue;
      }
      if (w[0]?.startsWith('$')) throw new Error(`'${w[0]}' is not supported`);
      const r = parseRecord(l, { origin, ttl, owner });
      r.name = r.name.toLowerCase();
      owner = r.name;
      // RFC 2308 §4: without $TTL, the SOA's minimum is the default TTL of what follows.
      if (r.type === 6 && !ttlSet) {
        const timers = r.rdata[2] as Buffer;
        ttl = timers.readUInt32BE(16);
      }
      records.push(r);
    } catch (err) {
      throw new Error(`line ${line}: ${(err as Error).message}`);
    }
  }
  return records;
}
