import { MIN_WINDOW_BARS_TO_TRADE, fewestWindowBars } from '../../src/core/strategy/warmUp.js';
import { describe, expect, it } from 'vitest';
import { BAR_COLUMNS, type BarColumn, type ColumnarBars } from '../../src/core/backtest/columnarBars.js';
import { runBacktest } from '../../src/core/backtest/runBacktest.js';
import { aggregateSweep, applyPoint, sweepPoints } from '../../src/core/backtest/sweep.js';
import { thinEquity } from '../../src/core/backtest/thinEquity.js';
import { TradingEngine } from '../../src/core/strategy/engine.js';
import { mergeMinutes } from '../../src/core/strategy/minuteMerge.js';
import { strategyFor } from '../../src/core/strategy/registry.js';
import { backtestJobSchema, sweepConfigSchema, type BacktestStatistics } from '../../src/shared/backtest.js';
import { vtSymbolOf, type StoredBar } from '../../src/shared/bar.js';
import { ACTIVE_MACD_TD, simulatedBars } from './fixtures.js';

function columnsOfBars(vtSymbol: string, bars: readonly StoredBar[]): ColumnarBars {
  const out = { vtSymbol, length: bars.length } as { vtSymbol: string; length: number } & Record<BarColumn, Float64Array>;
  for (const c of BAR_COLUMNS) out[c] = Float64Array.from(bars, (b) => b[c]);
  return out;
}

const BARS = simulatedBars(8000);
const SYMBOLS = [...new Set(BARS.map((b) => vtSymbolOf(b.symbol, b.exchange)))].sort();
const SERIES = SYMBOLS.map((vt) => columnsOfBars(vt, BARS.filter((b) => vtSymbolOf(b.symbol, b.exchange) === vt)));
const job = backtestJobSchema.parse({ strategy: 'macd-td', params: ACTIVE_MACD_TD, symbols: SYMBOLS, from: '2025-01-06', to: '2025-12-31', windowMinutes: 15 });

describe('runBacktest', () => {
  it('gives byte-identical trades and statistics for the same job twice', () => {
    const a = runBacktest(job, SERIES);
    const b = runBacktest(job, [...SERIES].reverse());
    expect(a.trades.length).toBeGreaterThan(5);
    expect(JSON.stringify(b.trades)).toBe(JSON.stringify(a.trades));
    expect(JSON.stringify(b.statistics)).toBe(JSON.stringify(a.statistics));
  });

  it('equals the live engine fed the same bars through the live merge (same minute together, vtSymbol order)', () => {
    const live = new TradingEngine(strategyFor('macd-td', ACTIVE_MACD_TD, 'live'), { variant: 'backtest', windowMinutes: 15 });
    const fills: unknown[][] = [];
    const series = SYMBOLS.map((vt) => ({ vtSymbol: vt, bars: BARS.filter((b) => vtSymbolOf(b.symbol, b.exchange) === vt) }));
    mergeMinutes(series, (group) => {
      // The worker's start without history: degraded until every instrument has settled.
      const mode = fewestWindowBars(live, SYMBOLS) >= MIN_WINDOW_BARS_TO_TRADE ? 'live' : 'degraded';
      for (const f of live.onMinuteBars(group, mode).fills) fills.push([f.trade.id, f.trade.vtSymbol, f.trade.time, f.trade.price, f.trade.pnl]);
    });
    const run = runBacktest(job, SERIES);
    expect(fills.length).toBeGreaterThan(5);
    expect(run.trades.map((t) => [t.id, t.vtSymbol, t.time, t.price, t.pnl])).toEqual(fills);
    expect(run.barsDone).toBe(BARS.length);
  });

  it('cuts the range, keeps Sharpe finite or null, and starts the equity at the capital', () => {
    const short = runBacktest({ ...job, to: '2025-01-10' }, SERIES);
    expect(short.barsDone).toBeLessThan(BARS.length);
    expect(short.lastTime).toBeLessThanOrEqual(Date.UTC(2025, 0, 10, 23, 59, 59) / 1000);
    const s = runBacktest(job, SERIES).statistics;
    expect(s.sharpe === null || Number.isFinite(s.sharpe)).toBe(true);
    expect(runBacktest(job, SERIES).equity[0]?.equity).toBe(job.capital);
  });

  it('stops at the checkpoint that says so, with the bars done so far', () => {
    let calls = 0;
    const run = runBacktest(job, SERIES, { checkEvery: 1000, checkpoint: () => ++calls < 3 });
    expect(run.status).toBe('cancelled');
    // A minute's bars go in together, so the third checkpoint lands at the minute that reaches 3000.
    expect(run.barsDone).toBeGreaterThanOrEqual(3000);
    expect(run.barsDone).toBeLessThan(3000 + SYMBOLS.length);
  });
});

describe('sweeps', () => {
  const sweep = sweepConfigSchema.parse({
    job,
    parameters: { 'signal.fast': { values: [8, 12] }, 'stopLoss.value': { min: 10, max: 30, step: 10 } },
  });

  it('expands a grid in a fixed order and a random sample reproducibly', () => {
    const points = sweepPoints(sweep);
    expect(points).toHaveLength(6);
    expect(points[0]).toEqual({ 'signal.fast': 8, 'stopLoss.value': 10 });
    expect(points[5]).toEqual({ 'signal.fast': 12, 'stopLoss.value': 30 });
    const random = { ...sweep, mode: 'random' as const, samples: 4, seed: 3 };
    expect(sweepPoints(random)).toEqual(sweepPoints(random));
    expect(new Set(sweepPoints(random).map((p) => JSON.stringify(p))).size).toBe(4);
    expect(applyPoint(job.params, { 'stopLoss.value': 20 })).toEqual({ ...ACTIVE_MACD_TD, stopLoss: { unit: 'ticks', value: 20 } });
  });

  it('aggregates: best by each statistic, means skipping non-finite values, null when none is finite', () => {
    const stats = (pnl: number, sharpe: number | null): BacktestStatistics => ({
      fills: 2, trades: 1, wins: pnl > 0 ? 1 : 0, losses: pnl < 0 ? 1 : 0, winRate: null, totalPnl: pnl, averagePnl: pnl,
      commission: 0, maxDrawdown: Math.max(0, -pnl), maxDrawdownPct: null, sharpe,
    });
    const agg = aggregateSweep('s', [
      { runId: 'a', point: { x: 1 }, status: 'completed', statistics: stats(100, 1.5) },
      { runId: 'b', point: { x: 2 }, status: 'completed', statistics: stats(-50, null) },
      { runId: 'c', point: { x: 3 }, status: 'failed', statistics: null },
    ]);
    expect(agg.counts).toEqual({ total: 3, completed: 2, failed: 1, cancelled: 0 });
    expect(agg.best.totalPnl).toEqual({ runId: 'a', params: { x: 1 }, value: 100 });
    expect(agg.best.maxDrawdown).toEqual({ runId: 'a', params: { x: 1 }, value: 0 });
    expect(agg.means.totalPnl).toBe(25);
    expect(agg.means.sharpe).toBe(1.5);
    expect(agg.means.winRate).toBeNull();
    expect(agg.best.winRate).toBeNull();
  });
});

describe('thinEquity', () => {
  it('keeps the extremes of every bucket and both ends', () => {
    const points = Array.from({ length: 10_000 }, (_, i) => ({ time: i, equity: Math.sin(i / 50) * 100 + (i === 7777 ? -1000 : 0), drawdown: 0 }));
    const thin = thinEquity(points, 500);
    expect(thin.length).toBeLessThanOrEqual(500);
    expect(thin[0]).toEqual(points[0]);
    expect(thin[thin.length - 1]).toEqual(points[points.length - 1]);
    expect(thin.some((p) => p.time === 7777)).toBe(true);
  });
});
