import { describe, expect, it } from 'vitest';
import { BAR_COLUMNS, type BarColumn, type ColumnarBars } from '../../src/core/backtest/columnarBars.js';
import { runBacktest } from '../../src/core/backtest/runBacktest.js';
import { ContinuousCalendar } from '../../src/core/market/continuousCalendar.js';
import { TradingEngine } from '../../src/core/strategy/engine.js';
import { strategyFor } from '../../src/core/strategy/registry.js';
import { fewestWindowBars } from '../../src/core/strategy/warmUp.js';
import { backtestJobSchema } from '../../src/shared/backtest.js';
import type { OhlcvBar } from '../../src/shared/bar.js';

/** A crypto grid in a backtest runs on the 24/7 calendar, as the worker runs it, and equals the live engine. */
const VT = 'BTCUSDT.BINANCE';
/** 2025-01-03, a Friday, 00:00 UTC: the series runs through the weekend. */
const START = Date.UTC(2025, 0, 3) / 1000;
const MINUTES = 4 * 1440;

function bars(): OhlcvBar[] {
  const out: OhlcvBar[] = [];
  const at = (m: number): number => Math.round((100 + 4 * Math.sin(m / 37) + 1.5 * Math.sin(m / 301)) * 100) / 100;
  for (let m = 0; m < MINUTES; m++) {
    const [o, c] = [at(m - 1), at(m)];
    out.push({ time: START + m * 60, open: o, high: Math.max(o, c), low: Math.min(o, c), close: c, volume: 1, turnover: 0, openInterest: 0 });
  }
  return out;
}

function columns(vtSymbol: string, list: readonly OhlcvBar[]): ColumnarBars {
  const out = { vtSymbol, length: list.length } as { vtSymbol: string; length: number } & Record<BarColumn, Float64Array>;
  for (const c of BAR_COLUMNS) out[c] = Float64Array.from(list, (b) => b[c]);
  return out;
}

const params = { lower: 94, upper: 106, levels: 13, size: { kind: 'quantity', lots: 1 }, priceTick: 0.01, contractMultiplier: 1, slippageTicks: 0, closeAtSessionEnd: true };

describe('a grid in a backtest', () => {
  it('trades through the weekend on the 24/7 calendar and equals the live engine fed the same bars', () => {
    const series = bars();
    const job = backtestJobSchema.parse({ strategy: 'grid', params, symbols: [VT], from: '2025-01-03', to: '2025-01-06', windowMinutes: 1 });
    const run = runBacktest(job, [columns(VT, series)]);
    const live = new TradingEngine(strategyFor('grid', params, 'live'), { variant: 'backtest', windowMinutes: 1, calendar: new ContinuousCalendar() });
    const fills: unknown[][] = [];
    // As the worker runs a variant started without history: no order before the indicators settled.
    let warm = false;
    for (const b of series) {
      if (!warm) warm = fewestWindowBars(live, [VT]) >= live.bound.windowBarsToTrade;
      for (const f of live.onMinuteBar(VT, b, warm ? 'live' : 'degraded').fills) fills.push([f.trade.id, f.trade.time, f.trade.price, f.trade.pnl]);
    }
    expect(fills.length).toBeGreaterThan(20);
    expect(run.trades.map((t) => [t.id, t.time, t.price, t.pnl])).toEqual(fills);
    // Saturday and Sunday trade (a futures calendar would have rolled them into Monday's day and
    // closed everything at Friday's session end, with closeAtSessionEnd on).
    const weekend = run.trades.filter((t) => [0, 6].includes(new Date(t.time * 1000).getUTCDay()));
    expect(weekend.length).toBeGreaterThan(5);
  });
});
