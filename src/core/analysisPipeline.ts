import type { OhlcvBar } from '../shared/bar.js';
import type { SignalParams } from '../shared/signalParams.js';
import type { SignalState } from '../shared/snapshot.js';
import {
  SignalEngine,
  resolveSignalParams,
  sameSignalParams,
  type SignalEngineState,
  type WindowAnalysis,
} from './signalEngine.js';
import { assertCount, assertObject, assertVersion } from './state.js';
import { WindowBarSynthesizer, type WindowBarState } from './windowBars.js';

/**
 * 1-minute bars → window bars → signals: the one path that live trading, restore replay,
 * backtests and the history view all run. A duplicate or out-of-order minute is ignored
 * (see WindowBarSynthesizer), so a replay and a live feed may overlap.
 */
export interface AnalysisPipelineOptions {
  windowMinutes: number;
  params?: Partial<SignalParams>;
  /** Called with each closed window bar's analysis. Without it the pipeline skips building them. */
  onWindow?: (analysis: WindowAnalysis) => void;
}

export type RestoredPipelineOptions = Omit<AnalysisPipelineOptions, 'windowMinutes'>;

export interface PipelineState {
  version: 1;
  windowMinutes: number;
  /** Accepted 1-minute bars (the synthesizer's acceptedMinuteCount, repeated for readers). */
  minuteBarCount: number;
  synthesizer: WindowBarState;
  engine: SignalEngineState;
}

export class AnalysisPipeline {
  readonly windowMinutes: number;
  // Not readonly: fromState swaps in the restored parts once, right after construction.
  private synthesizer: WindowBarSynthesizer;
  private engine: SignalEngine;
  private readonly onWindow: ((analysis: WindowAnalysis) => void) | undefined;

  constructor(opts: AnalysisPipelineOptions) {
    this.windowMinutes = opts.windowMinutes;
    this.onWindow = opts.onWindow;
    this.engine = new SignalEngine(opts.params);
    this.synthesizer = new WindowBarSynthesizer(opts.windowMinutes, this.windowClosed);
  }

  /** Arrow property: one bound callback, created once, not per bar. */
  private readonly windowClosed = (bar: OhlcvBar): void => {
    const onWindow = this.onWindow;
    if (onWindow === undefined) this.engine.update(bar);
    else onWindow(this.engine.next(bar));
  };

  /** Feeds one 1-minute bar; returns false when it was ignored (duplicate or out of order). */
  pushMinute(bar: OhlcvBar): boolean {
    return this.synthesizer.push(bar);
  }

  /** `pushMinute` without the bar object: allocates nothing unless a window closes. */
  pushMinuteValues(
    time: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
    turnover: number,
    openInterest: number,
  ): boolean {
    return this.synthesizer.pushValues(time, open, high, low, close, volume, turnover, openInterest);
  }

  /** The forming window bar (shown, never traded on), or null. */
  forming(): OhlcvBar | null {
    return this.synthesizer.forming();
  }

  /** The analysis the forming window would get if it closed now, or null when none is open. */
  formingAnalysis(): WindowAnalysis | null {
    const bar = this.synthesizer.forming();
    return bar === null ? null : this.engine.preview(bar);
  }

  /** The signal state after the last closed window bar. */
  signalState(): SignalState {
    return this.engine.signalState();
  }

  get params(): Readonly<SignalParams> {
    return this.engine.params;
  }

  get windowBarCount(): number {
    return this.engine.barCount;
  }

  /** Accepted 1-minute bars (ignored duplicates are not counted). */
  get minuteBarCount(): number {
    return this.synthesizer.acceptedMinuteCount;
  }

  get lastMinuteTime(): number | null {
    return this.synthesizer.lastMinuteTime;
  }

  get ignoredMinuteCount(): number {
    return this.synthesizer.ignoredMinuteCount;
  }

  toState(): PipelineState {
    return {
      version: 1,
      windowMinutes: this.windowMinutes,
      minuteBarCount: this.synthesizer.acceptedMinuteCount,
      synthesizer: this.synthesizer.toState(),
      engine: this.engine.toState(),
    };
  }

  /**
   * Restores a pipeline. The parameters are those of the state; `opts.params`, when given,
   * must match them, because a checkpoint computed with other parameters is not a valid
   * starting point for these.
   */
  static fromState(state: PipelineState, opts: RestoredPipelineOptions = {}): AnalysisPipeline {
    assertObject(state, 'pipeline state');
    assertVersion(state, 1, 'pipeline state');
    assertCount(state.minuteBarCount, 'pipeline state minuteBarCount');
    const engine = SignalEngine.fromState(state.engine);
    if (opts.params !== undefined && !sameSignalParams(resolveSignalParams(opts.params), engine.params)) {
      throw new Error('pipeline state: it was computed with other signal parameters than the ones given');
    }
    assertObject(state.synthesizer, 'pipeline state synthesizer');
    if (state.synthesizer.windowMinutes !== state.windowMinutes) {
      throw new Error('pipeline state: the synthesizer window does not match windowMinutes');
    }
    const pipeline = new AnalysisPipeline({ windowMinutes: state.windowMinutes, params: engine.params, ...(opts.onWindow ? { onWindow: opts.onWindow } : {}) });
    pipeline.synthesizer = WindowBarSynthesizer.fromState(state.synthesizer, pipeline.windowClosed);
    pipeline.engine = engine;
    if (pipeline.synthesizer.acceptedMinuteCount !== state.minuteBarCount) {
      throw new Error('pipeline state: minuteBarCount does not match the synthesizer\'s acceptedMinuteCount');
    }
    return pipeline;
  }
}
