/**
 * The seam's hot path (issue 8): 10 M one-minute bars of one instrument through the
 * TradingEngine (15-minute windows → MACD-TD → RiskGate → PaperBroker, brackets resting), beside
 * trading-signals' MACD alone updated with the same 10 M closes, and beside the analysis pipeline
 * alone (window synthesis + every signal + an analysis object per window) on the same bars: the
 * engine's share of the work. The closes are a seeded random walk computed before timing, fed
 * through one reused bar object, so the figure is the engine's, not the harness's.
 *
 * Rates are wall-clock (best of 2) and, in the note, per CPU second of this process
 * (process.cpuUsage): on a shared machine the second is the steadier of the two.
 *
 * Allocation: 60-minute windows, so minutes 1–58 of each hour close no window. V8's used heap
 * (v8.getHeapStatistics) is read right before and after each run of those 58 bars, with no GC
 * between (a path that allocates nothing never fills the young generation, so none runs). Printed:
 * how many runs grew the heap and the bytes per non-closing bar. test/core/strategy/
 * engineAllocation.test.ts asserts the same on the live and the columnar paths.
 */
import { getHeapStatistics } from 'node:v8';
import { EMA, MACD } from 'trading-signals';
import { AnalysisPipeline } from '../src/core/analysisPipeline.js';
import type { WindowAnalysis } from '../src/core/signalEngine.js';
import { TradingEngine } from '../src/core/strategy/engine.js';
import { strategyFor } from '../src/core/strategy/registry.js';
import type { OhlcvBar } from '../src/shared/bar.js';
import { parseDatetime } from '../src/shared/time.js';
import { bestOfTimed, type BenchFigure } from './figure.js';

const BARS = 10_000_000;
const START = parseDatetime('2020-01-06 00:00:00') ?? 0;

/** A seeded random walk; the same seed gives the same closes to the engine and to the peers. */
function walk(count: number, seed: number): Float64Array {
  const out = new Float64Array(count);
  let s = seed >>> 0;
  let price = 3600;
  for (let i = 0; i < count; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    price += (s / 4294967296 - 0.5) * 4;
    out[i] = price;
  }
  return out;
}

export async function run(): Promise<BenchFigure[]> {
  const bound = strategyFor('macd-td', { stopLoss: { unit: 'ticks', value: 30 }, takeProfit: { unit: 'ticks', value: 60 }, maxDailyOpenPerProduct: 1000, maxDailyOpenGlobal: 1000 }, 'bench');
  const closes = walk(BARS, 7);
  const bar: OhlcvBar = { time: 0.5, open: 0.5, high: 0.5, low: 0.5, close: 0.5, volume: 10.5, turnover: 0.5, openInterest: 0.5 };
  let fills = 0;
  const engineTime = bestOfTimed(2, () => {
    // A 24-hour market (the simulated source's SIM exchange never closes): every minute trades.
    const engine = new TradingEngine(bound, { variant: 'bench', windowMinutes: 15 });
    let prev = 3600;
    fills = 0;
    for (let i = 0; i < BARS; i++) {
      const close = closes[i] as number;
      bar.time = START + i * 60;
      bar.open = prev;
      bar.high = (prev > close ? prev : close) + 0.5;
      bar.low = (prev < close ? prev : close) - 0.5;
      bar.close = close;
      prev = close;
      fills += engine.onMinuteBar('bench.SIM', bar, 'live').fills.length;
    }
  });
  let marks = 0;
  const pipelineTime = bestOfTimed(2, () => {
    const pipeline = new AnalysisPipeline({ windowMinutes: 15, onWindow: (a: WindowAnalysis) => (marks += a.marks.length) });
    let prev = 3600;
    for (let i = 0; i < BARS; i++) {
      const close = closes[i] as number;
      bar.time = START + i * 60;
      bar.open = prev;
      bar.high = (prev > close ? prev : close) + 0.5;
      bar.low = (prev < close ? prev : close) - 0.5;
      bar.close = close;
      prev = close;
      pipeline.pushMinute(bar);
    }
  });
  let sink = 0;
  const macdTime = bestOfTimed(2, () => {
    const macd = new MACD(new EMA(12), new EMA(26), new EMA(9));
    for (let i = 0; i < BARS; i++) {
      const r = macd.update(closes[i] as number, false);
      if (r !== null) sink += r.histogram;
    }
  });

  // Allocation: runs of bars that close no window.
  const hours = 20_000;
  const allocCloses = walk((hours + 1) * 60, 11);
  const engine = new TradingEngine(bound, { variant: 'alloc', windowMinutes: 60 });
  let minute = 0;
  const feed = (first: number, last: number): void => {
    for (let m = first; m <= last; m++) {
      const i = minute + m;
      const close = allocCloses[i] as number;
      bar.time = START + i * 60;
      bar.open = close;
      bar.high = close + 0.5;
      bar.low = close - 0.5;
      bar.close = close;
      engine.onMinuteBar('alloc.SIM', bar, 'live');
    }
  };
  // What two reads with nothing between allocate (the answer object of the first read).
  let overhead = Number.POSITIVE_INFINITY;
  for (let k = 0; k < 200; k++) {
    const a = getHeapStatistics().used_heap_size;
    const b = getHeapStatistics().used_heap_size;
    if (b >= a) overhead = Math.min(overhead, b - a);
  }
  let grew = 0;
  let grewBytes = 0;
  let runs = 0;
  let busy = 0;
  for (let hour = 0; hour < hours; hour++, minute += 60) {
    feed(0, 0); // minute 0 opens the window
    const resting = engine.pendingOrders().length > 0;
    const before = getHeapStatistics().used_heap_size;
    feed(1, 58);
    const after = getHeapStatistics().used_heap_size - overhead;
    feed(59, 59); // minute 59 closes the window (allocates its analysis)
    if (hour < 200) continue; // indicators and broker warmed up first
    runs++;
    if (resting) busy++;
    if (after > before) {
      grew++;
      grewBytes += after - before;
    }
  }

  const rate = (s: number): number => BARS / s / 1e6;
  return [
    {
      name: 'TradingEngine MACD-TD + gate + broker, 15m windows',
      value: rate(engineTime.wall),
      unit: 'M bars/s',
      peer: { name: 'trading-signals MACD alone, same closes', value: rate(macdTime.wall) },
      note:
        `${BARS.toLocaleString('en-US')} one-minute bars, one instrument, one core, best of 2; ${String(fills)} fills (sink ${sink.toFixed(0)}). ` +
        `Per CPU second: engine ${rate(engineTime.cpu).toFixed(2)} M/s, MACD alone ${rate(macdTime.cpu).toFixed(2)} M/s, ` +
        `pipeline alone (synthesis + signals + analyses, ${String(marks)} marks) ${rate(pipelineTime.cpu).toFixed(2)} M/s; target ≥ 10 M bars/s`,
    },
    {
      name: 'pipeline alone, same bars (the engine\'s floor)',
      value: rate(pipelineTime.wall),
      unit: 'M bars/s',
      peer: { name: 'TradingEngine, same run', value: rate(engineTime.wall) },
    },
    {
      name: 'runs of 58 non-closing bars that grew the heap',
      value: grew,
      unit: `of ${String(runs)} runs`,
      note:
        `${(grewBytes / (runs * 58)).toFixed(2)} bytes per non-closing bar in all (v8 used_heap_size before/after each run, no GC between, ` +
        `less the ${String(overhead)} bytes two bare reads differ by); orders rested in ${String(busy)} runs; one boxed number per bar would be ≥ 12 bytes per bar`,
    },
  ];
}
