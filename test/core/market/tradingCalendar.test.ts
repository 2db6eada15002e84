import { describe, expect, it } from 'vitest';
import { CHINA_FUTURES_SESSIONS, TradingCalendar } from '../../../src/core/market/tradingCalendar.js';
import { formatDatetime, parseDatetime } from '../../../src/shared/time.js';
import { referenceIsOpen } from './reference.js';

// The week of Monday 2026-03-16 … Sunday 2026-03-22; Monday 2026-03-23 follows.
function t(text: string): number {
  const v = parseDatetime(text);
  if (v === null) throw new Error(`bad fixture datetime ${text}`);
  return v;
}
const fmt = (time: number | null): string | null => (time === null ? null : formatDatetime(time));

describe('TradingCalendar (China futures sessions)', () => {
  const cal = new TradingCalendar();

  it('uses the documented sessions by default', () => {
    expect(CHINA_FUTURES_SESSIONS).toEqual([
      { start: '09:00', end: '10:15' },
      { start: '10:30', end: '11:30' },
      { start: '13:30', end: '15:00' },
      { start: '21:00', end: '23:00' },
    ]);
  });

  it.each([
    ['08:59', false],
    ['09:00', true],
    ['10:14', true],
    ['10:15', false],
    ['10:29', false],
    ['10:30', true],
    ['11:29', true],
    ['11:30', false],
    ['13:29', false],
    ['13:30', true],
    ['14:59', true],
    ['15:00', false],
    ['20:59', false],
    ['21:00', true],
    ['22:59', true],
    ['23:00', false],
    ['00:00', false],
  ])('Monday %s open = %s', (clock, open) => {
    expect(cal.isOpen(t(`2026-03-16 ${clock}:00`))).toBe(open);
    // Any second inside the minute gives the same answer.
    expect(cal.isOpen(t(`2026-03-16 ${clock}:59`))).toBe(open);
  });

  it('agrees minute by minute with a hand-written reference over two weeks; 345 open minutes a weekday, none on weekends', () => {
    const from = t('2026-03-15 00:00:00'); // a Sunday
    const perDate = new Map<string, number>();
    for (let time = from; time < from + 14 * 86_400; time += 60) {
      const open = cal.isOpen(time);
      expect(open, formatDatetime(time)).toBe(referenceIsOpen(time));
      if (open) {
        const date = formatDatetime(time).slice(0, 10);
        perDate.set(date, (perDate.get(date) ?? 0) + 1);
      }
    }
    expect([...perDate.keys()].sort()).toEqual([
      '2026-03-16', '2026-03-17', '2026-03-18', '2026-03-19', '2026-03-20',
      '2026-03-23', '2026-03-24', '2026-03-25', '2026-03-26', '2026-03-27',
    ]);
    expect([...perDate.values()].every((n) => n === 75 + 60 + 90 + 120)).toBe(true);
  });

  it.each([
    ['2026-03-16 09:00:00', '2026-03-16 09:01:00'], // strictly after
    ['2026-03-16 10:14:00', '2026-03-16 10:30:00'], // across the morning break
    ['2026-03-16 10:15:00', '2026-03-16 10:30:00'],
    ['2026-03-16 11:29:00', '2026-03-16 13:30:00'], // across lunch
    ['2026-03-16 14:59:00', '2026-03-16 21:00:00'], // to the night session
    ['2026-03-16 22:59:00', '2026-03-17 09:00:00'], // across the night
    ['2026-03-20 14:59:00', '2026-03-20 21:00:00'], // Friday has a night session
    ['2026-03-20 22:59:00', '2026-03-23 09:00:00'], // Friday night → Monday morning: no weekend minutes
    ['2026-03-21 12:00:00', '2026-03-23 09:00:00'], // Saturday
    ['2026-03-22 21:30:00', '2026-03-23 09:00:00'], // Sunday evening: no Sunday night session
    ['2026-03-16 10:13:30', '2026-03-16 10:14:00'], // not a minute start
  ])('nextOpenMinute(%s) = %s', (from, expected) => {
    expect(fmt(cal.nextOpenMinute(t(from)))).toBe(expected);
  });

  it.each([
    ['2026-03-16 09:00:00', '2026-03-16 09:00:00'],
    ['2026-03-16 08:59:30', '2026-03-16 09:00:00'],
    ['2026-03-16 10:14:30', '2026-03-16 10:30:00'],
    ['2026-03-16 23:00:00', '2026-03-17 09:00:00'],
    ['2026-03-21 00:00:00', '2026-03-23 09:00:00'],
  ])('firstOpenMinuteAtOrAfter(%s) = %s', (from, expected) => {
    expect(fmt(cal.firstOpenMinuteAtOrAfter(t(from)))).toBe(expected);
  });

  it.each([
    ['2026-03-16 09:00:00', '2026-03-13 22:59:00'],
    ['2026-03-16 10:30:00', '2026-03-16 10:14:00'],
    ['2026-03-16 10:31:00', '2026-03-16 10:30:00'],
    ['2026-03-17 09:00:00', '2026-03-16 22:59:00'],
  ])('previousOpenMinute(%s) = %s', (from, expected) => {
    expect(fmt(cal.previousOpenMinute(t(from)))).toBe(expected);
  });

  it.each([
    ['2026-03-16 09:00:00', '2026-03-16'], // Monday morning is Monday
    ['2026-03-16 20:59:00', '2026-03-16'],
    ['2026-03-16 21:00:00', '2026-03-17'], // night belongs to the next trading day
    ['2026-03-19 21:30:00', '2026-03-20'], // Thursday night → Friday
    ['2026-03-20 14:59:00', '2026-03-20'],
    ['2026-03-20 21:30:00', '2026-03-23'], // Friday night → Monday
    ['2026-03-21 10:00:00', '2026-03-23'], // Saturday (closed) → Monday
    ['2026-03-22 22:00:00', '2026-03-23'], // Sunday evening (closed) → Monday
    ['2026-03-23 09:00:00', '2026-03-23'],
  ])('tradingDay(%s) = %s', (time, day) => {
    expect(cal.tradingDay(t(time))).toBe(day);
  });

  it.each([
    ['2026-03-16 09:00:00', '2026-03-16 10:15:00', '2026-03-16 09:00:00'],
    ['2026-03-16 10:14:00', '2026-03-16 10:15:00', '2026-03-16 09:00:00'],
    ['2026-03-16 10:15:00', null, null],
    ['2026-03-16 13:45:00', '2026-03-16 15:00:00', '2026-03-16 13:30:00'],
    ['2026-03-20 22:00:00', '2026-03-20 23:00:00', '2026-03-20 21:00:00'],
    ['2026-03-21 10:00:00', null, null],
  ])('session of %s ends at %s, started at %s', (time, end, start) => {
    expect(fmt(cal.sessionEndsAt(t(time)))).toBe(end);
    expect(fmt(cal.sessionStartsAt(t(time)))).toBe(start);
  });

  it.each([
    // endTime Wednesday 14:07: its trading day (Wed) began Tuesday 21:00.
    ['2026-03-18 14:07:00', 0, '2026-03-17 21:00:00'],
    ['2026-03-18 14:07:00', 1, '2026-03-16 21:00:00'],
    ['2026-03-18 14:07:00', 2, '2026-03-13 21:00:00'], // Monday's trading day began Friday night
    ['2026-03-18 14:07:00', 3, '2026-03-12 21:00:00'],
    ['2026-03-18 14:07:00', 7, '2026-03-06 21:00:00'],
    // Saturday: the trading day is Monday (still to come), one day back is Friday's.
    ['2026-03-21 12:00:00', 1, '2026-03-19 21:00:00'],
  ])('minutesBackForTradingDays(%s, %d) = %s', (end, days, expected) => {
    expect(fmt(cal.minutesBackForTradingDays(t(end), days))).toBe(expected);
  });

  it('minutesBackForTradingDays covers exactly `days` earlier trading days, for many end times', () => {
    const base = t('2026-03-02 00:00:00');
    for (let k = 0; k < 60; k++) {
      // End times spread over three weeks, open and closed, at odd minutes.
      const end = base + k * 8 * 3600 + 37 * 60 * (k % 7);
      const days = (k % 5) + 1;
      const start = cal.minutesBackForTradingDays(end, days);
      expect(cal.isOpen(start)).toBe(true);
      // The open minute before start belongs to an earlier trading day: start begins a trading day.
      expect(cal.tradingDay(cal.previousOpenMinute(start)) < cal.tradingDay(start)).toBe(true);
      const seen = new Set<string>();
      for (let m = start; m < end; m = cal.nextOpenMinute(m)) seen.add(cal.tradingDay(m));
      seen.delete(cal.tradingDay(end));
      expect(seen.size, `end ${formatDatetime(end)} days ${days}`).toBe(days);
    }
  });

  it('supports a night session past midnight: Friday night runs into Saturday, no Sunday night', () => {
    const late = new TradingCalendar([
      { start: '09:00', end: '15:00' },
      { start: '21:00', end: '02:30' },
    ]);
    expect(late.isOpen(t('2026-03-20 23:30:00'))).toBe(true); // Friday
    expect(late.isOpen(t('2026-03-21 02:29:00'))).toBe(true); // Saturday morning, Friday's session
    expect(late.isOpen(t('2026-03-21 02:30:00'))).toBe(false);
    expect(late.isOpen(t('2026-03-23 01:00:00'))).toBe(false); // Monday 01:00: no Sunday session
    expect(late.isOpen(t('2026-03-24 01:00:00'))).toBe(true); // Tuesday 01:00: Monday's session
    expect(fmt(late.sessionEndsAt(t('2026-03-20 23:00:00')))).toBe('2026-03-21 02:30:00');
    expect(fmt(late.sessionStartsAt(t('2026-03-21 01:00:00')))).toBe('2026-03-20 21:00:00');
    expect(late.tradingDay(t('2026-03-21 01:00:00'))).toBe('2026-03-23');
    expect(fmt(late.nextOpenMinute(t('2026-03-21 02:29:00')))).toBe('2026-03-23 09:00:00');
  });

  it('without a night roll the trading day is the calendar date', () => {
    const dayOnly = new TradingCalendar([{ start: '09:30', end: '15:00' }], { nightRollHour: 24 });
    expect(dayOnly.tradingDay(t('2026-03-16 22:00:00'))).toBe('2026-03-16');
    expect(fmt(dayOnly.minutesBackForTradingDays(t('2026-03-18 10:00:00'), 1))).toBe('2026-03-17 09:30:00');
  });

  it('rejects malformed or overlapping sessions', () => {
    expect(() => new TradingCalendar([{ start: '9:00', end: '10:00' }])).toThrow(/HH:MM/);
    expect(() => new TradingCalendar([{ start: '09:00', end: '25:00' }])).toThrow(/time of day/);
    expect(() => new TradingCalendar([{ start: '09:00', end: '10:00' }, { start: '09:30', end: '11:00' }])).toThrow(/overlaps/);
    expect(() => new TradingCalendar([])).toThrow(/at least one/);
    expect(() => new TradingCalendar(CHINA_FUTURES_SESSIONS, { nightRollHour: 0 })).toThrow(/nightRollHour/);
    expect(() => cal.minutesBackForTradingDays(t('2026-03-18 10:00:00'), -1)).toThrow(/days/);
  });
});
