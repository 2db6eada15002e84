/**
 * How fast the simulated market generates history: the demo's backfill (20 trading days)
 * must be instant, and live runs at high --demo-speed must never wait on the generator.
 */
import { DEMO_INSTRUMENTS, SimulatedMarket, backfillStart } from '../src/core/market/simulatedMarket.js';
import { TradingCalendar } from '../src/core/market/tradingCalendar.js';
import { parseDatetime } from '../src/shared/time.js';
import { bestOf, type BenchFigure } from './figure.js';

const NOTE = 'no peer: Kestrel-specific generator (xoshiro128** PRNG, regimes, trends, U-shaped volume)';

export async function run(): Promise<BenchFigure[]> {
  const calendar = new TradingCalendar();
  const live = parseDatetime('2026-04-15 09:00:00') ?? 0;
  const start = backfillStart(calendar, live, 20);
  const minutes = 345 * 100; // 100 trading days

  const generate = (): void => {
    const market = new SimulatedMarket({ seed: 20260101, startTime: start, calendar });
    for (let i = 0; i < minutes; i++) market.nextMinute();
  };
  const seconds = bestOf(3, generate);

  const backfill = (): void => {
    const market = new SimulatedMarket({ seed: 20260101, startTime: start, calendar });
    while (market.peekNextTime() < live) market.nextMinute();
  };
  const backfillSeconds = bestOf(5, backfill);

  const saveRestore = (): void => {
    const market = new SimulatedMarket({ seed: 1, startTime: start, calendar });
    for (let i = 0; i < 1000; i++) SimulatedMarket.fromState(JSON.parse(JSON.stringify(market.toState())), { calendar });
  };
  const saveRestoreSeconds = bestOf(3, saveRestore);

  return [
    {
      name: `simulated minutes per second (${DEMO_INSTRUMENTS.length} instruments)`,
      value: minutes / seconds,
      unit: 'min/s',
      note: NOTE,
    },
    {
      name: 'simulated 1m bars per second',
      value: (minutes * DEMO_INSTRUMENTS.length) / seconds,
      unit: 'bars/s',
      note: NOTE,
    },
    {
      name: '20-trading-day backfill generation (no store writes)',
      value: backfillSeconds * 1000,
      unit: 'ms',
      note: NOTE,
    },
    {
      name: 'state JSON save + restore',
      value: (saveRestoreSeconds / 1000) * 1e6,
      unit: 'µs/op',
      note: NOTE,
    },
  ];
}
