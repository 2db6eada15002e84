/**
 * MACD(12, 26, 9) alone: Kestrel's incremental Macd against trading-signals' incremental MACD
 * (one close per update) and TA-Lib's batch MACD (native C, all closes in one call, its
 * output arrays built as JS arrays) on the same generated closes.
 */
import { createRequire } from 'node:module';
import { EMA, MACD } from 'trading-signals';
import { Macd } from '../src/core/indicators/macd.js';
import { generateBarColumns } from './barColumns.js';
import { bestOf, type BenchFigure } from './figure.js';

const CLOSES = 2_000_000;

interface Talib {
  execute(args: Record<string, unknown>): { nbElement: number; result: { outMACDHist: number[] } };
}

export async function run(): Promise<BenchFigure[]> {
  const { close } = generateBarColumns(CLOSES);
  let sink = 0;

  const ours = bestOf(5, () => {
    const macd = new Macd(12, 26, 9);
    for (let i = 0; i < CLOSES; i++) {
      macd.update(close[i] as number);
      sink += macd.macd;
    }
  });

  const tradingSignals = bestOf(3, () => {
    const macd = new MACD(new EMA(12), new EMA(26), new EMA(9));
    for (let i = 0; i < CLOSES; i++) {
      const r = macd.update(close[i] as number, false);
      if (r !== null) sink += r.histogram;
    }
  });

  const figures: BenchFigure[] = [];
  const oursPerSecond = CLOSES / ours / 1e6;
  figures.push({
    name: 'Macd (incremental) vs trading-signals 8 MACD',
    value: oursPerSecond,
    unit: 'M closes/s',
    peer: { name: 'trading-signals MACD update(x, false)', value: CLOSES / tradingSignals / 1e6 },
    note: `${CLOSES.toLocaleString('en-US')} generated closes, best of 5 / 3`,
  });

  let talib: Talib | null = null;
  let talibError = '';
  try {
    talib = createRequire(import.meta.url)('talib') as Talib;
  } catch (err) {
    talibError = String(err);
  }
  if (talib !== null) {
    const lib = talib;
    const closes = Array.from(close);
    const batch = bestOf(3, () => {
      const r = lib.execute({ name: 'MACD', startIdx: 0, endIdx: CLOSES - 1, inReal: closes, optInFastPeriod: 12, optInSlowPeriod: 26, optInSignalPeriod: 9 });
      sink += r.result.outMACDHist[r.nbElement - 1] ?? 0;
    });
    figures.push({
      name: 'Macd (incremental) vs TA-Lib 1.1.6 MACD (batch)',
      value: oursPerSecond,
      unit: 'M closes/s',
      peer: { name: 'talib MACD, one execute() over all closes', value: CLOSES / batch / 1e6 },
      note: 'TA-Lib computes in C in one call; most of its time is the binding copying 2 M inputs in and building three 2 M-element JS arrays out (a call asking only for the last value took ~0.16 s here)',
    });
  } else {
    figures.push({ name: 'TA-Lib MACD (batch)', value: Number.NaN, unit: 'M closes/s', note: `talib native module did not load: ${talibError}` });
  }
  if (!Number.isFinite(sink)) throw new Error('a MACD produced a non-finite value');
  return figures;
}
