import { describe, expect, it } from 'vitest';
import { TradingCalendar } from '../../../src/core/market/tradingCalendar.js';
import { dailyVolumesOf, overtakingContract } from '../../../src/core/strategy/contractRoll.js';
import { parseDatetime } from '../../../src/shared/time.js';

const A = 'rb2505.SHFE';
const B = 'rb2510.SHFE';
const C = 'rb2601.SHFE';

describe('the contract-roll rule', () => {
  it('rolls when another contract out-traded the active one on each of the last N trading days', () => {
    const v = { [A]: { '2025-01-06': 900, '2025-01-07': 800, '2025-01-08': 700 }, [B]: { '2025-01-06': 100, '2025-01-07': 850, '2025-01-08': 750 } };
    const two = overtakingContract(A, v, { days: 2 });
    expect(two.to).toBe(B);
    expect(two.daysCompared).toEqual(['2025-01-08', '2025-01-07']);
    expect(two.detail).toContain('out-traded');
    // Three days: the first one was A's.
    expect(overtakingContract(A, v, { days: 3 }).to).toBeNull();
  });

  it('does not roll on one day of more volume, nor on a tie', () => {
    expect(overtakingContract(A, { [A]: { d1: 500, d2: 900 }, [B]: { d1: 600, d2: 800 } }, { days: 2 }).to).toBeNull();
    expect(overtakingContract(A, { [A]: { d1: 500, d2: 500 }, [B]: { d1: 500, d2: 600 } }, { days: 2 }).to).toBeNull();
  });

  it('cannot judge with fewer trading days than the rule asks: no roll', () => {
    const r = overtakingContract(A, { [A]: { d2: 1 }, [B]: { d2: 10 } }, { days: 2 });
    expect(r.to).toBeNull();
    expect(r.detail).toMatch(/1 trading day\(s\) of volume, 2 needed/);
  });

  it('counts a day the active contract did not trade as 0, and skips days nobody traded (holidays)', () => {
    // d2 is a holiday: nobody has volume; the days compared are d3 and d1.
    const r = overtakingContract(A, { [A]: { d1: 10, d2: 0 }, [B]: { d1: 20, d2: 0, d3: 5 } }, { days: 2 });
    expect(r.daysCompared).toEqual(['d3', 'd1']);
    expect(r.to).toBe(B);
  });

  it('of several challengers, the one with the most volume on the latest day wins; ties by total, then vtSymbol', () => {
    expect(overtakingContract(A, { [A]: { d1: 1, d2: 1 }, [B]: { d1: 9, d2: 5 }, [C]: { d1: 2, d2: 6 } }, { days: 2 }).to).toBe(C);
    expect(overtakingContract(A, { [A]: { d1: 1, d2: 1 }, [B]: { d1: 9, d2: 6 }, [C]: { d1: 2, d2: 6 } }, { days: 2 }).to).toBe(B);
    expect(overtakingContract(A, { [A]: { d1: 1, d2: 1 }, [C]: { d1: 3, d2: 6 }, [B]: { d1: 3, d2: 6 } }, { days: 2 }).to).toBe(B);
  });

  it('is configurable by the number of days, and refuses a nonsense one', () => {
    const v = { [A]: { d1: 1, d2: 1, d3: 1 }, [B]: { d1: 0, d2: 2, d3: 2 } };
    expect(overtakingContract(A, v, { days: 1 }).to).toBe(B);
    expect(overtakingContract(A, v, { days: 2 }).to).toBe(B);
    expect(overtakingContract(A, v, { days: 3 }).to).toBeNull();
    expect(() => overtakingContract(A, v, { days: 0 })).toThrow(/days must be a whole number >= 1, got 0/);
  });

  it('daily volumes follow the trading calendar: the night session belongs to the next trading day', () => {
    const cal = new TradingCalendar();
    const bar = (dt: string, volume: number) => ({ time: parseDatetime(dt) as number, open: 1, high: 1, low: 1, close: 1, volume, turnover: 0, openInterest: 0 });
    const byDay = dailyVolumesOf(
      [bar('2025-01-06 14:59:00', 5), bar('2025-01-06 21:00:00', 7), bar('2025-01-07 09:00:00', 11), bar('2025-01-10 21:00:00', 13)],
      (t) => cal.tradingDay(t),
    );
    // Friday night is Monday's.
    expect(byDay).toEqual({ '2025-01-06': 5, '2025-01-07': 18, '2025-01-13': 13 });
  });
});
