import { assertCount, assertFiniteArray, assertFiniteOrNull, assertObject, assertPeriod } from '../state.js';
import { RollingExtreme, type RollingExtremeState } from './rollingExtreme.js';
import { SignalInput } from './signalInput.js';

/**
 * Divergence (背离) of one side, DOMAIN.md "Dullness and divergence".
 *
 * Bottom, at bar t: the recent window is the last R bars (t included), the earlier window the
 * M bars before them. It fires when the lowest low of the recent window is strictly below the
 * lowest low of the earlier window while dif at the recent low is strictly above dif at the
 * earlier low. "dif at a low" is the dif of the bar that made that low; when several bars share
 * the lowest low, the latest of them. Top mirrors it with highs.
 *
 * Active on bar t when it fired on any of the bars t-R+1 … t: it stays active R bars after
 * each firing (the firing bar included). `since` is the time of the bar where the current
 * active/inactive run began. Nothing fires before R + M bars exist (both windows full).
 */
export type DivergenceSide = 'bottom' | 'top';

export interface DivergenceState {
  side: DivergenceSide;
  compare: number;
  recent: number;
  bars: number;
  /** Index of the last bar where it fired, null if never. */
  lastFired: number | null;
  active: boolean;
  since: number | null;
  /** Prices (low or high) and difs of the last (up to) R bars, oldest first. */
  recentPrices: number[];
  recentDifs: number[];
  recentExtreme: RollingExtremeState;
  earlierExtreme: RollingExtremeState;
}

export class Divergence {
  readonly side: DivergenceSide;
  readonly compare: number;
  readonly recent: number;
  private readonly bottom: boolean;
  private readonly recentExtreme: RollingExtreme;
  private readonly earlierExtreme: RollingExtreme;
  private readonly ringPrice: Float64Array;
  private readonly ringDif: Float64Array;
  private bars = 0;
  /** Ring slot of the bar that is R bars old, where the next bar goes. */
  private slot = 0;
  private lastFired = -1;
  private isActive = false;
  private hasSince = false;
  private sinceTime = 0;
  /** Whether the condition held on the last bar (not just "active"). */
  fired = false;

  constructor(side: DivergenceSide, compare: number, recent: number) {
    assertPeriod(compare, 'divergence comparison window');
    assertPeriod(recent, 'divergence recent window');
    this.side = side;
    this.compare = compare;
    this.recent = recent;
    this.bottom = side === 'bottom';
    const kind = this.bottom ? 'min' : 'max';
    this.recentExtreme = new RollingExtreme(recent, kind);
    this.earlierExtreme = new RollingExtreme(compare, kind);
    this.ringPrice = new Float64Array(recent);
    this.ringDif = new Float64Array(recent);
  }

  private scratchInput: SignalInput | null = null;

  /** Feeds one closed bar: `price` is its low for a bottom divergence, its high for a top one. */
  update(time: number, price: number, dif: number): boolean {
    const input = (this.scratchInput ??= new SignalInput());
    this.step(input.set(time, price, price, price, dif, 0));
    return this.isActive;
  }

  /** `update` reading the bar's time, low (bottom) or high (top) and dif from `input`. */
  step(input: SignalInput): void {
    const price = this.bottom ? input.low : input.high;
    const dif = input.dif;
    const n = this.bars;
    const slot = this.slot;
    // Bar t-R leaves the recent window and joins the earlier one.
    if (n >= this.recent) this.earlierExtreme.push(this.ringPrice[slot] as number, this.ringDif[slot] as number);
    this.ringPrice[slot] = price;
    this.ringDif[slot] = dif;
    this.slot = slot + 1 === this.recent ? 0 : slot + 1;
    this.recentExtreme.push(price, dif);
    let fired = false;
    if (n + 1 >= this.recent + this.compare) {
      const recentPrice = this.recentExtreme.extreme;
      const recentDif = this.recentExtreme.extremeAux;
      const earlierPrice = this.earlierExtreme.extreme;
      const earlierDif = this.earlierExtreme.extremeAux;
      fired = this.bottom
        ? recentPrice < earlierPrice && recentDif > earlierDif
        : recentPrice > earlierPrice && recentDif < earlierDif;
    }
    if (fired) this.lastFired = n;
    this.fired = fired;
    const active = this.lastFired >= 0 && n - this.lastFired < this.recent;
    if (active !== this.isActive) {
      this.isActive = active;
      this.hasSince = true;
      this.sinceTime = input.time;
    }
    this.bars = n + 1;
  }

  get active(): boolean {
    return this.isActive;
  }

  get since(): number | null {
    return this.hasSince ? this.sinceTime : null;
  }

  copyFrom(other: Divergence): void {
    if (other.side !== this.side || other.compare !== this.compare || other.recent !== this.recent) {
      throw new Error('divergence: cannot copy a different detector');
    }
    this.recentExtreme.copyFrom(other.recentExtreme);
    this.earlierExtreme.copyFrom(other.earlierExtreme);
    this.ringPrice.set(other.ringPrice);
    this.ringDif.set(other.ringDif);
    this.bars = other.bars;
    this.slot = other.slot;
    this.lastFired = other.lastFired;
    this.isActive = other.isActive;
    this.hasSince = other.hasSince;
    this.sinceTime = other.sinceTime;
    this.fired = other.fired;
  }

  toState(): DivergenceState {
    const n = this.bars;
    const r = this.recent;
    const recentPrices: number[] = [];
    const recentDifs: number[] = [];
    for (let k = Math.min(n, r); k >= 1; k--) {
      const slot = (n - k) % r;
      recentPrices.push(this.ringPrice[slot] ?? 0);
      recentDifs.push(this.ringDif[slot] ?? 0);
    }
    return {
      side: this.side,
      compare: this.compare,
      recent: r,
      bars: n,
      lastFired: this.lastFired >= 0 ? this.lastFired : null,
      active: this.isActive,
      since: this.since,
      recentPrices,
      recentDifs,
      recentExtreme: this.recentExtreme.toState(),
      earlierExtreme: this.earlierExtreme.toState(),
    };
  }

  static fromState(state: DivergenceState): Divergence {
    assertObject(state, 'divergence state');
    if (state.side !== 'bottom' && state.side !== 'top') throw new Error(`divergence state: side ${String(state.side)}`);
    const d = new Divergence(state.side, state.compare, state.recent);
    assertCount(state.bars, 'divergence state bars');
    const n = state.bars;
    const r = state.recent;
    assertFiniteArray(state.recentPrices, 'divergence state recentPrices', r);
    assertFiniteArray(state.recentDifs, 'divergence state recentDifs', r);
    if (state.recentPrices.length !== Math.min(n, r) || state.recentDifs.length !== Math.min(n, r)) {
      throw new Error('divergence state: the recent bars do not match the bar count');
    }
    if (state.lastFired !== null) assertCount(state.lastFired, 'divergence state lastFired');
    if (typeof state.active !== 'boolean') throw new Error('divergence state: active is not a boolean');
    d.bars = n;
    d.slot = n % r;
    state.recentPrices.forEach((p, i) => (d.ringPrice[(n - state.recentPrices.length + i) % r] = p));
    state.recentDifs.forEach((p, i) => (d.ringDif[(n - state.recentDifs.length + i) % r] = p));
    d.lastFired = state.lastFired ?? -1;
    d.isActive = state.active;
    assertFiniteOrNull(state.since, 'divergence state since');
    d.hasSince = state.since !== null;
    d.sinceTime = state.since ?? 0;
    d.fired = state.lastFired !== null && state.lastFired === n - 1;
    d.recentExtreme.copyFrom(RollingExtreme.fromState(state.recentExtreme));
    d.earlierExtreme.copyFrom(RollingExtreme.fromState(state.earlierExtreme));
    return d;
  }
}
