import { rangeOfJob, tradeFieldsOf, type BacktestEquityPoint, type BacktestJob, type BacktestStatistics, type BacktestTrade } from '../../shared/backtest.js';
import type { TradePeriodRow } from '../../shared/contract/trades.js';
import type { MacdTdConfig } from '../../shared/strategyConfig.js';
import { TradingCalendar } from '../market/tradingCalendar.js';
import { statisticsPeriodRows, statisticsTotals, tradeStatistics } from '../statistics.js';
import { MacdTdRunner } from '../strategy/macdTdRunner.js';
import { sliceRange, type ColumnarBars } from './columnarBars.js';
import { lookupBacktestStrategy } from './strategyCatalog.js';

/**
 * The one place a backtest runs a strategy over bars. Today it drives the MACD-TD runner, one
 * `onMinuteBar(vtSymbol, bar, 'live')` per 1-minute bar, the instruments merged on the time axis
 * (bars of one minute together, in vtSymbol order: DOMAIN.md's live order). When the strategy
 * seam lands, only the body of `strategyDriver` changes; the job runner, stores and screens call
 * this function and nothing else of the strategy.
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

/** What a strategy must do for a backtest: take a bar, say what filled. */
interface StrategyDriver {
  onMinuteBar(vtSymbol: string, time: number, open: number, high: number, low: number, close: number, volume: number, turnover: number, openInterest: number): BacktestTrade[];
}

const calendar = new TradingCalendar();

function strategyDriver(job: BacktestJob): StrategyDriver {
  const entry = lookupBacktestStrategy(job.strategy);
  if (entry === null) throw new Error(`unknown strategy "${job.strategy}"`);
  const parsed = entry.parse(job.params, job.costs);
  if (!parsed.ok) throw new Error(`strategy "${job.strategy}" params: ${parsed.fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`);
  // One strategy today; the seam's registry replaces this switch.
  const runner = new MacdTdRunner(parsed.params as MacdTdConfig, { variant: 'backtest', windowMinutes: job.windowMinutes, calendar });
  return {
    onMinuteBar(vtSymbol, time, open, high, low, close, volume, turnover, openInterest) {
      const { fills } = runner.onMinuteBar(vtSymbol, { time, open, high, low, close, volume, turnover, openInterest }, 'live');
      if (fills.length === 0) return NO_TRADES;
      return fills.map(({ trade }) => tradeFieldsOf(trade));
    },
  };
}

const NO_TRADES: BacktestTrade[] = [];

/**
 * Runs `job` over `series` (each one instrument's bars, any range: the job's range is cut here).
 * Deterministic: the same job on the same bars gives the same trades and statistics, always.
 */
export function runBacktest(job: BacktestJob, series: readonly ColumnarBars[], hooks: BacktestHooks = {}): BacktestRun {
  const range = rangeOfJob(job);
  const inRange = [...series]
    .sort((a, b) => (a.vtSymbol < b.vtSymbol ? -1 : a.vtSymbol > b.vtSymbol ? 1 : 0))
    .map((s) => sliceRange(s, range.from, range.to));
  const driver = strategyDriver(job);
  const checkEvery = Math.max(1, Math.floor(hooks.checkEvery ?? 4096));
  const barsTotal = inRange.reduce((n, s) => n + s.length, 0);
  const trades: BacktestTrade[] = [];
  const heads = inRange.map(() => 0);
  let barsDone = 0;
  let firstTime: number | null = null;
  let lastTime: number | null = null;
  let nextCheck = checkEvery;
  let status: BacktestRun['status'] = 'completed';

  for (;;) {
    // k-way merge: the earliest head; ties go to the first in vtSymbol order.
    let pick = -1;
    let pickTime = Infinity;
    for (let k = 0; k < inRange.length; k++) {
      const s = inRange[k] as ColumnarBars;
      const h = heads[k] as number;
      if (h < s.length && (s.time[h] as number) < pickTime) {
        pick = k;
        pickTime = s.time[h] as number;
      }
    }
    if (pick < 0) break;
    const s = inRange[pick] as ColumnarBars;
    const i = heads[pick] as number;
    heads[pick] = i + 1;
    const filled = driver.onMinuteBar(
      s.vtSymbol,
      pickTime,
      s.open[i] as number,
      s.high[i] as number,
      s.low[i] as number,
      s.close[i] as number,
      s.volume[i] as number,
      s.turnover[i] as number,
      s.openInterest[i] as number,
    );
    for (const t of filled) trades.push(t);
    firstTime ??= pickTime;
    lastTime = pickTime;
    barsDone++;
    if (barsDone === nextCheck) {
      nextCheck += checkEvery;
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
