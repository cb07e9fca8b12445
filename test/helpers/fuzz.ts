// Seeded randomness and DNS packet mutation shared by the fuzz tests, so a
// failure can be replayed from its seed.

/** mulberry32: a small deterministic PRNG returning numbers in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export interface MutationOptions {
  /** Pure-noise packets are shorter than this many bytes (sometimes shorter than a header). */
  noiseMax: number;
  /** Header bytes from this offset up to 12 are randomised: 4 scrambles the counts only, 2 the flags too. */
  scrambleHeaderFrom: number;
}

/**
 * One fuzz packet drawn with r: pure noise, a seed cut short, a seed with a
 * scrambled header, a seed with trailing garbage or a pointer loop in an
 * extra record, or a seed with 1-4 random bytes overwritten.
 */
export function mutatedQuery(r: () => number, seeds: readonly Buffer[], o: MutationOptions): Buffer {
  const n = Math.floor(r() * 10);
  if (n === 0) {
    const b = Buffer.alloc(Math.floor(r() * o.noiseMax));
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
    return b;
  }
  const base = Buffer.from(seeds[Math.floor(r() * seeds.length)]);
  if (n === 1) return base.subarray(0, Math.floor(r() * base.length));
  if (n === 2) {
    for (let i = o.scrambleHeaderFrom; i < 12; i++) base[i] = Math.floor(r() * 256);
    return base;
  }
  if (n === 3) return Buffer.concat([base, Buffer.from([0xc0, 0x0c, 0xc0, 0x0e, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0xff])]);
  const flips = 1 + Math.floor(r() * 4);
  for (let i = 0; i < flips; i++) base[Math.floor(r() * base.length)] = Math.floor(r() * 256);
  return base;
}
