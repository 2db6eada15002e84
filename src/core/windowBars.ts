import type { OhlcvBar } from '../shared/bar.js';
import { assertFiniteOrNull, assertObject, assertVersion } from './state.js';

/**
 * 1-minute bars → clock-aligned N-minute window bars (DOMAIN.md "Window bars").
 *
 * * The window of a minute starts at `floor(minuteOfDay / N) * N`. Because N divides 60
 *   (and so 1440), that is the same as flooring the local-as-UTC time to a multiple of
 *   N minutes, which needs no day arithmetic.
 * * A window is emitted on its last minute (`(minute + 1) % N == 0`, that bar included),
 *   or, when its last minute never came (gap, break, session end), just before the first
 *   bar of a later window starts the next one. Hence one push emits 0, 1 or 2 window bars.
 * * A window never spans a break: bars only merge when they fall in the same clock window.
 * * A 1-minute bar whose time is not after the last accepted minute (a duplicate, or out of
 *   order) is ignored and counted in `ignoredMinuteCount`: a restore replay and the live feed
 *   may overlap, and the first copy of a minute is the one that counts.
 */
export interface WindowBarState {
  version: 1;
  windowMinutes: number;
  /** Time of the last accepted 1-minute bar, null before the first. */
  lastMinuteTime: number | null;
  /** The open window, null when none is open. */
  forming: OhlcvBar | null;
  ignoredMinuteCount: number;
}

/** The window sizes DOMAIN.md allows: the divisors of 60. */
export const WINDOW_MINUTES = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60] as const;

export function assertWindowMinutes(windowMinutes: number): void {
  if (!Number.isInteger(windowMinutes) || windowMinutes < 1 || 60 % windowMinutes !== 0) {
    throw new Error(`window of ${String(windowMinutes)} minutes: the window must be a whole number of minutes dividing 60`);
  }
}

export class WindowBarSynthesizer {
  readonly windowMinutes: number;
  private readonly span: number;
  private readonly onWindowBar: (bar: OhlcvBar) => void;

  // The forming window lives in plain number fields so that a minute that does not close a
  // window allocates nothing.
  private isOpen = false;
  private windowStart = 0;
  private windowLastMinute = 0;
  private windowEnd = 0;
  private open = 0;
  private high = 0;
  private low = 0;
  private close = 0;
  private volume = 0;
  private turnover = 0;
  private openInterest = 0;
  /** -Infinity until the first bar, so that the duplicate check is a single comparison. */
  private lastTime = Number.NEGATIVE_INFINITY;
  private ignored = 0;

  constructor(windowMinutes: number, onWindowBar: (bar: OhlcvBar) => void) {
    assertWindowMinutes(windowMinutes);
    this.windowMinutes = windowMinutes;
    this.span = windowMinutes * 60;
    this.onWindowBar = onWindowBar;
  }

  /** Time of the last accepted 1-minute bar. */
  get lastMinuteTime(): number | null {
    return this.lastTime === Number.NEGATIVE_INFINITY ? null : this.lastTime;
  }

  /** 1-minute bars ignored because they were not after the last accepted one. */
  get ignoredMinuteCount(): number {
    return this.ignored;
  }

  /** Feeds one 1-minute bar; returns false when it was ignored as a duplicate or out of order. */
  push(bar: OhlcvBar): boolean {
    return this.pushValues(bar.time, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.turnover, bar.openInterest);
  }

  /** `push` without the bar object; returns false when the bar was ignored. */
  pushValues(
    time: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
    turnover: number,
    openInterest: number,
  ): boolean {
    // Written as a negation so that a NaN time is ignored too.
    if (!(time > this.lastTime)) {
      this.ignored++;
      return false;
    }
    this.lastTime = time;
    if (this.isOpen) {
      if (time < this.windowEnd) {
        if (high > this.high) this.high = high;
        if (low < this.low) this.low = low;
        this.close = close;
        this.volume += volume;
        this.turnover += turnover;
        this.openInterest = openInterest;
        if (time >= this.windowLastMinute) this.emit();
        return true;
      }
      this.emit();
    }
    const offset = time % this.span;
    const start = time - (offset < 0 ? offset + this.span : offset);
    this.isOpen = true;
    this.windowStart = start;
    this.windowLastMinute = start + this.span - 60;
    this.windowEnd = start + this.span;
    this.open = open;
    this.high = high;
    this.low = low;
    this.close = close;
    this.volume = volume;
    this.turnover = turnover;
    this.openInterest = openInterest;
    if (time >= this.windowLastMinute) this.emit();
    return true;
  }

  /** A copy of the open (forming) window, or null. */
  forming(): OhlcvBar | null {
    return this.isOpen ? this.formingBar() : null;
  }

  toState(): WindowBarState {
    return {
      version: 1,
      windowMinutes: this.windowMinutes,
      lastMinuteTime: this.lastMinuteTime,
      forming: this.forming(),
      ignoredMinuteCount: this.ignored,
    };
  }

  static fromState(state: WindowBarState, onWindowBar: (bar: OhlcvBar) => void): WindowBarSynthesizer {
    assertObject(state, 'window bar state');
    assertVersion(state, 1, 'window bar state');
    const synthesizer = new WindowBarSynthesizer(state.windowMinutes, onWindowBar);
    assertFiniteOrNull(state.lastMinuteTime, 'window bar state lastMinuteTime');
    if (state.lastMinuteTime !== null) synthesizer.lastTime = state.lastMinuteTime;
    synthesizer.ignored = typeof state.ignoredMinuteCount === 'number' ? state.ignoredMinuteCount : 0;
    const f = state.forming;
    if (f !== null) {
      assertObject(f, 'window bar state forming');
      const span = synthesizer.span;
      const offset = ((f.time % span) + span) % span;
      if (offset !== 0) throw new Error(`window bar state: forming window time ${String(f.time)} is not aligned to ${String(state.windowMinutes)} minutes`);
      synthesizer.isOpen = true;
      synthesizer.windowStart = f.time;
      synthesizer.windowLastMinute = f.time + span - 60;
      synthesizer.windowEnd = f.time + span;
      synthesizer.open = f.open;
      synthesizer.high = f.high;
      synthesizer.low = f.low;
      synthesizer.close = f.close;
      synthesizer.volume = f.volume;
      synthesizer.turnover = f.turnover;
      synthesizer.openInterest = f.openInterest;
    }
    return synthesizer;
  }

  private formingBar(): OhlcvBar {
    return {
      time: this.windowStart,
      open: this.open,
      high: this.high,
      low: this.low,
      close: this.close,
      volume: this.volume,
      turnover: this.turnover,
      openInterest: this.openInterest,
    };
  }

  private emit(): void {
    // Closed before the callback runs, so a callback that inspects `forming()` sees no window.
    const bar = this.formingBar();
    this.isOpen = false;
    this.onWindowBar(bar);
  }
}
