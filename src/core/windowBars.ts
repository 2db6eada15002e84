import type { OhlcvBar } from '../shared/bar.js';
import { assertCount, assertFinite, assertFiniteOrNull, assertObject, assertVersion } from './state.js';

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
  acceptedMinuteCount: number;
}

/** The window sizes DOMAIN.md allows: the divisors of 60. */
export const WINDOW_MINUTES = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60] as const;

export function assertWindowMinutes(windowMinutes: number): void {
  if (!Number.isInteger(windowMinutes) || windowMinutes < 1 || 60 % windowMinutes !== 0) {
    throw new Error(`window of ${String(windowMinutes)} minutes: the window must be a whole number of minutes dividing 60`);
  }
}

const NO_WINDOW = Number.NEGATIVE_INFINITY;

export class WindowBarSynthesizer {
  readonly windowMinutes: number;
  private readonly span: number;
  private readonly onWindowBar: (bar: OhlcvBar) => void;

  // The forming window lives in plain number fields so that a minute that does not close a
  // window allocates nothing.
  private windowStart = 0;
  private windowLastMinute = 0;
  /** End (exclusive) of the open window; NO_WINDOW while none is open. */
  private windowEnd = NO_WINDOW;
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
  private accepted = 0;

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
    // pushValues' common case again, reading the bar here: a caller holding a bar object passes
    // no doubles (a call V8 does not inline boxes each double argument).
    const time = bar.time;
    if (time > this.lastTime && time < this.windowEnd) {
      this.lastTime = time;
      this.accepted++;
      const high = bar.high;
      const low = bar.low;
      if (high > this.high) this.high = high;
      if (low < this.low) this.low = low;
      this.close = bar.close;
      this.volume += bar.volume;
      this.turnover += bar.turnover;
      this.openInterest = bar.openInterest;
      if (time >= this.windowLastMinute) this.emit();
      return true;
    }
    return this.pushOutsideWindow(time, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.turnover, bar.openInterest);
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
    // The common case, a later minute of the open window, is kept small so that V8 inlines it
    // into the caller's loop: a call that is not inlined boxes its eight double arguments.
    // (windowEnd is -Infinity while no window is open.)
    if (time > this.lastTime && time < this.windowEnd) {
      this.lastTime = time;
      this.accepted++;
      if (high > this.high) this.high = high;
      if (low < this.low) this.low = low;
      this.close = close;
      this.volume += volume;
      this.turnover += turnover;
      this.openInterest = openInterest;
      if (time >= this.windowLastMinute) this.emit();
      return true;
    }
    return this.pushOutsideWindow(time, open, high, low, close, volume, turnover, openInterest);
  }

  /** Minutes accepted so far (ignored duplicates not counted). */
  get acceptedMinuteCount(): number {
    return this.accepted;
  }

  /** A minute that is ignored, or that starts a window (closing the open one first). */
  private pushOutsideWindow(
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
    this.accepted++;
    if (this.windowEnd !== NO_WINDOW) this.emit();
    const offset = time % this.span;
    this.openWindow(time - (offset < 0 ? offset + this.span : offset));
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

  private openWindow(start: number): void {
    this.windowStart = start;
    this.windowLastMinute = start + this.span - 60;
    this.windowEnd = start + this.span;
  }

  /** A copy of the open (forming) window, or null. */
  forming(): OhlcvBar | null {
    return this.windowEnd !== NO_WINDOW ? this.formingBar() : null;
  }

  toState(): WindowBarState {
    return {
      version: 1,
      windowMinutes: this.windowMinutes,
      lastMinuteTime: this.lastMinuteTime,
      forming: this.forming(),
      ignoredMinuteCount: this.ignored,
      acceptedMinuteCount: this.accepted,
    };
  }

  static fromState(state: WindowBarState, onWindowBar: (bar: OhlcvBar) => void): WindowBarSynthesizer {
    assertObject(state, 'window bar state');
    assertVersion(state, 1, 'window bar state');
    const synthesizer = new WindowBarSynthesizer(state.windowMinutes, onWindowBar);
    assertFiniteOrNull(state.lastMinuteTime, 'window bar state lastMinuteTime');
    if (state.lastMinuteTime !== null) synthesizer.lastTime = state.lastMinuteTime;
    assertCount(state.ignoredMinuteCount, 'window bar state ignoredMinuteCount');
    assertCount(state.acceptedMinuteCount, 'window bar state acceptedMinuteCount');
    synthesizer.ignored = state.ignoredMinuteCount;
    synthesizer.accepted = state.acceptedMinuteCount;
    const f = state.forming;
    if (f !== null) {
      assertObject(f, 'window bar state forming');
      for (const key of ['time', 'open', 'high', 'low', 'close', 'volume', 'turnover', 'openInterest'] as const) {
        assertFinite(f[key], `window bar state forming.${key}`);
      }
      const span = synthesizer.span;
      const offset = ((f.time % span) + span) % span;
      if (offset !== 0) throw new Error(`window bar state: forming window time ${String(f.time)} is not aligned to ${String(state.windowMinutes)} minutes`);
      if (state.lastMinuteTime === null || state.lastMinuteTime < f.time || state.lastMinuteTime >= f.time + span) {
        throw new Error('window bar state: lastMinuteTime is not inside the forming window');
      }
      synthesizer.openWindow(f.time);
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
    this.windowEnd = NO_WINDOW;
    this.onWindowBar(bar);
  }
}
