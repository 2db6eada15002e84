import { describe, expect, it } from 'vitest';
import { TradingCalendar } from '../../../src/core/market/tradingCalendar.js';
import { DailyOpenCounters, type DailyOpenCountersState } from '../../../src/core/strategy/tradingDay.js';
import { at } from '../fixtures.js';
import { Tape, macdTdEngine } from './tape.js';

const BASE = { priceTick: 1, contractMultiplier: 10, slippageTicks: 0 } as const;
const bottom = { bottomDivergence: true } as const;
const top = { topDivergence: true, emaState: 'bull' } as const; // closes a long, confirms no short

describe('DailyOpenCounters', () => {
  it('allows up to the per-product and the global limit, then refuses with a reason', () => {
    const c = new DailyOpenCounters({ perProduct: 2, global: 3 });
    c.rollTo('2025-01-06');
    expect(c.check('rb')).toEqual({ allowed: true });
    c.record('rb');
    c.record('rb');
    expect(c.check('rb')).toEqual({ allowed: false, reason: 'daily open limit per product reached: 2 of 2 for rb on 2025-01-06' });
    c.record('i');
    expect(c.check('m')).toEqual({ allowed: false, reason: 'daily open limit of the variant reached: 3 of 3 on 2025-01-06' });
    expect([c.opensToday(), c.opensToday('rb'), c.opensToday('i'), c.opensToday('m')]).toEqual([3, 2, 1, 0]);
  });

  it('resets only when the trading day moves forward', () => {
    const c = new DailyOpenCounters({ perProduct: 1, global: 1 });
    expect(c.rollTo('2025-01-06')).toBe(true);
    c.record('rb');
    expect(c.rollTo('2025-01-06')).toBe(false);
    expect(c.rollTo('2025-01-03')).toBe(false);
    expect(c.opensToday()).toBe(1);
    expect(c.rollTo('2025-01-07')).toBe(true);
    expect(c.opensToday()).toBe(0);
    const state = JSON.parse(JSON.stringify(c.toState())) as DailyOpenCountersState;
    expect(DailyOpenCounters.fromState(state, c.limits).toState()).toEqual(c.toState());
  });

  it('rolls with the calendar at 21:00: Friday night belongs to Monday', () => {
    const cal = new TradingCalendar();
    expect(cal.tradingDay(at('2025-01-10 20:59'))).toBe('2025-01-10'); // Friday
    expect(cal.tradingDay(at('2025-01-10 21:00'))).toBe('2025-01-13'); // Monday
  });
});

describe('the risk gate\'s daily open limits (MACD-TD)', () => {
  /** Opens a long on a fresh bottom episode and closes it on a top signal: one open per call. */
  function roundTrip(tape: Tape, windowStart: string): number {
    const start = at(windowStart);
    const fmt = (t: number): string => new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ');
    const sent = tape.step(fmt(start), 3600, bottom).ordersSent.length;
    tape.step(fmt(start + 15 * 60), 3600, top);
    tape.step(fmt(start + 30 * 60), 3600); // quiet: the episodes end, the close has filled
    return sent;
  }

  it('refuses opens beyond maxDailyOpenPerProduct (logged once per episode), and counts again after the 21:00 roll', () => {
    const s = macdTdEngine({ ...BASE, maxDailyOpenPerProduct: 2, maxDailyOpenGlobal: 10 }, { variant: 'v' });
    const tape = new Tape(s, 'rb2505.SHFE');
    expect(roundTrip(tape, '2025-01-10 09:00')).toBe(1);
    expect(roundTrip(tape, '2025-01-10 09:45')).toBe(1);
    const refused = tape.step('2025-01-10 13:30', 3600, bottom);
    expect(refused.ordersSent).toEqual([]);
    expect(refused.decisions.map((d) => [d.outcome, d.detail])).toEqual([
      ['refused', 'bottom divergence, confirmed by EMA state neutral; daily open limit per product reached: 2 of 2 for rb on 2025-01-10'],
    ]);
    expect(refused.log.filter((l) => l.level === 'WARNING').map((l) => l.message)).toEqual([
      'open long rb2505.SHFE refused: daily open limit per product reached: 2 of 2 for rb on 2025-01-10',
    ]);
    expect(s.snapshot().counters.refusedByLimit).toBe(1);
    expect(s.refusals('dailyOpenLimitProduct')).toBe(1);
    // The same episode on the next bar: already decided, no second refusal.
    expect(tape.step('2025-01-10 13:45', 3600, bottom).decisions).toEqual([]);
    tape.step('2025-01-10 14:00', 3600);
    // 20:45 would still be Friday; the 21:00 bar starts Monday's trading day.
    tape.minute('2025-01-10 20:59', 3600);
    expect(s.tradingDay).toBe('2025-01-10');
    const night = tape.step('2025-01-10 21:00', 3600, bottom);
    expect(s.tradingDay).toBe('2025-01-13');
    expect(night.log.some((l) => l.message === 'trading day 2025-01-13: daily open counters reset')).toBe(true);
    expect(night.ordersSent.map((o) => o.offset)).toEqual(['open']);
    expect(s.opensToday('rb')).toBe(1);
  });

  it('refuses opens beyond maxDailyOpenGlobal across the products of the variant', () => {
    const s = macdTdEngine({ ...BASE, maxDailyOpenPerProduct: 5, maxDailyOpenGlobal: 3 }, { variant: 'v' });
    const sent = ['rb2505.SHFE', 'i2505.DCE', 'm2505.DCE', 'p2505.DCE'].map(
      (vt) => new Tape(s, vt).step('2025-01-06 09:00', 3600, bottom).decisions.map((d) => d.outcome)[0],
    );
    expect(sent).toEqual(['sent', 'sent', 'sent', 'refused']);
    expect(s.opensToday()).toBe(3);
    expect(s.snapshot().counters).toMatchObject({ opensToday: 3, 'opensToday.rb': 1, 'opensToday.i': 1, 'opensToday.m': 1, refusedByLimit: 1 });
  });

  it('does not advance the counters for a decision suppressed while restoring', () => {
    const s = macdTdEngine({ ...BASE, maxDailyOpenPerProduct: 1 }, { variant: 'v' });
    const tape = new Tape(s, 'rb2505.SHFE');
    tape.step('2025-01-06 09:00', 3600, bottom, 'restoring');
    expect(s.opensToday()).toBe(0);
    expect(tape.step('2025-01-06 09:15', 3600, bottom, 'live').ordersSent).toHaveLength(1);
    expect(s.opensToday()).toBe(1);
  });
});
