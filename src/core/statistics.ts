import type { TradePeriodRow, TradeTotals } from '../shared/contract/trades.js';
import { SECONDS_PER_DAY } from '../shared/time.js';
import type { TradeFill } from '../shared/trade.js';
import { TradingCalendar } from './market/tradingCalendar.js';

/**
 * Trade statistics (DOMAIN.md "Statistics"), from trade rows alone. Pure: no clock, no I/O.
 *
 * * A *trade* in the counts is a closing trade row (one with a `pnl`): a round trip, or the
 *   part of one that a partial close ended. Opening rows add only their commission to
 *   `totalCommission` (their commission is already inside the closing rows' net pnl).
 * * Win: net pnl > 0; loss: < 0; a zero result is neither (but counts in the trades).
 * * Periods are of the *trading day* (TradingCalendar.tradingDay: the night session belongs to
 *   the next day): 'day' = the trading day, 'week' = its ISO week (Monday to Sunday, key
 *   'YYYY-Www'), 'month' = its calendar month ('YYYY-MM'). Every period from the first trade's
 *   to the last trade's is listed, those without trades with pnl 0 (a day without a trade is a
 *   day with a zero return, not a missing day). Days are Monday to Friday (the calendar knows
 *   no holidays).
 * * Equity curve: realised only (trade rows carry no marks), one point per closing trade,
 *   starting from `initialEquity` (0 when not given).
 * * Max drawdown: the largest fall from a running peak of that curve (the start included), in
 *   money; in % of the peak only when `initialEquity` is given (a curve that starts at 0 has no
 *   meaningful %). The two maxima may come from different falls.
 * * Sharpe: mean / sample standard deviation (n − 1) of the per-period returns, times
 *   √periodsPerYear (252 days, 52 weeks, 12 months unless given), risk-free rate 0. A period's
 *   return is its pnl / the equity at its start when `initialEquity` is given, else its pnl in
 *   money (the ratio is then the same for any constant capital). Fewer than two periods, zero
 *   variance or a start equity <= 0 → null, never Infinity or NaN.
 */

export type StatisticsPeriod = 'day' | 'week' | 'month';

/** What statistics need of a trade row (the paper broker's TradeRow fits). */
export type StatisticsTrade = Pick<TradeFill, 'vtSymbol' | 'time' | 'pnl'> & Partial<Pick<TradeFill, 'id' | 'commission'>>;

export interface TradeStatisticsOptions {
  period: StatisticsPeriod;
  initialEquity?: number;
  periodsPerYear?: number;
  calendar?: TradingCalendar;
}

export interface PeriodResult {
  /** 'YYYY-MM-DD', 'YYYY-Www' or 'YYYY-MM'. */
  period: string;
  /** First calendar day of the period, 'YYYY-MM-DD'. */
  start: string;
  pnl: number;
  trades: number;
  /** Closing trades of the period with net pnl > 0 / < 0 (a zero result is neither). */
  wins: number;
  losses: number;
  /** Realised pnl from the first period's start to this period's end (equity − initialEquity). */
  cumulativePnl: number;
  /** pnl / equity at the period's start (with initialEquity), else pnl; null if that equity is <= 0. */
  return: number | null;
}

export interface EquityPoint {
  time: number;
  tradeId: string | null;
  equity: number;
  /** Running peak − equity (>= 0). */
  drawdown: number;
}

export interface SymbolStatistics {
  vtSymbol: string;
  trades: number;
  wins: number;
  winRate: number | null;
  pnl: number;
  commission: number;
}

export interface TradeStatistics {
  period: StatisticsPeriod;
  periodsPerYear: number;
  totalTrades: number;
  wins: number;
  losses: number;
  winRate: number | null;
  totalPnl: number;
  averagePnl: number | null;
  totalCommission: number;
  maxDrawdown: number;
  maxDrawdownPct: number | null;
  sharpe: number | null;
  periods: PeriodResult[];
  equityCurve: EquityPoint[];
  bySymbol: SymbolStatistics[];
}

export const PERIODS_PER_YEAR: Readonly<Record<StatisticsPeriod, number>> = Object.freeze({ day: 252, week: 52, month: 12 });

let defaultCalendar: TradingCalendar | null = null;

function dayNumberOf(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d) / 1000 / SECONDS_PER_DAY;
}

function dateOf(dayNumber: number): string {
  return new Date(dayNumber * SECONDS_PER_DAY * 1000).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday; day 0 (1970-01-01) was a Thursday. */
function weekdayOf(dayNumber: number): number {
  return (((dayNumber + 4) % 7) + 7) % 7;
}

function mondayOf(dayNumber: number): number {
  return dayNumber - ((weekdayOf(dayNumber) + 6) % 7);
}

function isoWeekKey(dayNumber: number): string {
  const thursday = mondayOf(dayNumber) + 3;
  const year = Number(dateOf(thursday).slice(0, 4));
  const week = Math.floor((thursday - dayNumberOf(`${String(year)}-01-01`)) / 7) + 1;
  return `${String(year)}-W${week < 10 ? '0' : ''}${String(week)}`;
}

interface PeriodSlot {
  key: string;
  start: string;
}

function slotOf(period: StatisticsPeriod, tradingDay: string): PeriodSlot {
  if (period === 'day') return { key: tradingDay, start: tradingDay };
  if (period === 'month') return { key: tradingDay.slice(0, 7), start: `${tradingDay.slice(0, 7)}-01` };
  const day = dayNumberOf(tradingDay);
  return { key: isoWeekKey(day), start: dateOf(mondayOf(day)) };
}

/** Every period from the one starting at `first` to the one starting at `last`, inclusive. */
function slotsBetween(period: StatisticsPeriod, first: PeriodSlot, last: PeriodSlot): PeriodSlot[] {
  const out: PeriodSlot[] = [];
  if (period === 'day') {
    for (let d = dayNumberOf(first.start); d <= dayNumberOf(last.start); d++) {
      const w = weekdayOf(d);
      if (w !== 0 && w !== 6) out.push(slotOf('day', dateOf(d)));
    }
  } else if (period === 'week') {
    for (let d = dayNumberOf(first.start); d <= dayNumberOf(last.start); d += 7) out.push(slotOf('week', dateOf(d)));
  } else {
    let y = Number(first.start.slice(0, 4));
    let m = Number(first.start.slice(5, 7));
    const endKey = last.key;
    for (;;) {
      const key = `${String(y)}-${m < 10 ? '0' : ''}${String(m)}`;
      out.push({ key, start: `${key}-01` });
      if (key >= endKey) break;
      m++;
      if (m > 12) {
        m = 1;
        y++;
      }
    }
  }
  return out;
}

/** Sample standard deviation (n − 1). */
function sampleStd(values: readonly number[], mean: number): number {
  let sum = 0;
  for (const v of values) sum += (v - mean) * (v - mean);
  return Math.sqrt(sum / (values.length - 1));
}

/** Sharpe of per-period returns; null when it is not a finite, meaningful number. */
export function sharpeRatio(returns: readonly number[], periodsPerYear: number): number | null {
  if (returns.length < 2) return null;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const r of returns) {
    if (!Number.isFinite(r)) return null;
    if (r < min) min = r;
    if (r > max) max = r;
    sum += r;
  }
  // Equal returns: zero variance, however the rounding of the mean comes out.
  if (min === max) return null;
  const mean = sum / returns.length;
  const std = sampleStd(returns, mean);
  const scale = Math.max(Math.abs(min), Math.abs(max));
  if (!(std > scale * 1e-12)) return null;
  const sharpe = (mean / std) * Math.sqrt(periodsPerYear);
  return Number.isFinite(sharpe) ? sharpe : null;
}

export function tradeStatistics(trades: readonly StatisticsTrade[], opts: TradeStatisticsOptions): TradeStatistics {
  const period = opts.period;
  const periodsPerYear = opts.periodsPerYear ?? PERIODS_PER_YEAR[period];
  if (!(periodsPerYear > 0) || !Number.isFinite(periodsPerYear)) throw new Error(`periodsPerYear must be a positive number, got ${String(periodsPerYear)}`);
  const initial = opts.initialEquity;
  if (initial !== undefined && !Number.isFinite(initial)) throw new Error(`initialEquity must be finite, got ${String(initial)}`);
  const calendar = opts.calendar ?? (defaultCalendar ??= new TradingCalendar());

  // Stable by time: rows of one fill time keep their given order.
  const ordered = trades.map((t, i) => ({ t, i })).sort((a, b) => a.t.time - b.t.time || a.i - b.i).map((x) => x.t);

  let totalCommission = 0;
  let totalPnl = 0;
  let wins = 0;
  let losses = 0;
  let closes = 0;
  const start = initial ?? 0;
  let equity = start;
  let peak = start;
  let maxDrawdown = 0;
  let maxDrawdownPct: number | null = initial === undefined ? null : 0;
  const equityCurve: EquityPoint[] = [];
  const perSymbol = new Map<string, SymbolStatistics>();
  const perPeriod = new Map<string, { pnl: number; trades: number; wins: number; losses: number }>();
  let firstSlot: PeriodSlot | null = null;
  let lastSlot: PeriodSlot | null = null;

  for (const t of ordered) {
    const commission = t.commission ?? 0;
    if (!Number.isFinite(commission)) throw new Error(`trade ${t.id ?? '?'}: commission ${String(commission)} is not finite`);
    totalCommission += commission;
    let sym = perSymbol.get(t.vtSymbol);
    if (sym === undefined) {
      sym = { vtSymbol: t.vtSymbol, trades: 0, wins: 0, winRate: null, pnl: 0, commission: 0 };
      perSymbol.set(t.vtSymbol, sym);
    }
    sym.commission += commission;
    if (t.pnl === null) continue;
    if (!Number.isFinite(t.pnl)) throw new Error(`trade ${t.id ?? '?'}: pnl ${String(t.pnl)} is not finite`);
    const pnl = t.pnl;
    closes++;
    totalPnl += pnl;
    if (pnl > 0) wins++;
    else if (pnl < 0) losses++;
    sym.trades++;
    sym.pnl += pnl;
    if (pnl > 0) sym.wins++;

    const slot = slotOf(period, calendar.tradingDay(t.time));
    firstSlot ??= slot;
    lastSlot = slot;
    const p = perPeriod.get(slot.key) ?? { pnl: 0, trades: 0, wins: 0, losses: 0 };
    p.pnl += pnl;
    p.trades++;
    if (pnl > 0) p.wins++;
    else if (pnl < 0) p.losses++;
    perPeriod.set(slot.key, p);

    equity += pnl;
    if (equity > peak) peak = equity;
    const drawdown = peak - equity;
    if (drawdown > maxDrawdown) maxDrawdown = drawdown;
    if (maxDrawdownPct !== null && peak > 0 && drawdown / peak > maxDrawdownPct) maxDrawdownPct = drawdown / peak;
    equityCurve.push({ time: t.time, tradeId: t.id ?? null, equity, drawdown });
  }

  const periods: PeriodResult[] = [];
  if (firstSlot !== null && lastSlot !== null) {
    let periodStartEquity = start;
    // Summed on its own: (start + Σ) − start can lose digits when the capital is large.
    let cumulativePnl = 0;
    for (const slot of slotsBetween(period, firstSlot, lastSlot)) {
      const p = perPeriod.get(slot.key) ?? { pnl: 0, trades: 0, wins: 0, losses: 0 };
      const ret = initial === undefined ? p.pnl : periodStartEquity > 0 ? p.pnl / periodStartEquity : null;
      periodStartEquity += p.pnl;
      cumulativePnl += p.pnl;
      periods.push({
        period: slot.key,
        start: slot.start,
        pnl: p.pnl,
        trades: p.trades,
        wins: p.wins,
        losses: p.losses,
        cumulativePnl,
        return: ret,
      });
    }
  }
  const returns = periods.map((p) => p.return);
  const sharpe = returns.every((r): r is number => r !== null) ? sharpeRatio(returns, periodsPerYear) : null;

  const bySymbol = [...perSymbol.values()]
    .sort((a, b) => (a.vtSymbol < b.vtSymbol ? -1 : a.vtSymbol > b.vtSymbol ? 1 : 0))
    .map((s) => ({ ...s, winRate: s.trades > 0 ? s.wins / s.trades : null }));

  return {
    period,
    periodsPerYear,
    totalTrades: closes,
    wins,
    losses,
    winRate: closes > 0 ? wins / closes : null,
    totalPnl,
    averagePnl: closes > 0 ? totalPnl / closes : null,
    totalCommission,
    maxDrawdown,
    maxDrawdownPct,
    sharpe,
    periods,
    equityCurve,
    bySymbol,
  };
}

/** The totals as the contract carries them (Trades screen, backtest results): `fills` = rows given. */
export function statisticsTotals(s: TradeStatistics, fills: number): TradeTotals {
  return {
    fills,
    trades: s.totalTrades,
    wins: s.wins,
    losses: s.losses,
    winRate: s.winRate,
    totalPnl: s.totalPnl,
    averagePnl: s.averagePnl,
    commission: s.totalCommission,
    maxDrawdown: s.maxDrawdown,
    maxDrawdownPct: s.maxDrawdownPct,
    sharpe: s.sharpe,
  };
}

/** The periods as the contract carries them (win rate per period; null without trades). */
export function statisticsPeriodRows(s: TradeStatistics): TradePeriodRow[] {
  return s.periods.map((p) => ({
    period: p.period,
    start: p.start,
    trades: p.trades,
    wins: p.wins,
    losses: p.losses,
    winRate: p.trades > 0 ? p.wins / p.trades : null,
    pnl: p.pnl,
    cumulativePnl: p.cumulativePnl,
  }));
}
