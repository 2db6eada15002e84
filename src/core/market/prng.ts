/**
 * A small seeded PRNG for the simulated market: xoshiro128** (Blackman & Vigna), seeded
 * through splitmix32. Core code never calls Math.random: a seed makes a demo run repeatable,
 * and the four-word state can be saved and resumed mid-run without changing what follows.
 */

const TWO_POW_32 = 4_294_967_296;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** splitmix32 step: spreads any seed (0, 1, 2 … included) over well-mixed state words. */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** Any finite number is a seed (truncated to an integer; both 32-bit halves of a large seed are mixed in). */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`PRNG seed must be a finite number, got ${seed}`);
    const whole = Math.trunc(seed);
    const low = whole >>> 0;
    const high = Math.floor(whole / TWO_POW_32) >>> 0;
    let x = splitmix32(low ^ splitmix32(high));
    this.s0 = x;
    x = splitmix32(x);
    this.s1 = x;
    x = splitmix32(x);
    this.s2 = x;
    x = splitmix32(x);
    this.s3 = x;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32-bit unsigned word. */
  nextUint32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /**
   * Standard normal by Box–Muller. The second variate is discarded rather than cached so that
   * the state stays four plain words: resuming from state() never depends on a hidden spare.
   */
  normal(): number {
    const u1 = 1 - this.next(); // (0, 1]: log(0) never happens
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Four unsigned 32-bit words; JSON-safe. */
  state(): number[] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  static from(state: readonly number[]): Prng {
    if (state.length !== 4 || !state.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32)) {
      throw new Error(`PRNG state must be four unsigned 32-bit integers, got ${JSON.stringify(state)}`);
    }
    if (state.every((w) => w === 0)) throw new Error('PRNG state must not be all zero');
    const prng = new Prng(0);
    prng.s0 = state[0] ?? 0;
    prng.s1 = state[1] ?? 0;
    prng.s2 = state[2] ?? 0;
    prng.s3 = state[3] ?? 0;
    return prng;
  }
}
