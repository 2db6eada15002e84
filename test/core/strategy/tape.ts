import { TradingEngine, copyEvents, type EngineEvents, type EngineOptions } from '../../../src/core/strategy/engine.js';
import { strategyFor } from '../../../src/core/strategy/registry.js';
import type { TradingMode } from '../../../src/core/strategy/strategy.js';
import type { MacdTdConfigInput } from '../../../src/shared/strategyConfig.js';
import type { WindowAnalysis } from '../../../src/core/signalEngine.js';
import type { OhlcvBar } from '../../../src/shared/bar.js';
import { at } from '../fixtures.js';

/** Hand-built window analyses: everything quiet unless the test says otherwise. */
export function analysis(windowStart: number, close: number, over: Partial<WindowAnalysis> = {}): WindowAnalysis {
  return {
    bar: { time: windowStart, open: close, high: close + 1, low: close - 1, close, volume: 100, turnover: 0, openInterest: 0 },
    dif: 0,
    dea: 0,
    macd: 0,
    emaFast: close,
    emaSlow: close,
    emaState: 'neutral',
    tdSetup: { side: null, count: 0 },
    tdCountdown: { side: null, count: 0 },
    marks: [],
    bottomDullness: 'none',
    topDullness: 'none',
    bottomDivergence: false,
    topDivergence: false,
    ...over,
  };
}

export function minuteBar(time: number, open: number, high = open + 1, low = open - 1, close = open): OhlcvBar {
  return { time, open, high, low, close, volume: 10, turnover: 0, openInterest: 0 };
}

export const WINDOW = 15;

/** A MACD-TD TradingEngine (strategy + risk gate + paper broker) on 15-minute windows. */
export function macdTdEngine(config: MacdTdConfigInput, opts: Partial<EngineOptions> & { variant: string }): TradingEngine {
  return new TradingEngine(strategyFor('macd-td', config, `MACD-TD config of ${opts.variant}`), { windowMinutes: WINDOW, externalWindows: true, ...opts });
}

/**
 * Feeds one vtSymbol the way the worker does: the minute bar first, then (if it closed one)
 * the window bar. `step('2025-01-06 09:00', price, flags)` feeds the minute 09:14 (flat at
 * `price`) and then the window bar 09:00–09:14 with `flags`.
 */
export class Tape {
  constructor(
    readonly engine: TradingEngine,
    readonly vtSymbol: string,
  ) {}

  minute(when: string, open: number, high?: number, low?: number, close?: number, mode: TradingMode = 'live'): EngineEvents {
    return copyEvents(this.engine.onMinuteBar(this.vtSymbol, minuteBar(at(when), open, high, low, close), mode));
  }

  /** The window's last minute, then the hand-made window bar (the engine's pipeline never closes a window from one bar). */
  step(windowStart: string, price: number, over: Partial<WindowAnalysis> = {}, mode: TradingMode = 'live'): EngineEvents {
    const start = at(windowStart);
    const events = copyEvents(this.engine.onMinuteBar(this.vtSymbol, minuteBar(start + (WINDOW - 1) * 60, price), mode));
    const more = this.engine.onWindowAnalysis(this.vtSymbol, analysis(start, price, over), mode);
    events.fills.push(...more.fills);
    events.ordersSent.push(...more.ordersSent);
    events.ordersPlaced.push(...more.ordersPlaced);
    events.cancelled.push(...more.cancelled);
    events.decisions.push(...more.decisions);
    events.suppressed += more.suppressed;
    events.log.push(...more.log);
    return events;
  }
}
