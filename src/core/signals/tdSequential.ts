import { assertCount, assertFiniteArray, assertObject } from '../state.js';
import type { SignalInput } from './signalInput.js';

/**
 * TD sequential setup and countdown (DOMAIN.md "TD sequential"), marks 9 and 13.
 *
 * * Setup: buy count +1 when `C_t < C_{t-4}`, else 0 (sell: `>`). No count before a bar has a
 *   bar four back (the first 4 bars count 0). At 9 the setup completes on that bar and the
 *   running count restarts from 0: a decline that goes on counts 1, 2, … again, so it can
 *   complete another 9 nine bars later (there is no 10).
 * * Countdown: a completed buy setup starts a buy countdown on the completing bar itself (that
 *   bar may already count 1), or keeps a buy countdown already running (it is not restarted).
 *   Each bar with `C_t <= L_{t-2}` adds one; at 13 it completes and ends. Sell: `C_t >= H_{t-2}`.
 *   A completed setup of the other side cancels the countdown (and starts its own).
 * * The counts reported for a bar are the counts *reached on that bar*: 9 (or 13) on the
 *   completing bar, then the next bar starts from 0 again.
 */
export type TdSide = 'buy' | 'sell';
export interface TdCount {
  side: TdSide | null;
  count: number;
}

export interface TdSequentialState {
  /** Closes of the last (up to) 4 bars, oldest first. */
  closes: number[];
  /** Lows and highs of the last (up to) 2 bars, oldest first. */
  lows: number[];
  highs: number[];
  /** Bars seen. */
  bars: number;
  buySetup: number;
  sellSetup: number;
  countdownSide: TdSide | null;
  countdownCount: number;
  /** Which setup / countdown completed on the last bar, if any. */
  setupCompleted: TdSide | null;
  countdownCompleted: TdSide | null;
}

const NONE = 0;
const BUY = 1;
const SELL = -1;
type SideCode = typeof NONE | typeof BUY | typeof SELL;

function sideName(code: number): TdSide | null {
  return code === BUY ? 'buy' : code === SELL ? 'sell' : null;
}
function sideCode(side: TdSide | null): SideCode {
  return side === 'buy' ? BUY : side === 'sell' ? SELL : NONE;
}

export const TD_SETUP_LENGTH = 9;
export const TD_COUNTDOWN_LENGTH = 13;

export class TdSequential {
  private readonly closes = new Float64Array(4);
  private readonly lows = new Float64Array(2);
  private readonly highs = new Float64Array(2);
  private bars = 0;
  private buySetup = 0;
  private sellSetup = 0;
  private countdownSide: SideCode = NONE;
  private countdownCount = 0;
  /** Set by update: which side's setup / countdown completed on this bar (NONE if none). */
  setupCompleted: SideCode = NONE;
  countdownCompleted: SideCode = NONE;

  update(close: number, high: number, low: number): void {
    this.stepValues(close, high, low);
  }

  /** `update` reading close, high and low from `input` (the engine's hot path). */
  step(input: SignalInput): void {
    this.stepValues(input.close, input.high, input.low);
  }

  private stepValues(close: number, high: number, low: number): void {
    const n = this.bars;
    const slot4 = n & 3;
    const slot2 = n & 1;
    // Read t-4 and t-2 before the slots are overwritten with t.
    const close4 = this.closes[slot4] as number;
    const low2 = this.lows[slot2] as number;
    const high2 = this.highs[slot2] as number;
    this.closes[slot4] = close;
    this.lows[slot2] = low;
    this.highs[slot2] = high;
    this.bars = n + 1;

    let setupDone: SideCode = NONE;
    if (n >= 4) {
      this.buySetup = close < close4 ? this.buySetup + 1 : 0;
      this.sellSetup = close > close4 ? this.sellSetup + 1 : 0;
      if (this.buySetup === TD_SETUP_LENGTH) {
        setupDone = BUY;
        this.buySetup = 0;
      } else if (this.sellSetup === TD_SETUP_LENGTH) {
        setupDone = SELL;
        this.sellSetup = 0;
      }
    }
    if (setupDone !== NONE && this.countdownSide !== setupDone) {
      this.countdownSide = setupDone;
      this.countdownCount = 0;
    }
    let countdownDone: SideCode = NONE;
    if (this.countdownSide !== NONE && n >= 2) {
      const counts = this.countdownSide === BUY ? close <= low2 : close >= high2;
      if (counts && ++this.countdownCount === TD_COUNTDOWN_LENGTH) {
        countdownDone = this.countdownSide;
        this.countdownSide = NONE;
        this.countdownCount = 0;
      }
    }
    this.setupCompleted = setupDone;
    this.countdownCompleted = countdownDone;
  }

  /** The setup count reached on the last bar. */
  setup(): TdCount {
    if (this.setupCompleted !== NONE) return { side: sideName(this.setupCompleted), count: TD_SETUP_LENGTH };
    if (this.buySetup > 0) return { side: 'buy', count: this.buySetup };
    if (this.sellSetup > 0) return { side: 'sell', count: this.sellSetup };
    return { side: null, count: 0 };
  }

  /** The countdown reached on the last bar (a just-started countdown may show 0). */
  countdown(): TdCount {
    if (this.countdownCompleted !== NONE) return { side: sideName(this.countdownCompleted), count: TD_COUNTDOWN_LENGTH };
    if (this.countdownSide !== NONE) return { side: sideName(this.countdownSide), count: this.countdownCount };
    return { side: null, count: 0 };
  }

  copyFrom(other: TdSequential): void {
    this.closes.set(other.closes);
    this.lows.set(other.lows);
    this.highs.set(other.highs);
    this.bars = other.bars;
    this.buySetup = other.buySetup;
    this.sellSetup = other.sellSetup;
    this.countdownSide = other.countdownSide;
    this.countdownCount = other.countdownCount;
    this.setupCompleted = other.setupCompleted;
    this.countdownCompleted = other.countdownCompleted;
  }

  toState(): TdSequentialState {
    const n = this.bars;
    const closes: number[] = [];
    for (let k = Math.min(n, 4); k >= 1; k--) closes.push(this.closes[(n - k) & 3] ?? 0);
    const lows: number[] = [];
    const highs: number[] = [];
    for (let k = Math.min(n, 2); k >= 1; k--) {
      lows.push(this.lows[(n - k) & 1] ?? 0);
      highs.push(this.highs[(n - k) & 1] ?? 0);
    }
    return {
      closes,
      lows,
      highs,
      bars: n,
      buySetup: this.buySetup,
      sellSetup: this.sellSetup,
      countdownSide: sideName(this.countdownSide),
      countdownCount: this.countdownCount,
      setupCompleted: sideName(this.setupCompleted),
      countdownCompleted: sideName(this.countdownCompleted),
    };
  }

  static fromState(state: TdSequentialState): TdSequential {
    assertObject(state, 'TD state');
    assertCount(state.bars, 'TD state bars');
    assertFiniteArray(state.closes, 'TD state closes', 4);
    assertFiniteArray(state.lows, 'TD state lows', 2);
    assertFiniteArray(state.highs, 'TD state highs', 2);
    assertCount(state.buySetup, 'TD state buySetup');
    assertCount(state.sellSetup, 'TD state sellSetup');
    assertCount(state.countdownCount, 'TD state countdownCount');
    const n = state.bars;
    if (state.closes.length !== Math.min(n, 4) || state.lows.length !== Math.min(n, 2) || state.highs.length !== Math.min(n, 2)) {
      throw new Error('TD state: the price history does not match the bar count');
    }
    const td = new TdSequential();
    td.bars = n;
    state.closes.forEach((c, i) => (td.closes[(n - state.closes.length + i) & 3] = c));
    state.lows.forEach((l, i) => (td.lows[(n - state.lows.length + i) & 1] = l));
    state.highs.forEach((h, i) => (td.highs[(n - state.highs.length + i) & 1] = h));
    td.buySetup = state.buySetup;
    td.sellSetup = state.sellSetup;
    td.countdownSide = sideCode(state.countdownSide);
    td.countdownCount = state.countdownCount;
    td.setupCompleted = sideCode(state.setupCompleted);
    td.countdownCompleted = sideCode(state.countdownCompleted);
    return td;
  }
}

export { BUY as TD_BUY, SELL as TD_SELL, NONE as TD_NONE };
