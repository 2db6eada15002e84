import { assertCount, assertFinite, assertFiniteOrNull, assertObject } from '../state.js';
import { RollingExtreme, type RollingExtremeState } from './rollingExtreme.js';
import { SignalInput } from './signalInput.js';

/**
 * Dullness (钝化) of one side, DOMAIN.md "Dullness and divergence".
 *
 * Bottom, on each closed bar t (top mirrors: max, `>=`, `<`):
 *   newLow   = close_t <= min(close over the last L bars, t included) — close_t is the lowest
 *              close of the L-bar window;
 *   momentum = dif_t > min(dif over the previous L bars, t excluded).
 *   none      → dull       when newLow and momentum;
 *   dull      → structure  when dif_t > dif_{t-1} (judged from the bar after the one that
 *                          became dull: one transition per bar);
 *   dull|structure → none  when momentum fails (dif_t <= min of the previous L: dissolved);
 *   structure → none       when macd changes sign (crosses or touches zero) after the
 *                          structure formed.
 * Nothing is judged before L bars precede t (the windows are not full yet): the state stays
 * `none`.
 */
export type DullnessSide = 'bottom' | 'top';
export type DullnessStateName = 'none' | 'dull' | 'structure';

export interface DullnessState {
  side: DullnessSide;
  lookback: number;
  bars: number;
  state: DullnessStateName;
  /** Time of the bar where the current state began, null while it never left `none`. */
  since: number | null;
  prevDif: number | null;
  prevMacd: number | null;
  closes: RollingExtremeState;
  difs: RollingExtremeState;
}

const NONE = 0;
const DULL = 1;
const STRUCTURE = 2;
const STATE_NAMES: readonly DullnessStateName[] = ['none', 'dull', 'structure'];

export class Dullness {
  readonly side: DullnessSide;
  readonly lookback: number;
  private readonly bottom: boolean;
  private readonly closes: RollingExtreme;
  private readonly difs: RollingExtreme;
  private bars = 0;
  private code = NONE;
  private hasSince = false;
  private sinceTime = 0;
  private prevDif = 0;
  private prevMacd = 0;

  constructor(side: DullnessSide, lookback: number) {
    this.side = side;
    this.lookback = lookback;
    this.bottom = side === 'bottom';
    const kind = this.bottom ? 'min' : 'max';
    this.closes = new RollingExtreme(lookback, kind);
    this.difs = new RollingExtreme(lookback, kind);
  }

  private scratchInput: SignalInput | null = null;

  /** Feeds one closed bar; returns the state after it. */
  update(time: number, close: number, dif: number, macd: number): DullnessStateName {
    const input = (this.scratchInput ??= new SignalInput());
    this.step(input.set(time, close, close, close, dif, macd));
    return this.state;
  }

  /** `update` reading the bar's time, close, dif and macd from `input` (the engine's hot path). */
  step(input: SignalInput): void {
    const close = input.close;
    const dif = input.dif;
    this.closes.push(close);
    if (this.bars >= this.lookback) {
      const closeExtreme = this.closes.extreme;
      const difExtreme = this.difs.extreme;
      const bottom = this.bottom;
      const momentum = bottom ? dif > difExtreme : dif < difExtreme;
      let next = this.code;
      if (this.code === NONE) {
        if (momentum && (bottom ? close <= closeExtreme : close >= closeExtreme)) next = DULL;
      } else if (!momentum) {
        next = NONE;
      } else if (this.code === DULL) {
        if (bottom ? dif > this.prevDif : dif < this.prevDif) next = STRUCTURE;
      } else if (macdChangedSign(this.prevMacd, input.macd)) {
        next = NONE;
      }
      if (next !== this.code) {
        this.code = next;
        this.hasSince = true;
        this.sinceTime = input.time;
      }
    }
    this.difs.push(dif);
    this.prevDif = dif;
    this.prevMacd = input.macd;
    this.bars++;
  }

  get state(): DullnessStateName {
    return STATE_NAMES[this.code] ?? 'none';
  }

  get since(): number | null {
    return this.hasSince ? this.sinceTime : null;
  }

  copyFrom(other: Dullness): void {
    if (other.side !== this.side || other.lookback !== this.lookback) throw new Error('dullness: cannot copy a different detector');
    this.closes.copyFrom(other.closes);
    this.difs.copyFrom(other.difs);
    this.bars = other.bars;
    this.code = other.code;
    this.hasSince = other.hasSince;
    this.sinceTime = other.sinceTime;
    this.prevDif = other.prevDif;
    this.prevMacd = other.prevMacd;
  }

  toState(): DullnessState {
    return {
      side: this.side,
      lookback: this.lookback,
      bars: this.bars,
      state: this.state,
      since: this.since,
      prevDif: this.bars > 0 ? this.prevDif : null,
      prevMacd: this.bars > 0 ? this.prevMacd : null,
      closes: this.closes.toState(),
      difs: this.difs.toState(),
    };
  }

  static fromState(state: DullnessState): Dullness {
    assertObject(state, 'dullness state');
    if (state.side !== 'bottom' && state.side !== 'top') throw new Error(`dullness state: side ${String(state.side)}`);
    const d = new Dullness(state.side, state.lookback);
    assertCount(state.bars, 'dullness state bars');
    const code = STATE_NAMES.indexOf(state.state);
    if (code < 0) throw new Error(`dullness state: state ${String(state.state)}`);
    assertFiniteOrNull(state.since, 'dullness state since');
    assertFiniteOrNull(state.prevDif, 'dullness state prevDif');
    assertFiniteOrNull(state.prevMacd, 'dullness state prevMacd');
    d.bars = state.bars;
    d.code = code;
    d.hasSince = state.since !== null;
    d.sinceTime = state.since ?? 0;
    d.prevDif = state.prevDif ?? 0;
    d.prevMacd = state.prevMacd ?? 0;
    d.closes.copyFrom(RollingExtreme.fromState(state.closes));
    d.difs.copyFrom(RollingExtreme.fromState(state.difs));
    if (state.bars > 0) assertFinite(state.prevDif, 'dullness state prevDif');
    return d;
  }
}

/**
 * A sign change of the histogram between two bars: from below zero to zero or above, or from
 * above zero to zero or below. A bar at exactly zero is the change; leaving zero is not another.
 */
export function macdChangedSign(prev: number, current: number): boolean {
  return (prev < 0 && current >= 0) || (prev > 0 && current <= 0);
}
