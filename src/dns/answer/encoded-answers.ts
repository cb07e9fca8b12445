import type { EncodedMessage } from '../wire/writer.ts';

/**
 * An encoded reply, the zone that answered it (for metrics), and, under the
 * `cache` plugin, the TTL every record answers (lifetimeS; 0: as encoded,
 * until the next index change) and when it was stored, from which that TTL
 * counts down (storedMs; -1: it does not count down).
 */
export type CachedReply = EncodedMessage & { zone: string; storedMs: number; lifetimeS: number };

/** Bytes of slab an entry takes before its offsets: length, rcode, zone, three counts, answer and TTL counts, lifetime, stored time. */
const HEADER = 2 + 2 + 2 + 6 + 2 + 2 + 2 + 8;
const SLAB_SIZE = 64 * 1024;
/** A reply bigger than this gets a slab of its own rather than wasting a shared slab's tail. */
const OWN_SLAB_OVER = SLAB_SIZE / 4;

/** An entry's handle: its slab's number and its offset in that slab, as one number. */
const handleOf = (slab: number, offset: number): number => slab * SLAB_SIZE + offset;
const slabOf = (handle: number): number => Math.floor(handle / SLAB_SIZE);
const offsetOf = (handle: number): number => handle % SLAB_SIZE;

/**
 * Encoded replies by (qtype, lowercased qname), so a hot name is encoded
 * once and each later query only patches its ID, flags and question in
 * (wire/response.ts). Every index change empties it: the SOA serial and
 * possibly any answer changed. Bounded: when full it starts over, which
 * costs one re-encode per hot name and cannot grow under a flood of
 * random names.
 *
 * An entry is its bytes in a slab that holds nothing else and a number in a
 * Map, not objects, so filling the cache while serving promotes no query
 * garbage (docs/design/dns-memory.md#encoded-answers); a read builds the
 * short-lived view the reply is written from.
 *
 * Entry layout in a slab: u16 message length, u16 rcode, u16 zone number,
 * u16 × 3 section counts, u16 answer count, u16 TTL count, u16 lifetime
 * (s), f64 stored time (ms), u16 × answers (offset after each answer
 * record), u16 × TTLs (offset of each record's TTL), then the message.
 */
export class EncodedAnswers {
  /** qtype → qname → handle (handleOf). */
  readonly #byType = new Map<number, Map<string, number>>();
  readonly #max: number;
  #size = 0;
  /** Entries written since the last clear, re-stores of aged-out answers included: their old bytes stay in the slabs until then. */
  #written = 0;
  #slabs: Buffer[] = [];
  /** The slab small entries are being added to (-1: none yet), and how much of it is used. */
  #shared = -1;
  #used = 0;
  readonly #zones: string[] = [];
  hits = 0;
  misses = 0;

  constructor(max: number) {
    this.#max = max;
  }

  get(qtype: number, qname: string): CachedReply | undefined {
    const handle = this.#byType.get(qtype)?.get(qname);
    if (handle === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return this.#read(handle);
  }

  set(qtype: number, qname: string, msg: CachedReply): void {
    if (this.#max <= 0) return;
    if (this.#size >= this.#max || this.#written >= 2 * this.#max) this.clear();
    this.#written++;
    let names = this.#byType.get(qtype);
    if (!names) this.#byType.set(qtype, (names = new Map()));
    if (!names.has(qname)) this.#size++;
    names.set(qname, this.#write(msg));
  }

  clear(): void {
    this.#byType.clear();
    this.#size = 0;
    this.#written = 0;
    // Replies already handed out keep their slab alive; new entries go to new slabs.
    this.#slabs = [];
    this.#shared = -1;
  }

  get size(): number {
    return this.#size;
  }

  #write(msg: CachedReply): number {
    const length = HEADER + 2 * (msg.answerEnds.length + msg.ttlOffsets.length) + msg.bytes.length;
    let index: number;
    let at = 0;
    if (length > OWN_SLAB_OVER) {
      index = this.#slabs.push(Buffer.allocUnsafeSlow(length)) - 1;
    } else {
      if (this.#shared < 0 || this.#used + length > SLAB_SIZE) {
        this.#shared = this.#slabs.push(Buffer.allocUnsafeSlow(SLAB_SIZE)) - 1;
        this.#used = 0;
      }
      index = this.#shared;
      at = this.#used;
      this.#used += length;
    }
    const slab = this.#slabs[index];
    const handle = handleOf(index, at);
    slab.writeUInt16BE(msg.bytes.length, at);
    slab.writeUInt16BE(msg.rcode, at + 2);
    slab.writeUInt16BE(this.#zoneNumber(msg.zone), at + 4);
    slab.writeUInt16BE(msg.ancount, at + 6);
    slab.writeUInt16BE(msg.nscount, at + 8);
    slab.writeUInt16BE(msg.arcount, at + 10);
    slab.writeUInt16BE(msg.answerEnds.length, at + 12);
    slab.writeUInt16BE(msg.ttlOffsets.length, at + 14);
    slab.writeUInt16BE(msg.lifetimeS, at + 16);
    slab.writeDoubleBE(msg.storedMs, at + 18);
    let p = at + HEADER;
    for (const end of msg.answerEnds) {
      slab.writeUInt16BE(end, p);
      p += 2;
    }
    for (const ttlAt of msg.ttlOffsets) {
      slab.writeUInt16BE(ttlAt, p);
      p += 2;
    }
    msg.bytes.copy(slab, p);
    return handle;
  }

  #read(handle: number): CachedReply {
    const slab = this.#slabs[slabOf(handle)];
    const at = offsetOf(handle);
    const length = slab.readUInt16BE(at);
    const answers = slab.readUInt16BE(at + 12);
    const ttls = slab.readUInt16BE(at + 14);
    const answerEnds = new Array<number>(answers);
    const ttlOffsets = new Array<number>(ttls);
    let p = at + HEADER;
    for (let i = 0; i < answers; i++, p += 2) answerEnds[i] = slab.readUInt16BE(p);
    for (let i = 0; i < ttls; i++, p += 2) ttlOffsets[i] = slab.readUInt16BE(p);
    return {
      bytes: slab.subarray(p, p + length),
      answerEnds,
      ttlOffsets,
      lifetimeS: slab.readUInt16BE(at + 16),
      storedMs: slab.readDoubleBE(at + 18),
      rcode: slab.readUInt16BE(at + 2),
      zone: this.#zones[slab.readUInt16BE(at + 4)],
      ancount: slab.readUInt16BE(at + 6),
      nscount: slab.readUInt16BE(at + 8),
      arcount: slab.readUInt16BE(at + 10),
    };
  }

  #zoneNumber(zone: string): number {
    const i = this.#zones.indexOf(zone);
    if (i >= 0) return i;
    this.#zones.push(zone);
    return this.#zones.length - 1;
  }
}
