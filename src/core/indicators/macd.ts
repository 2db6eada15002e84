import { assertObject } from '../state.js';
import { Ema, type EmaState } from './ema.js';

/**
 * MACD(fast, slow, signal) as DOMAIN.md defines it: `dif = EMA_fast - EMA_slow`,
 * `dea = EMA_signal(dif)`, `macd = 2 * (dif - dea)`, every EMA seeded with its first input
 * (so the first bar has dif = dea = macd = 0).
 */
export interface MacdState {
  fast: EmaState;
  slow: EmaState;
  signal: EmaState;
}

export interface MacdValue {
  dif: number;
  dea: number;
  macd: number;
}

export class Macd {
  private readonly fast: Ema;
  private readonly slow: Ema;
  private readonly signal: Ema;
  /** Results of the last update, read through the getters so that updating allocates nothing. */
  dif = 0;
  dea = 0;
  macd = 0;

  constructor(fastPeriod = 12, slowPeriod = 26, signalPeriod = 9) {
    this.fast = new Ema(fastPeriod);
    this.slow = new Ema(slowPeriod);
    this.signal = new Ema(signalPeriod);
  }

  /** Feeds a close; the results are in `dif`, `dea`, `macd`. */
  update(close: number): void {
    const dif = this.fast.update(close) - this.slow.update(close);
    const dea = this.signal.update(dif);
    this.dif = dif;
    this.dea = dea;
    this.macd = 2 * (dif - dea);
  }

  /** What an update with `close` would give, leaving the MACD as it is. */
  peek(close: number): MacdValue {
    const dif = this.fast.peek(close) - this.slow.peek(close);
    const dea = this.signal.peek(dif);
    return { dif, dea, macd: 2 * (dif - dea) };
  }

  get periods(): { fast: number; slow: number; signal: number } {
    return { fast: this.fast.period, slow: this.slow.period, signal: this.signal.period };
  }

  copyFrom(other: Macd): void {
    this.fast.copyFrom(other.fast);
    this.slow.copyFrom(other.slow);
    this.signal.copyFrom(other.signal);
    this.dif = other.dif;
    this.dea = other.dea;
    this.macd = other.macd;
  }

  toState(): MacdState {
    return { fast: this.fast.toState(), slow: this.slow.toState(), signal: this.signal.toState() };
  }

  static fromState(state: MacdState): Macd {
    assertObject(state, 'MACD state');
    const fast = Ema.fromState(state.fast);
    const slow = Ema.fromState(state.slow);
    const signal = Ema.fromState(state.signal);
    const macd = new Macd(fast.period, slow.period, signal.period);
    macd.fast.copyFrom(fast);
    macd.slow.copyFrom(slow);
    macd.signal.copyFrom(signal);
    // The last results follow from the EMAs: dea is the signal EMA's value, dif its last input
    // is not stored, so recompute dif from the price EMAs (both were fed the same close).
    const f = fast.value;
    const s = slow.value;
    const d = signal.value;
    if (f !== null && s !== null && d !== null) {
      macd.dif = f - s;
      macd.dea = d;
      macd.macd = 2 * (macd.dif - d);
    }
    return macd;
  }
}
