/**
 * The seam's hot path: 10 M one-minute bars of one instrument through the TradingEngine
 * (15-minute windows → MACD-TD → RiskGate → PaperBroker), beside trading-signals' MACD alone
 * updated with the same 10 M closes. The bars are generated in the loop (a seeded random walk
 * into one reused bar object), so the figure is the engine's, not an array's.
 *
 * Allocation check: v8 heap used is read before and after runs of minute bars that close no
 * window (minutes 1–58 of 60-minute windows, so no window closes inside a run), without a GC
 * between the two reads; a run that allocated nothing leaves heapUsed unchanged. Printed:
 * how many of those runs grew the heap, and by how many bytes in all.
 */
import { EMA, MACD } from 'trading-signals';
import { TradingEngine } from '../src/core/strategy/engine.js';
import { strategyFor } from '../src/core/strategy/registry.js';
import type { OhlcvBar } from '../src/shared/bar.js';
import { parseDatetime } from '../src/shared/time.js';
import { bestOf, type BenchFigure } from './figure.js';

const BARS = 10_000_000;
const START = parseDatetime('2020-01-06 00:00:00') ?? 0;

/** A seeded random walk; the same seed gives the same closes to the engine and to the peer. */
function walk(seed: number): () => number {
  let s = seed >>> 0;
  let price = 3600;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    price += ((s / 4294967296) - 0.5) * 4;
    return price;
  };
}

export async function run(): Promise<BenchFigure[]> {
  const bound = strategyFor('macd-td', { stopLoss: { unit: 'ticks', value: 30 }, takeProfit: { unit: 'ticks', value: 60 }, maxDailyOpenPerProduct: 1000, maxDailyOpenGlobal: 1000 }, 'bench');
  const bar: OhlcvBar = { time: 0, open: 0, high: 0, low: 0, close: 0, volume: 10, turnover: 0, openInterest: 0 };
  let fills = 0;
  const engineSeconds = bestOf(2, () => {
    // A 24-hour market (the simulated source's SIM exchange never closes): every minute trades.
    const engine = new TradingEngine(bound, { variant: 'bench', windowMinutes: 15 });
    const next = walk(7);
    let prev = 3600;
    fills = 0;
    for (let i = 0; i < BARS; i++) {
      const close = next();
      bar.time = START + i * 60;
      bar.open = prev;
      bar.high = Math.max(prev, close) + 0.5;
      bar.low = Math.min(prev, close) - 0.5;
      bar.close = close;
      prev = close;
      fills += engine.onMinuteBar('bench.SIM', bar, 'live').fills.length;
    }
  });
  let sink = 0;
  const macdSeconds = bestOf(2, () => {
    const macd = new MACD(new EMA(12), new EMA(26), new EMA(9));
    const next = walk(7);
    for (let i = 0; i < BARS; i++) {
      const r = macd.update(next(), false);
      if (r !== null) sink += r.histogram;
    }
  });

  // Allocation: runs of bars that close no window.
  const engine = new TradingEngine(bound, { variant: 'alloc', windowMinutes: 60 });
  const next = walk(11);
  let grew = 0;
  let grewBytes = 0;
  let runs = 0;
  let minute = 0;
  const feed = (): void => {
    const close = next();
    bar.time = START + minute * 60;
    bar.open = close;
    bar.high = close + 0.5;
    bar.low = close - 0.5;
    bar.close = close;
    minute++;
    engine.onMinuteBar('alloc.SIM', bar, 'live');
  };
  // What two reads with nothing between allocate (the answer object of the first read).
  let overhead = Number.POSITIVE_INFINITY;
  for (let k = 0; k < 100; k++) {
    const a = process.memoryUsage().heapUsed;
    const b = process.memoryUsage().heapUsed;
    if (b >= a) overhead = Math.min(overhead, b - a);
  }
  for (let hour = 0; hour < 2_000; hour++) {
    feed(); // minute 0: opens the window
    const before = process.memoryUsage().heapUsed;
    for (let m = 1; m <= 58; m++) feed();
    const after = process.memoryUsage().heapUsed - overhead;
    feed(); // minute 59 closes the window (allocates its analysis)
    if (hour < 200) continue; // indicators and broker warmed up first
    runs++;
    if (after > before) {
      grew++;
      grewBytes += after - before;
    }
  }

  return [
    {
      name: 'TradingEngine MACD-TD + gate + broker, 15m windows',
      value: BARS / engineSeconds / 1e6,
      unit: 'M bars/s',
      peer: { name: 'trading-signals MACD alone, same closes', value: BARS / macdSeconds / 1e6 },
      note: `${BARS.toLocaleString('en-US')} one-minute bars, one instrument, one core, best of 2; ${String(fills)} fills (sink ${sink.toFixed(0)})`,
    },
    {
      name: 'runs of 58 non-closing bars that grew the heap',
      value: grew,
      unit: `of ${String(runs)} runs`,
      note: `heapUsed grew by ${String(grewBytes)} bytes in all (process.memoryUsage().heapUsed before/after each run, no GC between, less the ${String(overhead)} bytes two bare reads differ by)`,
    },
  ];
}
