import { tradeFillOf } from '../../shared/trade.js';
import { rangeOfJob, type BacktestEquityPoint, type BacktestJob, type BacktestStatistics, type BacktestTrade } from '../../shared/backtest.js';
import type { TradePeriodRow } from '../../shared/contract/trades.js';
import { CRYPTO_EXCHANGES, ContinuousCalendar } from '../market/continuousCalendar.js';
import { TradingCalendar } from '../market/tradingCalendar.js';
import { statisticsPeriodRows, statisticsTotals, tradeStatistics } from '../statistics.js';
import { TradingEngine, type EngineInstrument } from '../strategy/engine.js';
import { strategyFor } from '../strategy/registry.js';
import { fewestWindowBars } from '../strategy/warmUp.js';
import { sliceRange, type ColumnarBars } from './columnarBars.js';
import { lookupBacktestStrategy } from './strategyCatalog.js';

/**
 * The one place a backtest runs a strategy over bars: the live TradingEngine (strategy → risk
 * gate → paper broker, src/core/strategy/engine.ts), fed the instruments merged on the time axis,
 * the bars of one minute together in vtSymbol order (DOMAIN.md's live order), exactly as the
 * worker feeds it. The job runner, stores and screens call this function and nothing else of
 * the strategy. The bars stay in their columns: the engine's columnar path (`onMinuteRows`) takes
 * row indices and builds a bar object only where an order trades or the strategy reads minutes.
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
  const handles = inRange.map((s) => engine.instrument(s.vtSymbol));
  // One minute's instruments and rows, reused from minute to minute: the engine reads them during the call only.
  const minuteInstruments: EngineInstrument[] = [];
  const minuteColumns: ColumnarBars[] = [];
  const minuteRows: number[] = [];
  let barsDone = 0;
  let firstTime: number | null = null;
  let lastTime: number | null = null;
  let nextCheck = checkEvery;
  let status: BacktestRun['status'] = 'completed';
  const symbols = inRange.map((s) => s.vtSymbol);
  let warm = false;

  // One instrument: every row is its own minute (what the merge below gives for one series, without its scans).
  const only = inRange.length === 1 ? (inRange[0] as ColumnarBars) : null;
  if (only !== null) {
    minuteInstruments[0] = handles[0] as EngineInstrument;
    minuteColumns[0] = only;
  }
  for (;;) {
    if (only !== null) {
      const i = heads[0] as number;
      if (i >= only.length) break;
      heads[0] = i + 1;
      minuteRows[0] = i;
      const minute = only.time[i] as number;
      if (!warm) warm = fewestWindowBars(engine, symbols) >= engine.bound.windowBarsToTrade;
      const { fills } = engine.onMinuteRows(minuteInstruments, minuteColumns, minuteRows, 1, warm ? 'live' : 'degraded');
      for (let f = 0; f < fills.length; f++) trades.push(tradeFillOf((fills[f] as (typeof fills)[number]).trade));
      firstTime ??= minute;
      lastTime = minute;
      barsDone++;
      if (barsDone >= nextCheck) {
        nextCheck += checkEvery;
        if (hooks.checkpoint && !hooks.checkpoint({ barsDone, barsTotal, time: lastTime, trades: trades.length })) {
          status = 'cancelled';
          break;
        }
      }
      continue;
    }
    // k-way merge: the earliest minute among the heads; every instrument's bar of that minute goes
    // in together, in vtSymbol order (inRange is sorted so).
    let minute = Infinity;
    for (let k = 0; k < inRange.length; k++) {
      const s = inRange[k] as ColumnarBars;
      const h = heads[k] as number;
      if (h < s.length && (s.time[h] as number) < minute) minute = s.time[h] as number;
    }
    if (minute === Infinity) break;
    let count = 0;
    for (let k = 0; k < inRange.length; k++) {
      const s = inRange[k] as ColumnarBars;
      const i = heads[k] as number;
      if (i >= s.length || s.time[i] !== minute) continue;
      heads[k] = i + 1;
      minuteInstruments[count] = handles[k] as EngineInstrument;
      minuteColumns[count] = s;
      minuteRows[count] = i;
      count++;
    }
    // As a live variant started without history: no order until every instrument's indicators have settled.
    if (!warm) warm = fewestWindowBars(engine, symbols) >= engine.bound.windowBarsToTrade;
    const { fills } = engine.onMinuteRows(minuteInstruments, minuteColumns, minuteRows, count, warm ? 'live' : 'degraded');
    for (let f = 0; f < fills.length; f++) trades.push(tradeFillOf((fills[f] as (typeof fills)[number]).trade));
    firstTime ??= minute;
    lastTime = minute;
    const before = barsDone;
    barsDone += count;
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
