import { rangeOfJob, tradeFieldsOf, type BacktestEquityPoint, type BacktestJob, type BacktestStatistics, type BacktestTrade } from '../../shared/backtest.js';
import type { TradePeriodRow } from '../../shared/contract/trades.js';
import { CRYPTO_EXCHANGES, ContinuousCalendar } from '../market/continuousCalendar.js';
import { TradingCalendar } from '../market/tradingCalendar.js';
import { statisticsPeriodRows, statisticsTotals, tradeStatistics } from '../statistics.js';
import { TradingEngine } from '../strategy/engine.js';
import { strategyFor } from '../strategy/registry.js';
import type { InstrumentBar } from '../strategy/strategy.js';
import { sliceRange, type ColumnarBars } from './columnarBars.js';
import { lookupBacktestStrategy } from './strategyCatalog.js';

/**
 * The one place a backtest runs a strategy over bars: the live TradingEngine (strategy → risk
 * gate → paper broker, src/core/strategy/engine.ts), fed the instruments merged on the time axis,
 * the bars of one minute together in vtSymbol order (DOMAIN.md's live order), exactly as the
 * worker feeds it. The job runner, stores and screens call this function and nothing else of
 * the strategy.
 */

export interface BacktestCheckpoint {
  barsDone: number;
  barsTotal: number;
  /** Time of the last bar processed (local-as-UTC seconds); null before the first. */
  time: number | null;
  trades: number;
}

export interface BacktestHooks {
  /** Called every `checkEvery` bars and at the end; false stops the run (cancel). May block (pause). */
  checkpoint?: (at: BacktestCheckpoint) => boolean;
  /** Bars between checkpoints; default 4096 (a few ms of work, so a cancel lands well within 100 ms). */
  checkEvery?: number;
}

export interface BacktestRun {
  status: 'completed' | 'cancelled';
  barsDone: number;
  barsTotal: number;
  firstTime: number | null;
  lastTime: number | null;
  trades: BacktestTrade[];
  statistics: BacktestStatistics;
  months: TradePeriodRow[];
  /** Realised equity from the capital, one point per closing trade (plus the start): the whole curve. */
  equity: BacktestEquityPoint[];
}

const futuresCalendar = new TradingCalendar();
const continuousCalendar = new ContinuousCalendar();

/** The calendar of the job's first instrument's exchange, as the worker takes it: 24/7 for a crypto venue. */
function calendarOf(job: BacktestJob): TradingCalendar {
  const exchange = job.symbols[0]?.split('.')[1] ?? '';
  return CRYPTO_EXCHANGES.has(exchange.toUpperCase()) ? continuousCalendar : futuresCalendar;
}

function engineOf(job: BacktestJob, calendar: TradingCalendar): TradingEngine {
  const entry = lookupBacktestStrategy(job.strategy);
  if (entry === null) throw new Error(`unknown strategy "${job.strategy}"`);
  const parsed = entry.parse(job.params, job.costs);
  if (!parsed.ok) throw new Error(`strategy "${job.strategy}" params: ${parsed.fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`);
  return new TradingEngine(strategyFor(job.strategy, parsed.params, 'backtest job'), { variant: 'backtest', windowMinutes: job.windowMinutes, calendar });
}

/**
 * Runs `job` over `series` (each one instrument's bars, any range: the job's range is cut here).
 * Deterministic: the same job on the same bars gives the same trades and statistics, always.
 */
export function runBacktest(job: BacktestJob, series: readonly ColumnarBars[], hooks: BacktestHooks = {}): BacktestRun {
  const range = rangeOfJob(job);
  const inRange = [...series]
    .sort((a, b) => (a.vtSymbol < b.vtSymbol ? -1 : a.vtSymbol > b.vtSymbol ? 1 : 0))
    .map((s) => sliceRange(s, range.from, range.to));
  const calendar = calendarOf(job);
  const engine = engineOf(job, calendar);
  const checkEvery = Math.max(1, Math.floor(hooks.checkEvery ?? 4096));
  const barsTotal = inRange.reduce((n, s) => n + s.length, 0);
  const trades: BacktestTrade[] = [];
  const heads = inRange.map(() => 0);
  // One minute's bars, reused from minute to minute: the engine reads them during the call only.
  const group: InstrumentBar[] = [];
  let barsDone = 0;
  let firstTime: number | null = null;
  let lastTime: number | null = null;
  let nextCheck = checkEvery;
  let status: BacktestRun['status'] = 'completed';

  for (;;) {
    // k-way merge: the earliest minute among the heads; every instrument's bar of that minute goes
    // in together, in vtSymbol order (inRange is sorted so).
    let minute = Infinity;
    for (let k = 0; k < inRange.length; k++) {
      const s = inRange[k] as ColumnarBars;
      const h = heads[k] as number;
      if (h < s.length && (s.time[h] as number) < minute) minute = s.time[h] as number;
    }
    if (minute === Infinity) break;
    group.length = 0;
    for (let k = 0; k < inRange.length; k++) {
      const s = inRange[k] as ColumnarBars;
      const i = heads[k] as number;
      if (i >= s.length || s.time[i] !== minute) continue;
      heads[k] = i + 1;
      group.push({
        vtSymbol: s.vtSymbol,
        bar: {
          time: minute,
          open: s.open[i] as number,
          high: s.high[i] as number,
          low: s.low[i] as number,
          close: s.close[i] as number,
          volume: s.volume[i] as number,
          turnover: s.turnover[i] as number,
          openInterest: s.openInterest[i] as number,
        },
      });
    }
    const { fills } = engine.onMinuteBars(group, 'live');
    for (let f = 0; f < fills.length; f++) trades.push(tradeFieldsOf((fills[f] as (typeof fills)[number]).trade));
    firstTime ??= minute;
    lastTime = minute;
    const before = barsDone;
    barsDone += group.length;
    if (barsDone >= nextCheck && before < nextCheck) {
      nextCheck = barsDone - (barsDone % checkEvery) + checkEvery;
      if (hooks.checkpoint && !hooks.checkpoint({ barsDone, barsTotal, time: lastTime, trades: trades.length })) {
        status = 'cancelled';
        break;
      }
    }
  }
  if (status === 'completed') hooks.checkpoint?.({ barsDone, barsTotal, time: lastTime, trades: trades.length });

  const daily = tradeStatistics(trades, { period: 'day', initialEquity: job.capital, calendar });
  const monthly = tradeStatistics(trades, { period: 'month', initialEquity: job.capital, calendar });
  const equity: BacktestEquityPoint[] = [];
  if (firstTime !== null) equity.push({ time: firstTime, equity: job.capital, drawdown: 0 });
  for (const p of daily.equityCurve) equity.push({ time: p.time, equity: p.equity, drawdown: p.drawdown });
  return {
    status,
    barsDone,
    barsTotal,
    firstTime,
    lastTime,
    trades,
    statistics: statisticsTotals(daily, trades.length),
    months: statisticsPeriodRows(monthly),
    equity,
  };
}
