import type { OhlcvBar } from '../shared/bar.js';
import { DEFAULT_SIGNAL_PARAMS, SIGNAL_PARAM_KEYS, type SignalParams } from '../shared/signalParams.js';
import type { SignalState, TdMark } from '../shared/snapshot.js';
import { Ema, type EmaState } from './indicators/ema.js';
import { emaStateOf, type EmaStateName } from './indicators/emaState.js';
import { Macd, type MacdState } from './indicators/macd.js';
import { Divergence, type DivergenceState } from './signals/divergence.js';
import { Dullness, type DullnessState, type DullnessStateName } from './signals/dullness.js';
import { SignalInput } from './signals/signalInput.js';
import { TD_BUY, TD_NONE, TdSequential, type TdCount, type TdSequentialState } from './signals/tdSequential.js';
import { assertCount, assertObject, assertPeriod, assertVersion } from './state.js';

/** Defaults filled in, every value checked to be a whole number of bars. */
export function resolveSignalParams(params?: Partial<SignalParams>): SignalParams {
  const resolved: SignalParams = { ...DEFAULT_SIGNAL_PARAMS };
  if (params) {
    for (const key of SIGNAL_PARAM_KEYS) {
      const v = params[key];
      if (v !== undefined) resolved[key] = v;
    }
  }
  for (const key of SIGNAL_PARAM_KEYS) assertPeriod(resolved[key], `signal parameter ${key}`);
  return resolved;
}

export function sameSignalParams(a: SignalParams, b: SignalParams): boolean {
  return SIGNAL_PARAM_KEYS.every((k) => a[k] === b[k]);
}

export type DullnessName = DullnessStateName;

export interface WindowAnalysis {
  bar: OhlcvBar;
  dif: number;
  dea: number;
  macd: number;
  emaFast: number;
  emaSlow: number;
  emaState: EmaStateName;
  /** The setup count reached on this bar (9 on the completing bar). */
  tdSetup: TdCount;
  /** The countdown reached on this bar (13 on the completing bar). */
  tdCountdown: TdCount;
  /** Marks completed on this bar: 9 / 13, buy under the low (price = low), sell over the high. */
  marks: TdMark[];
  bottomDullness: DullnessName;
  topDullness: DullnessName;
  /** Active divergences (each stays active R bars after it fired). */
  bottomDivergence: boolean;
  topDivergence: boolean;
}

export interface SignalEngineState {
  version: 1;
  params: SignalParams;
  barCount: number;
  /** Time of the last bar fed, null before the first. */
  lastBarTime: number | null;
  macd: MacdState;
  emaFast: EmaState;
  emaSlow: EmaState;
  emaState: EmaStateName;
  td: TdSequentialState;
  bottomDullness: DullnessState;
  topDullness: DullnessState;
  bottomDivergence: DivergenceState;
  topDivergence: DivergenceState;
}

/**
 * The signal engine: every indicator and signal of DOMAIN.md, per closed window bar, O(1)
 * amortised per bar. Live trading, restore replay, backtests and the history view all feed
 * window bars through this one class, so their values cannot drift apart.
 */
export class SignalEngine {
  readonly params: Readonly<SignalParams>;
  private readonly macdLine: Macd;
  private readonly emaFastLine: Ema;
  private readonly emaSlowLine: Ema;
  private readonly td: TdSequential;
  private readonly bottomDull: Dullness;
  private readonly topDull: Dullness;
  private readonly bottomDiv: Divergence;
  private readonly topDiv: Divergence;
  private readonly input = new SignalInput();
  private bars = 0;
  private hasLastTime = false;
  private lastTime = 0;
  private emaStateName: EmaStateName = 'neutral';
  private lastEmaFast = 0;
  private lastEmaSlow = 0;
  /** A second engine that `preview` copies this one into, so a preview runs the real path. */
  private scratch: SignalEngine | null = null;

  constructor(params?: Partial<SignalParams>) {
    const p = resolveSignalParams(params);
    this.params = Object.freeze(p);
    this.macdLine = new Macd(p.fast, p.slow, p.signal);
    this.emaFastLine = new Ema(p.emaFast);
    this.emaSlowLine = new Ema(p.emaSlow);
    this.td = new TdSequential();
    this.bottomDull = new Dullness('bottom', p.lookback);
    this.topDull = new Dullness('top', p.lookback);
    this.bottomDiv = new Divergence('bottom', p.compare, p.recent);
    this.topDiv = new Divergence('top', p.compare, p.recent);
  }

  /** Window bars fed so far. */
  get barCount(): number {
    return this.bars;
  }

  /** Time of the last window bar fed, null before the first. */
  get lastBarTime(): number | null {
    return this.hasLastTime ? this.lastTime : null;
  }

  /** Feeds one closed window bar and returns everything computed on it. */
  next(bar: OhlcvBar): WindowAnalysis {
    this.update(bar);
    return this.analysisOf(bar);
  }

  /**
   * `next` without building the analysis: for replays and backtests that only need the state
   * at the end. Window bars are taken in the order given; the engine does not check times.
   * (It takes the bar object rather than four numbers: V8 boxes the double arguments of a call
   * it does not inline, and this one is too large to inline.)
   */
  update(bar: OhlcvBar): void {
    const time = bar.time;
    const high = bar.high;
    const low = bar.low;
    const close = bar.close;
    const macd = this.macdLine;
    macd.update(close);
    const emaFast = this.emaFastLine.update(close);
    const emaSlow = this.emaSlowLine.update(close);
    this.lastEmaFast = emaFast;
    this.lastEmaSlow = emaSlow;
    this.emaStateName = emaStateOf(close, emaFast, emaSlow);
    const input = this.input.set(time, high, low, close, macd.dif, macd.macd);
    this.td.step(input);
    this.bottomDull.step(input);
    this.topDull.step(input);
    this.bottomDiv.step(input);
    this.topDiv.step(input);
    this.bars++;
    this.hasLastTime = true;
    this.lastTime = time;
  }

  /** What `next(bar)` would return if the forming `bar` closed now; the engine is unchanged. */
  preview(bar: OhlcvBar): WindowAnalysis {
    let scratch = this.scratch;
    if (scratch === null) {
      scratch = new SignalEngine(this.params);
      this.scratch = scratch;
    }
    scratch.copyFrom(this);
    return scratch.next(bar);
  }

  signalState(): SignalState {
    return {
      emaState: this.emaStateName,
      tdSetup: this.td.setup(),
      tdCountdown: this.td.countdown(),
      bottomDullness: { state: this.bottomDull.state, since: this.bottomDull.since },
      topDullness: { state: this.topDull.state, since: this.topDull.since },
      bottomDivergence: { active: this.bottomDiv.active, since: this.bottomDiv.since },
      topDivergence: { active: this.topDiv.active, since: this.topDiv.since },
    };
  }

  toState(): SignalEngineState {
    return {
      version: 1,
      params: { ...this.params },
      barCount: this.bars,
      lastBarTime: this.lastBarTime,
      macd: this.macdLine.toState(),
      emaFast: this.emaFastLine.toState(),
      emaSlow: this.emaSlowLine.toState(),
      emaState: this.emaStateName,
      td: this.td.toState(),
      bottomDullness: this.bottomDull.toState(),
      topDullness: this.topDull.toState(),
      bottomDivergence: this.bottomDiv.toState(),
      topDivergence: this.topDiv.toState(),
    };
  }

  static fromState(state: SignalEngineState): SignalEngine {
    assertObject(state, 'signal engine state');
    assertVersion(state, 1, 'signal engine state');
    assertObject(state.params, 'signal engine state params');
    const engine = new SignalEngine(state.params);
    assertCount(state.barCount, 'signal engine state barCount');
    if (state.emaState !== 'bull' && state.emaState !== 'bear' && state.emaState !== 'neutral') {
      throw new Error(`signal engine state: emaState ${String(state.emaState)}`);
    }
    engine.bars = state.barCount;
    engine.hasLastTime = state.lastBarTime !== null && state.lastBarTime !== undefined;
    engine.lastTime = state.lastBarTime ?? 0;
    engine.emaStateName = state.emaState;
    engine.macdLine.copyFrom(Macd.fromState(state.macd));
    engine.emaFastLine.copyFrom(Ema.fromState(state.emaFast));
    engine.emaSlowLine.copyFrom(Ema.fromState(state.emaSlow));
    engine.lastEmaFast = engine.emaFastLine.value ?? 0;
    engine.lastEmaSlow = engine.emaSlowLine.value ?? 0;
    engine.td.copyFrom(TdSequential.fromState(state.td));
    engine.bottomDull.copyFrom(Dullness.fromState(state.bottomDullness));
    engine.topDull.copyFrom(Dullness.fromState(state.topDullness));
    engine.bottomDiv.copyFrom(Divergence.fromState(state.bottomDivergence));
    engine.topDiv.copyFrom(Divergence.fromState(state.topDivergence));
    return engine;
  }

  private copyFrom(other: SignalEngine): void {
    this.macdLine.copyFrom(other.macdLine);
    this.emaFastLine.copyFrom(other.emaFastLine);
    this.emaSlowLine.copyFrom(other.emaSlowLine);
    this.td.copyFrom(other.td);
    this.bottomDull.copyFrom(other.bottomDull);
    this.topDull.copyFrom(other.topDull);
    this.bottomDiv.copyFrom(other.bottomDiv);
    this.topDiv.copyFrom(other.topDiv);
    this.bars = other.bars;
    this.hasLastTime = other.hasLastTime;
    this.lastTime = other.lastTime;
    this.emaStateName = other.emaStateName;
    this.lastEmaFast = other.lastEmaFast;
    this.lastEmaSlow = other.lastEmaSlow;
  }

  private analysisOf(bar: OhlcvBar): WindowAnalysis {
    const td = this.td;
    const marks: TdMark[] = [];
    if (td.setupCompleted !== TD_NONE) {
      const buy = td.setupCompleted === TD_BUY;
      marks.push({ time: bar.time, side: buy ? 'buy' : 'sell', kind: 9, price: buy ? bar.low : bar.high });
    }
    if (td.countdownCompleted !== TD_NONE) {
      const buy = td.countdownCompleted === TD_BUY;
      marks.push({ time: bar.time, side: buy ? 'buy' : 'sell', kind: 13, price: buy ? bar.low : bar.high });
    }
    const macd = this.macdLine;
    return {
      bar: { ...bar },
      dif: macd.dif,
      dea: macd.dea,
      macd: macd.macd,
      emaFast: this.lastEmaFast,
      emaSlow: this.lastEmaSlow,
      emaState: this.emaStateName,
      tdSetup: td.setup(),
      tdCountdown: td.countdown(),
      marks,
      bottomDullness: this.bottomDull.state,
      topDullness: this.topDull.state,
      bottomDivergence: this.bottomDiv.active,
      topDivergence: this.topDiv.active,
    };
  }
}
