import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/market/prng.js';
import {
  DEMO_INSTRUMENTS,
  SimulatedMarket,
  backfillStart,
  roundToTick,
  type SimulatedInstrument,
} from '../../../src/core/market/simulatedMarket.js';
import { TradingCalendar } from '../../../src/core/market/tradingCalendar.js';
import type { StoredBar } from '../../../src/shared/bar.js';
import { formatDatetime, minuteOfDay, parseDatetime } from '../../../src/shared/time.js';
import { referenceIsOpen } from './reference.js';

function t(text: string): number {
  const v = parseDatetime(text);
  if (v === null) throw new Error(`bad fixture datetime ${text}`);
  return v;
}

const calendar = new TradingCalendar();
const START = t('2026-03-16 08:00:00'); // Monday before the open

function run(market: SimulatedMarket, minutes: number): StoredBar[][] {
  return Array.from({ length: minutes }, () => market.nextMinute());
}

/** 20 trading days of bars for one seed, as the demo's backfill would produce them. */
function twentyDays(seed: number, instruments?: readonly SimulatedInstrument[]): StoredBar[][] {
  const live = t('2026-04-15 09:00:00');
  const market = new SimulatedMarket({ seed, startTime: backfillStart(calendar, live, 20), ...(instruments ? { instruments } : {}) });
  const out: StoredBar[][] = [];
  while (market.peekNextTime() < live) out.push(market.nextMinute());
  return out;
}

/**
 * Index of the first minute whose bars differ (-1 when identical). A plain toEqual on
 * thousands of minutes would spend tens of seconds diffing when it fails.
 */
function firstDifference(a: readonly StoredBar[][], b: readonly StoredBar[][]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) return i;
  return -1;
}

describe('SimulatedMarket', () => {
  it('starts at the first open minute at or after startTime, one bar per instrument, exchange SIM, interval 1m', () => {
    const saturday = new SimulatedMarket({ seed: 1, startTime: t('2026-03-21 10:00:00') });
    expect(formatDatetime(saturday.peekNextTime())).toBe('2026-03-23 09:00:00');
    const first = saturday.nextMinute();
    expect(first.map((b) => `${b.symbol}.${b.exchange}`)).toEqual(DEMO_INSTRUMENTS.map((i) => `${i.symbol}.SIM`));
    expect(first.every((b) => b.interval === '1m' && b.time === t('2026-03-23 09:00:00'))).toBe(true);
    // The first bar opens at the instrument's start price.
    expect(first.map((b) => b.open)).toEqual(DEMO_INSTRUMENTS.map((i) => i.startPrice));
    expect(formatDatetime(saturday.peekNextTime())).toBe('2026-03-23 09:01:00');
  });

  it('is deterministic: the same seed and start give identical bars; another seed does not', () => {
    const a = run(new SimulatedMarket({ seed: 42, startTime: START }), 3000);
    const b = run(new SimulatedMarket({ seed: 42, startTime: START }), 3000);
    const c = run(new SimulatedMarket({ seed: 43, startTime: START }), 3000);
    expect(a).toHaveLength(3000);
    expect(firstDifference(a, b)).toBe(-1);
    expect(c.map((m) => m.map((x) => x.close))).not.toEqual(a.map((m) => m.map((x) => x.close)));
  });

  it('resumes from a JSON round trip of toState() exactly as an uninterrupted run (random split points)', () => {
    const total = 4000;
    const reference = run(new SimulatedMarket({ seed: 7, startTime: START }), total);
    const splitter = new Prng(123);
    // Random split points, plus before the first bar and at the last minute of a session.
    const splits = new Set([0, 1, 75, 344, 345, ...Array.from({ length: 12 }, () => Math.floor(splitter.next() * total))]);
    for (const split of splits) {
      const first = new SimulatedMarket({ seed: 7, startTime: START });
      const head = run(first, split);
      const saved: unknown = JSON.parse(JSON.stringify(first.toState()));
      const resumed = SimulatedMarket.fromState(saved, { calendar });
      expect(resumed.peekNextTime()).toBe(first.peekNextTime());
      const tail = run(resumed, total - split);
      expect(firstDifference([...head, ...tail], reference), `split at ${split}`).toBe(-1);
    }
  });

  it('resuming twice in a row and saving mid-session keep the stream identical', () => {
    const reference = run(new SimulatedMarket({ seed: 9, startTime: START }), 1200);
    let market = new SimulatedMarket({ seed: 9, startTime: START });
    const bars: StoredBar[][] = [];
    for (let i = 0; i < 1200; i++) {
      if (i % 97 === 0) market = SimulatedMarket.fromState(JSON.parse(JSON.stringify(market.toState())));
      bars.push(market.nextMinute());
    }
    expect(firstDifference(bars, reference)).toBe(-1);
  });

  it('produces a bar for every open minute and none for a closed one', () => {
    const minutes = run(new SimulatedMarket({ seed: 3, startTime: START }), 345 * 12);
    let previous: number | null = null;
    for (const bars of minutes) {
      const time = bars[0]?.time ?? Number.NaN;
      expect(bars.every((b) => b.time === time)).toBe(true);
      expect(referenceIsOpen(time), formatDatetime(time)).toBe(true);
      if (previous !== null) {
        // No open minute skipped: every minute strictly between two bars is closed.
        for (let m = previous + 60; m < time; m += 60) expect(referenceIsOpen(m), formatDatetime(m)).toBe(false);
      }
      previous = time;
    }
    // 12 trading days of minutes from a Monday cross a weekend: no Saturday or Sunday bar.
    const weekdays = new Set(minutes.map((m) => new Date((m[0]?.time ?? 0) * 1000).getUTCDay()));
    expect(weekdays.has(0) || weekdays.has(6)).toBe(false);
    expect(weekdays.size).toBe(5);
  });

  it('keeps OHLC consistent, prices on the tick, volume and open interest positive integers, turnover inside the range', () => {
    const instruments: SimulatedInstrument[] = [
      ...DEMO_INSTRUMENTS,
      // An awkward tick: multiples of 0.2 must print as such, with no binary residue.
      { symbol: 'ag9999', exchange: 'SIM', startPrice: 57.3, priceTick: 0.2, baseVolume: 40, contractMultiplier: 15 },
    ];
    const minutes = run(new SimulatedMarket({ seed: 11, startTime: START, instruments }), 345 * 10);
    for (const bars of minutes) {
      expect(bars).toHaveLength(instruments.length);
      bars.forEach((b, i) => {
        const inst = instruments[i];
        if (inst === undefined) throw new Error('instrument missing');
        expect(b.symbol).toBe(inst.symbol);
        expect(b.low).toBeLessThanOrEqual(Math.min(b.open, b.close));
        expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close));
        for (const p of [b.open, b.high, b.low, b.close]) {
          const ticks = p / inst.priceTick;
          expect(Math.abs(ticks - Math.round(ticks))).toBeLessThan(1e-9);
          const decimals = (String(p).split('.')[1] ?? '').length;
          const tickDecimals = (String(inst.priceTick).split('.')[1] ?? '').length;
          expect(decimals, `${inst.symbol} price ${p}`).toBeLessThanOrEqual(tickDecimals);
        }
        expect(Number.isInteger(b.volume) && b.volume > 0).toBe(true);
        expect(Number.isInteger(b.openInterest) && b.openInterest > 0).toBe(true);
        const averagePrice = b.turnover / (b.volume * (inst.contractMultiplier ?? 10));
        expect(averagePrice).toBeGreaterThanOrEqual(b.low - 0.5 / b.volume);
        expect(averagePrice).toBeLessThanOrEqual(b.high + 0.5 / b.volume);
      });
    }
  });

  it('opens a minute at the previous close inside a session and gaps at session opens, more after a night than a break', () => {
    const minutes = twentyDays(5);
    const gapsAfterNight: number[] = [];
    const gapsAfterBreak: number[] = [];
    for (let i = 1; i < minutes.length; i++) {
      const prev = minutes[i - 1] ?? [];
      const cur = minutes[i] ?? [];
      const pause = ((cur[0]?.time ?? 0) - (prev[0]?.time ?? 0)) / 60 - 1;
      cur.forEach((b, k) => {
        const prevClose = prev[k]?.close ?? Number.NaN;
        const gap = Math.abs(Math.log(b.open / prevClose));
        if (pause === 0) expect(b.open).toBe(prevClose);
        else if (pause >= 360) gapsAfterNight.push(gap);
        else gapsAfterBreak.push(gap);
      });
    }
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(gapsAfterNight.length).toBeGreaterThan(50);
    expect(gapsAfterBreak.length).toBeGreaterThan(50);
    expect(mean(gapsAfterNight)).toBeGreaterThan(1.3 * mean(gapsAfterBreak));
    expect(mean(gapsAfterBreak)).toBeGreaterThan(0);
  });

  it('has an intraday U-shaped volume: the first and last 15 minutes of the day session trade far more than its middle', () => {
    const minutes = twentyDays(20260101);
    for (let k = 0; k < DEMO_INSTRUMENTS.length; k++) {
      const edges: number[] = [];
      const middle: number[] = [];
      for (const bars of minutes) {
        const b = bars[k];
        if (b === undefined) continue;
        const m = minuteOfDay(b.time);
        if (m >= 21 * 60) continue; // the night session is not the day session
        const edge = (m >= 9 * 60 && m < 9 * 60 + 15) || (m >= 14 * 60 + 45 && m < 15 * 60);
        (edge ? edges : middle).push(b.volume);
      }
      const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
      expect(edges.length).toBe(20 * 30);
      expect(middle.length).toBe(20 * (225 - 30));
      expect(mean(edges), DEMO_INSTRUMENTS[k]?.symbol).toBeGreaterThan(1.5 * mean(middle));
    }
  });

  it('stays plausible over a year of minutes: every price within 0.6–1.6 times its start price', () => {
    const market = new SimulatedMarket({ seed: 31, startTime: START });
    const lo = DEMO_INSTRUMENTS.map(() => Infinity);
    const hi = DEMO_INSTRUMENTS.map(() => 0);
    for (let i = 0; i < 345 * 250; i++) {
      market.nextMinute().forEach((b, k) => {
        lo[k] = Math.min(lo[k] ?? Infinity, b.low);
        hi[k] = Math.max(hi[k] ?? 0, b.high);
      });
    }
    DEMO_INSTRUMENTS.forEach((inst, k) => {
      expect(lo[k], inst.symbol).toBeGreaterThan(inst.startPrice * 0.6);
      expect(hi[k], inst.symbol).toBeLessThan(inst.startPrice * 1.6);
      // …and it does move: a year is not a flat line.
      expect((hi[k] ?? 0) / (lo[k] ?? 1)).toBeGreaterThan(1.1);
    });
  });

  it('backfillStart leaves exactly `days` complete trading days before the live start', () => {
    const live = t('2026-04-15 14:07:00');
    const start = backfillStart(calendar, live, 20);
    const market = new SimulatedMarket({ seed: 2, startTime: start });
    const days = new Set<string>();
    let count = 0;
    while (market.peekNextTime() < live) {
      const bars = market.nextMinute();
      days.add(calendar.tradingDay(bars[0]?.time ?? 0));
      count++;
    }
    days.delete(calendar.tradingDay(live));
    expect(days.size).toBe(20);
    // 20 full days of 345 minutes, plus today's night session (120) and the morning up to 14:07.
    expect(count).toBe(20 * 345 + 120 + 75 + 60 + 37);
  });

  it.each([
    [57.31, 0.2, 57.4],
    [57.29, 0.2, 57.2],
    [0.3, 0.1, 0.3],
    [780.26, 0.5, 780.5],
    [780.24, 0.5, 780],
    [3601.4, 1, 3601],
    [3602.6, 5, 3605],
    [12.3449, 0.01, 12.34],
  ])('roundToTick(%d, %d) = %d exactly', (price, tick, expected) => {
    expect(roundToTick(price, tick)).toBe(expected);
  });

  it('rejects malformed state and instruments with a message', () => {
    const good = new SimulatedMarket({ seed: 1, startTime: START }).toState();
    expect(() => SimulatedMarket.fromState(null)).toThrow(/object/);
    expect(() => SimulatedMarket.fromState({ ...good, version: 2 })).toThrow(/version/);
    expect(() => SimulatedMarket.fromState({ ...good, prng: [0, 0, 0, 0] })).toThrow(/zero/);
    expect(() => SimulatedMarket.fromState({ ...good, instruments: [{ ...good.instruments[0], regime: 'wild' }] })).toThrow(/regime/);
    expect(() =>
      new SimulatedMarket({ seed: 1, startTime: START, instruments: [{ symbol: 'x', exchange: 'SIM', startPrice: 0, priceTick: 1, baseVolume: 1 }] }),
    ).toThrow(/startPrice/);
  });
});
