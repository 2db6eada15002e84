import { describe, expect, it } from 'vitest';
import { tradeStatistics, type StatisticsTrade } from '../../src/core/statistics.js';
import { at } from './fixtures.js';

function close(id: string, when: string, pnl: number): StatisticsTrade {
  return { id, vtSymbol: 'rb2505.SHFE', time: at(when), pnl, commission: 1 };
}

/**
 * Per-period wins, losses and cumulative pnl (the Trades screen's period table). Hand-worked:
 *   Mon 2025-01-06: +300, −100, 0      → 3 trades, 1 win, 1 loss, pnl 200, cumulative 200
 *   Tue 2025-01-07: (none)             → 0, 0, 0, pnl 0, cumulative 200
 *   Wed 2025-01-08 21:30: −50 (night → Thursday)
 *   Thu 2025-01-09: −50, +20           → 2 trades, 1 win, 1 loss, pnl −30, cumulative 170
 *   Mon 2025-01-13 (week 3): +1        → cumulative 171
 */
const TRADES: StatisticsTrade[] = [
  { id: 'o1', vtSymbol: 'rb2505.SHFE', time: at('2025-01-06 09:30'), pnl: null, commission: 1 },
  close('a', '2025-01-06 10:00', 300),
  close('b', '2025-01-06 11:00', -100),
  close('c', '2025-01-06 14:00', 0),
  close('d', '2025-01-08 21:30', -50),
  close('e', '2025-01-09 10:00', 20),
  close('f', '2025-01-13 10:00', 1),
];

describe('tradeStatistics per-period counts', () => {
  it('counts wins and losses and carries the cumulative pnl through quiet days', () => {
    const s = tradeStatistics(TRADES, { period: 'day', initialEquity: 1_000_000 });
    expect(s.periods.map((p) => [p.period, p.trades, p.wins, p.losses, p.pnl, p.cumulativePnl])).toEqual([
      ['2025-01-06', 3, 1, 1, 200, 200],
      ['2025-01-07', 0, 0, 0, 0, 200],
      ['2025-01-08', 0, 0, 0, 0, 200],
      ['2025-01-09', 2, 1, 1, -30, 170],
      ['2025-01-10', 0, 0, 0, 0, 170],
      ['2025-01-13', 1, 1, 0, 1, 171],
    ]);
  });

  it('sums weeks and months the same way', () => {
    const w = tradeStatistics(TRADES, { period: 'week' });
    expect(w.periods.map((p) => [p.period, p.trades, p.wins, p.losses, p.cumulativePnl])).toEqual([
      ['2025-W02', 5, 2, 2, 170],
      ['2025-W03', 1, 1, 0, 171],
    ]);
    const m = tradeStatistics(TRADES, { period: 'month' });
    expect(m.periods.map((p) => [p.period, p.trades, p.wins, p.losses, p.cumulativePnl])).toEqual([['2025-01', 6, 3, 2, 171]]);
  });
});
