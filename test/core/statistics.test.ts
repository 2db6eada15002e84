import { describe, expect, it } from 'vitest';
import { sharpeRatio, tradeStatistics, type StatisticsTrade } from '../../src/core/statistics.js';
import { at } from './fixtures.js';

function close(id: string, vtSymbol: string, when: string, pnl: number): StatisticsTrade {
  return { id, vtSymbol, time: at(when), pnl, commission: 2 };
}

/**
 * The week of Monday 2025-01-06. Closing trades (net pnl):
 *   Mon 11:00 rb +300, Mon 14:00 rb −100, Tue 10:00 i −400,
 *   Wed 21:30 i +200 (night: trading day Thursday), Fri 10:00 rb +50, Fri 11:00 i 0.
 * One opening row (pnl null) on Monday 10:00. Every row pays commission 2.
 */
const WEEK: StatisticsTrade[] = [
  { id: 'o1', vtSymbol: 'rb2505.SHFE', time: at('2025-01-06 10:00'), pnl: null, commission: 2 },
  close('c1', 'rb2505.SHFE', '2025-01-06 11:00', 300),
  close('c2', 'rb2505.SHFE', '2025-01-06 14:00', -100),
  close('c3', 'i2505.DCE', '2025-01-07 10:00', -400),
  close('c4', 'i2505.DCE', '2025-01-08 21:30', 200),
  close('c5', 'rb2505.SHFE', '2025-01-10 10:00', 50),
  close('c6', 'i2505.DCE', '2025-01-10 11:00', 0),
];

describe('tradeStatistics, a hand-worked week', () => {
  const s = tradeStatistics(WEEK, { period: 'day', initialEquity: 10_000 });

  it('counts closing rows as trades; a zero result is neither win nor loss', () => {
    // Wins +300, +200, +50; losses −100, −400; the 0 is neither.
    expect([s.totalTrades, s.wins, s.losses]).toEqual([6, 3, 2]);
    expect(s.winRate).toBe(0.5);
    expect(s.totalPnl).toBe(50);
    expect(s.averagePnl).toBeCloseTo(50 / 6, 12);
    expect(s.totalCommission).toBe(14);
  });

  it('draws the realised equity curve and its max drawdown', () => {
    expect(s.equityCurve.map((p) => p.equity)).toEqual([10_300, 10_200, 9_800, 10_000, 10_050, 10_050]);
    expect(s.equityCurve.map((p) => p.drawdown)).toEqual([0, 100, 500, 300, 250, 250]);
    expect(s.equityCurve.map((p) => p.tradeId)).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
    expect(s.maxDrawdown).toBe(500);
    expect(s.maxDrawdownPct).toBeCloseTo(500 / 10_300, 12); // 4.85 %
  });

  it('groups by trading day, fills the quiet Wednesday, and moves the Wednesday night trade to Thursday', () => {
    expect(s.periods.map((p) => [p.period, p.pnl, p.trades])).toEqual([
      ['2025-01-06', 200, 2],
      ['2025-01-07', -400, 1],
      ['2025-01-08', 0, 0],
      ['2025-01-09', 200, 1],
      ['2025-01-10', 50, 2],
    ]);
    // Returns on the equity at each day's start: 200/10000, −400/10200, 0/9800, 200/9800, 50/10000.
    const expected = [0.02, -400 / 10_200, 0, 200 / 9_800, 0.005];
    s.periods.forEach((p, i) => expect(p.return).toBeCloseTo(expected[i] ?? Number.NaN, 14));
  });

  it('annualises the Sharpe of daily returns by √252', () => {
    // mean 0.0012384954, sample std 0.0243500196 → 0.0508622 × 15.8745 = 0.8074123
    expect(s.sharpe).toBeCloseTo(0.8074122830579271, 10);
    expect(s.periodsPerYear).toBe(252);
  });

  it('uses pnl in money as the return without an initial equity (no % drawdown then)', () => {
    const m = tradeStatistics(WEEK, { period: 'day' });
    // pnl 200, −400, 0, 200, 50: mean 10, sample variance 242000 / 4 = 60500, std 245.967;
    // 10 / 245.967 × √252 = 0.64539
    expect(m.sharpe).toBeCloseTo(0.6453905217926854, 10);
    expect(m.maxDrawdown).toBe(500);
    expect(m.maxDrawdownPct).toBeNull();
    expect(m.equityCurve[0]?.equity).toBe(300);
  });

  it('breaks down by symbol', () => {
    expect(s.bySymbol).toEqual([
      { vtSymbol: 'i2505.DCE', trades: 3, wins: 1, winRate: 1 / 3, pnl: -200, commission: 6 },
      { vtSymbol: 'rb2505.SHFE', trades: 3, wins: 2, winRate: 2 / 3, pnl: 250, commission: 8 },
    ]);
  });

  it('does not depend on the order the rows come in', () => {
    const shuffled = [WEEK[3], WEEK[0], WEEK[6], WEEK[1], WEEK[5], WEEK[2], WEEK[4]].filter((t): t is StatisticsTrade => t !== undefined);
    expect(tradeStatistics(shuffled, { period: 'day', initialEquity: 10_000 })).toEqual(s);
  });
});

describe('tradeStatistics periods and edge cases', () => {
  it('one week or one month of trades is a single period: Sharpe null', () => {
    const w = tradeStatistics(WEEK, { period: 'week', initialEquity: 10_000 });
    expect(w.periods.map((p) => [p.period, p.start, p.pnl])).toEqual([['2025-W02', '2025-01-06', 50]]);
    expect(w.sharpe).toBeNull();
    expect(w.periodsPerYear).toBe(52);
    const m = tradeStatistics(WEEK, { period: 'month' });
    expect(m.periods.map((p) => p.period)).toEqual(['2025-01']);
    expect(m.sharpe).toBeNull();
  });

  it('fills empty weeks and months between trades with zero', () => {
    const trades = [close('a', 'rb2505.SHFE', '2024-12-31 10:00', 100), close('b', 'rb2505.SHFE', '2025-01-14 10:00', -50), close('c', 'rb2505.SHFE', '2025-03-03 10:00', 30)];
    const w = tradeStatistics(trades, { period: 'week' });
    // 2024-12-31 lies in ISO week 2025-W01 (Monday 2024-12-30).
    expect(w.periods.slice(0, 3).map((p) => [p.period, p.start, p.pnl])).toEqual([
      ['2025-W01', '2024-12-30', 100],
      ['2025-W02', '2025-01-06', 0],
      ['2025-W03', '2025-01-13', -50],
    ]);
    expect(w.periods.at(-1)?.period).toBe('2025-W10');
    expect(w.periods).toHaveLength(10);
    const m = tradeStatistics(trades, { period: 'month' });
    expect(m.periods.map((p) => [p.period, p.pnl])).toEqual([
      ['2024-12', 100],
      ['2025-01', -50],
      ['2025-02', 0],
      ['2025-03', 30],
    ]);
    // √12 for months: returns 100, −50, 0, 30 → mean 20, std 62.716 → 0.3189 × 3.4641
    expect(m.sharpe).toBeCloseTo((20 / Math.sqrt((80 ** 2 + 70 ** 2 + 20 ** 2 + 10 ** 2) / 3)) * Math.sqrt(12), 12);
  });

  it('Friday night trades belong to Monday', () => {
    const s = tradeStatistics([close('n', 'rb2505.SHFE', '2025-01-10 22:00', 10)], { period: 'day' });
    expect(s.periods.map((p) => p.period)).toEqual(['2025-01-13']);
  });

  it('zero variance gives a null Sharpe, not Infinity or NaN', () => {
    const flat = [close('a', 'rb2505.SHFE', '2025-01-06 10:00', 100), close('b', 'rb2505.SHFE', '2025-01-07 10:00', 100), close('c', 'rb2505.SHFE', '2025-01-08 10:00', 100)];
    expect(tradeStatistics(flat, { period: 'day' }).sharpe).toBeNull();
    // Equal returns whose mean does not round back exactly: still null.
    expect(sharpeRatio([0.1, 0.1, 0.1], 252)).toBeNull();
    expect(sharpeRatio([0.1, 0.1 + 1e-17, 0.1], 252)).toBeNull();
  });

  it('fewer than two returns, or no trades at all, give null and finite figures', () => {
    const one = tradeStatistics([close('a', 'rb2505.SHFE', '2025-01-06 10:00', 100)], { period: 'day', initialEquity: 1000 });
    expect(one.sharpe).toBeNull();
    expect(one.winRate).toBe(1);
    const none = tradeStatistics([], { period: 'day', initialEquity: 1000 });
    expect(none).toMatchObject({ totalTrades: 0, winRate: null, averagePnl: null, totalPnl: 0, maxDrawdown: 0, maxDrawdownPct: 0, sharpe: null, periods: [], equityCurve: [] });
    const openOnly = tradeStatistics([{ vtSymbol: 'rb2505.SHFE', time: at('2025-01-06 10:00'), pnl: null, commission: 3 }], { period: 'day' });
    expect(openOnly).toMatchObject({ totalTrades: 0, totalCommission: 3, sharpe: null });
    expect(JSON.stringify([one, none, openOnly])).not.toMatch(/Infinity|NaN/);
  });

  it('a period starting from equity at or below zero has no return, and no Sharpe', () => {
    const s = tradeStatistics(
      [close('a', 'rb2505.SHFE', '2025-01-06 10:00', -1000), close('b', 'rb2505.SHFE', '2025-01-07 10:00', 50), close('c', 'rb2505.SHFE', '2025-01-08 10:00', 20)],
      { period: 'day', initialEquity: 1000 },
    );
    // Equity 1000 → 0 → 50 → 70: returns −1000/1000, 50/0 (none), 20/50.
    expect(s.periods.map((p) => p.return)).toEqual([-1, null, 0.4]);
    expect(s.sharpe).toBeNull();
    expect(s.maxDrawdownPct).toBe(1);
  });

  it('takes periodsPerYear when given', () => {
    const a = tradeStatistics(WEEK, { period: 'day' });
    const b = tradeStatistics(WEEK, { period: 'day', periodsPerYear: 240 });
    expect(b.sharpe).toBeCloseTo(((a.sharpe ?? 0) / Math.sqrt(252)) * Math.sqrt(240), 12);
  });
});
