/**
 * The point of the demo: 20 trading days of simulated 1-minute bars, grouped into 15- and
 * 30-minute windows, must give the strategy something to see — MACD swinging through zero,
 * TD setup 9s and countdown 13s, divergences and dullness. Window bars, MACD and TD counts
 * here are small independent reference code (reference.ts), not the engine in src/core.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_INSTRUMENTS, SimulatedMarket, backfillStart } from '../../../src/core/market/simulatedMarket.js';
import { TradingCalendar } from '../../../src/core/market/tradingCalendar.js';
import type { OhlcvBar } from '../../../src/shared/bar.js';
import { parseDatetime } from '../../../src/shared/time.js';
import {
  aggregate,
  divergences,
  dullnessStarts,
  macd,
  signChanges,
  tdCountdownThirteens,
  tdSetupNines,
} from './reference.js';

const calendar = new TradingCalendar();
const LIVE = parseDatetime('2026-04-15 09:00:00') ?? 0;

function barsPerInstrument(seed: number): OhlcvBar[][] {
  const market = new SimulatedMarket({ seed, startTime: backfillStart(calendar, LIVE, 20) });
  const out: OhlcvBar[][] = DEMO_INSTRUMENTS.map(() => []);
  while (market.peekNextTime() < LIVE) market.nextMinute().forEach((b, k) => out[k]?.push(b));
  return out;
}

describe.each([20260101, 1, 2])('20 trading days of demo data, seed %i', (seed) => {
  const perInstrument = barsPerInstrument(seed);

  it.each(DEMO_INSTRUMENTS.map((inst, k) => [inst.symbol, k] as const))('%s on 15-minute bars', (_symbol, k) => {
    const windows = aggregate(perInstrument[k] ?? [], 15);
    // 23 windows a trading day (5 + 4 + 6 + 8), never merged across a break.
    expect(windows.length).toBe(20 * 23 + 8);
    const closes = windows.map((w) => w.close);
    const { dif, hist } = macd(closes);
    expect(signChanges(hist)).toBeGreaterThanOrEqual(8);
    expect(signChanges(dif)).toBeGreaterThanOrEqual(3);
    const nines = tdSetupNines(closes);
    expect(nines.buy).toBeGreaterThanOrEqual(1);
    expect(nines.sell).toBeGreaterThanOrEqual(1);
    const thirteens = tdCountdownThirteens(windows);
    expect(thirteens.buy + thirteens.sell).toBeGreaterThanOrEqual(1);
    const div = divergences(windows, dif);
    expect(div.bottom + div.top).toBeGreaterThanOrEqual(1);
    const dull = dullnessStarts(closes, dif);
    expect(dull.bottom).toBeGreaterThanOrEqual(1);
    expect(dull.top).toBeGreaterThanOrEqual(1);
  });

  it.each(DEMO_INSTRUMENTS.map((inst, k) => [inst.symbol, k] as const))('%s on 30-minute bars', (_symbol, k) => {
    const windows = aggregate(perInstrument[k] ?? [], 30);
    // 12 windows a trading day: 09:00, 09:30, 10:00 (10:00–10:14 alone), 10:30, 11:00, 13:30, 14:00, 14:30, and 4 at night.
    expect(windows.length).toBe(20 * 12 + 4);
    const closes = windows.map((w) => w.close);
    const { hist } = macd(closes);
    expect(signChanges(hist)).toBeGreaterThanOrEqual(4);
    const nines = tdSetupNines(closes);
    expect(nines.buy + nines.sell).toBeGreaterThanOrEqual(1);
  });
});
