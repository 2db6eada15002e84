import type { OhlcvBar } from '../../shared/bar.js';
import { parseMacdTdConfig, type MacdTdConfig, type MacdTdConfigInput } from '../../shared/strategyConfig.js';
import { AnalysisPipeline, type PipelineState } from '../analysisPipeline.js';
import type { TradingCalendar } from '../market/tradingCalendar.js';
import type { WindowAnalysis } from '../signalEngine.js';
import { assertObject, assertVersion } from '../state.js';
import { MacdTdStrategy, type MacdTdState, type StrategyEvents, type TradingMode } from './macdTdStrategy.js';

/**
 * One variant's whole trading path in one object: an AnalysisPipeline per vtSymbol and the
 * MacdTdStrategy, fed 1-minute bars in the one order that keeps live trading, restore replay and
 * backtests identical (strategy.onMinuteBar, then pipeline.pushMinute, whose closed windows go
 * to strategy.onWindowBar). Its state is the strategy's plus each pipeline's checkpoint.
 */
export interface MacdTdRunnerOptions {
  variant: string;
  windowMinutes: number;
  calendar?: TradingCalendar;
  activeContracts?: Record<string, string>;
  /** Sees every closed window bar (charts), after the strategy has. */
  onWindow?: (vtSymbol: string, analysis: WindowAnalysis) => void;
}

export interface MacdTdRunnerState {
  version: 1;
  windowMinutes: number;
  /** vtSymbol → pipeline checkpoint. */
  pipelines: Record<string, PipelineState>;
  strategy: MacdTdState;
}

export class MacdTdRunner {
  readonly config: Readonly<MacdTdConfig>;
  readonly windowMinutes: number;
  private strategyImpl: MacdTdStrategy;
  private readonly pipelines = new Map<string, AnalysisPipeline>();
  private readonly onWindowHook: ((vtSymbol: string, analysis: WindowAnalysis) => void) | undefined;
  /** The call in progress: where a closed window's events go, and in which mode. */
  private current: { vtSymbol: string; mode: TradingMode; events: StrategyEvents } | null = null;

  constructor(config: MacdTdConfigInput | MacdTdConfig, opts: MacdTdRunnerOptions) {
    this.config = Object.freeze(parseMacdTdConfig(config, `MACD-TD config of ${opts.variant}`));
    this.windowMinutes = opts.windowMinutes;
    this.onWindowHook = opts.onWindow;
    this.strategyImpl = new MacdTdStrategy(this.config, {
      variant: opts.variant,
      ...(opts.calendar ? { calendar: opts.calendar } : {}),
      ...(opts.activeContracts ? { activeContracts: opts.activeContracts } : {}),
    });
  }

  get strategy(): MacdTdStrategy {
    return this.strategyImpl;
  }

  /** The vtSymbol's pipeline, or null before its first bar. */
  pipeline(vtSymbol: string): AnalysisPipeline | null {
    return this.pipelines.get(vtSymbol) ?? null;
  }

  /** One 1-minute bar of a vtSymbol: everything that happened, window decisions included. */
  onMinuteBar(vtSymbol: string, bar: OhlcvBar, mode: TradingMode): StrategyEvents {
    const events = this.strategyImpl.onMinuteBar(vtSymbol, bar, mode);
    this.current = { vtSymbol, mode, events };
    try {
      this.pipelineOf(vtSymbol).pushMinute(bar);
    } finally {
      this.current = null;
    }
    return events;
  }

  private pipelineOf(vtSymbol: string): AnalysisPipeline {
    let p = this.pipelines.get(vtSymbol);
    if (p === undefined) {
      p = new AnalysisPipeline({ windowMinutes: this.windowMinutes, params: this.config.signal, onWindow: this.windowClosed(vtSymbol) });
      this.pipelines.set(vtSymbol, p);
    }
    return p;
  }

  private windowClosed(vtSymbol: string): (analysis: WindowAnalysis) => void {
    return (analysis) => {
      const current = this.current;
      // Only pushMinute (inside onMinuteBar) closes windows, so `current` is set and is this vtSymbol's.
      if (current === null || current.vtSymbol !== vtSymbol) throw new Error(`window bar of ${vtSymbol} outside its minute bar`);
      const e = this.strategyImpl.onWindowBar(vtSymbol, analysis, current.mode);
      mergeEvents(current.events, e);
      this.onWindowHook?.(vtSymbol, analysis);
    };
  }

  toState(): MacdTdRunnerState {
    const pipelines: Record<string, PipelineState> = {};
    for (const key of [...this.pipelines.keys()].sort()) {
      const p = this.pipelines.get(key);
      if (p !== undefined) pipelines[key] = p.toState();
    }
    return { version: 1, windowMinutes: this.windowMinutes, pipelines, strategy: this.strategyImpl.toState() };
  }

  static fromState(
    state: MacdTdRunnerState,
    config: MacdTdConfigInput | MacdTdConfig,
    opts: MacdTdRunnerOptions & { allowConfigChange?: boolean },
  ): MacdTdRunner {
    assertObject(state, 'MACD-TD runner state');
    assertVersion(state, 1, 'MACD-TD runner state');
    if (state.windowMinutes !== opts.windowMinutes) {
      throw new Error(`MACD-TD runner state: saved for ${String(state.windowMinutes)}-minute windows, not ${String(opts.windowMinutes)}`);
    }
    const runner = new MacdTdRunner(config, opts);
    runner.strategyImpl = MacdTdStrategy.fromState(state.strategy, runner.config, {
      variant: opts.variant,
      ...(opts.calendar ? { calendar: opts.calendar } : {}),
      ...(opts.allowConfigChange !== undefined ? { allowConfigChange: opts.allowConfigChange } : {}),
    });
    assertObject(state.pipelines, 'MACD-TD runner state pipelines');
    for (const [vtSymbol, ps] of Object.entries(state.pipelines)) {
      runner.pipelines.set(vtSymbol, AnalysisPipeline.fromState(ps, { params: runner.config.signal, onWindow: runner.windowClosed(vtSymbol) }));
    }
    return runner;
  }
}

/** Appends `more` to `into` (same call, later step). */
export function mergeEvents(into: StrategyEvents, more: StrategyEvents): void {
  into.fills.push(...more.fills);
  into.ordersSent.push(...more.ordersSent);
  into.ordersPlaced.push(...more.ordersPlaced);
  into.cancelled.push(...more.cancelled);
  into.decisions.push(...more.decisions);
  into.suppressed += more.suppressed;
  into.log.push(...more.log);
}
