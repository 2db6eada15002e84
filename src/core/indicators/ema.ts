import { assertFiniteOrNull, assertObject, assertPeriod } from '../state.js';

/**
 * EMA as DOMAIN.md defines it: `ema0 = x0`, `ema_t = a * x_t + (1 - a) * ema_{t-1}`,
 * `a = 2 / (N + 1)` — pandas `ewm(span=N, adjust=False)`, the Chinese-software convention
 * (no SMA seed, so the first value is the first input).
 */
export interface EmaState {
  period: number;
  /** null before the first input. */
  value: number | null;
}

export class Ema {
  readonly period: number;
  private readonly alpha: number;
  private readonly keep: number;
  private hasValue = false;
  private current = 0;

  constructor(period: number) {
    assertPeriod(period, 'EMA period');
    this.period = period;
    this.alpha = 2 / (period + 1);
    this.keep = 1 - this.alpha;
  }

  /** Feeds x and returns the new EMA. */
  update(x: number): number {
    this.current = this.hasValue ? this.alpha * x + this.keep * this.current : x;
    this.hasValue = true;
    return this.current;
  }

  /** What `update(x)` would return, leaving the EMA as it is. */
  peek(x: number): number {
    return this.hasValue ? this.alpha * x + this.keep * this.current : x;
  }

  /** The last EMA value, null before the first input. */
  get value(): number | null {
    return this.hasValue ? this.current : null;
  }

  copyFrom(other: Ema): void {
    if (other.period !== this.period) throw new Error(`EMA(${String(this.period)}) cannot copy EMA(${String(other.period)})`);
    this.hasValue = other.hasValue;
    this.current = other.current;
  }

  toState(): EmaState {
    return { period: this.period, value: this.value };
  }

  static fromState(state: EmaState): Ema {
    assertObject(state, 'EMA state');
    const ema = new Ema(state.period);
    assertFiniteOrNull(state.value, 'EMA state value');
    if (state.value !== null) {
      ema.hasValue = true;
      ema.current = state.value;
    }
    return ema;
  }
}
