import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/market/prng.js';

/** xoshiro128** written with BigInt from the published algorithm, independent of the Math.imul version. */
function referenceXoshiro(state: readonly number[], count: number): number[] {
  const M = (1n << 32n) - 1n;
  const s = state.map((w) => BigInt(w));
  const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & M;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const [s0, s1, s2, s3] = s as [bigint, bigint, bigint, bigint];
    out.push(Number((rotl((s1 * 5n) & M, 7n) * 9n) & M));
    const t = (s1 << 9n) & M;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    const n1 = s1 ^ n2;
    const n0 = s0 ^ n3;
    s[0] = n0;
    s[1] = n1;
    s[2] = n2 ^ t;
    s[3] = rotl(n3, 11n);
  }
  return out;
}

describe('Prng (xoshiro128**)', () => {
  it('produces the hand-worked first words from state [1, 2, 3, 4]', () => {
    // s1 = 2: rotl(2·5, 7)·9 = 1280·9 = 11520; after one step s1 = 2 ^ (3 ^ 1) = 0, so the next word is 0.
    const p = Prng.from([1, 2, 3, 4]);
    expect(p.nextUint32()).toBe(11520);
    expect(p.nextUint32()).toBe(0);
  });

  it('matches a BigInt reference implementation for 1,000 words from a seeded state', () => {
    const p = new Prng(20260101);
    const start = p.state();
    const expected = referenceXoshiro(start, 1000);
    const actual = Array.from({ length: 1000 }, () => p.nextUint32());
    expect(actual).toEqual(expected);
  });

  it('is deterministic per seed and differs between seeds (including 0, 1 and seeds above 2^32)', () => {
    const draw = (seed: number): number[] => {
      const p = new Prng(seed);
      return Array.from({ length: 8 }, () => p.next());
    };
    expect(draw(42)).toEqual(draw(42));
    const seeds = [0, 1, 2, 42, 2 ** 32, 2 ** 32 + 1, -1];
    const firsts = new Set(seeds.map((s) => draw(s).join(',')));
    expect(firsts.size).toBe(seeds.length);
  });

  it('resumes exactly from its JSON-serialised state', () => {
    const a = new Prng(7);
    for (let i = 0; i < 123; i++) a.normal();
    const b = Prng.from(JSON.parse(JSON.stringify(a.state())) as number[]);
    for (let i = 0; i < 500; i++) {
      expect(b.next()).toBe(a.next());
      expect(b.normal()).toBe(a.normal());
    }
  });

  it('gives uniforms in [0, 1) and standard normals with the right moments', () => {
    const p = new Prng(99);
    const n = 200_000;
    let sum = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const u = p.next();
      sum += u;
      min = Math.min(min, u);
      max = Math.max(max, u);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(sum / n).toBeCloseTo(0.5, 2);

    let s1 = 0;
    let s2 = 0;
    let beyond2 = 0;
    for (let i = 0; i < n; i++) {
      const z = p.normal();
      s1 += z;
      s2 += z * z;
      if (Math.abs(z) > 2) beyond2++;
    }
    expect(Math.abs(s1 / n)).toBeLessThan(0.01);
    expect(s2 / n).toBeGreaterThan(0.98);
    expect(s2 / n).toBeLessThan(1.02);
    // P(|Z| > 2) = 4.55 %
    expect(beyond2 / n).toBeGreaterThan(0.043);
    expect(beyond2 / n).toBeLessThan(0.048);
  });

  it('rejects malformed states', () => {
    expect(() => Prng.from([1, 2, 3])).toThrow(/four/);
    expect(() => Prng.from([1, 2, 3, -4])).toThrow(/unsigned/);
    expect(() => Prng.from([0, 0, 0, 0])).toThrow(/zero/);
    expect(() => new Prng(Number.NaN)).toThrow(/finite/);
  });
});
