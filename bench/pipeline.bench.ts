/**
 * The full path a worker runs per 1-minute bar: window synthesis (N = 15) and every signal,
 * over 10 million generated bars. The peer is trading-signals computing MACD alone on the same
 * 10 million closes (one close per update), i.e. far less work than the pipeline does.
 */
import { MACD, EMA } from 'trading-signals';
import { AnalysisPipeline } from '../src/core/analysisPipeline.js';
import type { WindowAnalysis } from '../src/core/signalEngine.js';
import { generateBarColumns } from './barColumns.js';
import { bestOf, type BenchFigure } from './figure.js';

const BARS = 10_000_000;

export async function run(): Promise<BenchFigure[]> {
  const cols = generateBarColumns(BARS);
  const { time, open, high, low, close, volume, turnover, openInterest } = cols;

  let windows = 0;
  const fastPath = bestOf(3, () => {
    const p = new AnalysisPipeline({ windowMinutes: 15 });
    for (let i = 0; i < BARS; i++) {
      p.pushMinuteValues(time[i] as number, open[i] as number, high[i] as number, low[i] as number, close[i] as number, volume[i] as number, turnover[i] as number, openInterest[i] as number);
    }
    windows = p.windowBarCount;
  });

  let marks = 0;
  const withAnalyses = bestOf(3, () => {
    marks = 0;
    const p = new AnalysisPipeline({
      windowMinutes: 15,
      onWindow: (a: WindowAnalysis) => {
        marks += a.marks.length;
      },
    });
    for (let i = 0; i < BARS; i++) {
      p.pushMinuteValues(time[i] as number, open[i] as number, high[i] as number, low[i] as number, close[i] as number, volume[i] as number, turnover[i] as number, openInterest[i] as number);
    }
  });

  let sink = 0;
  const peer = bestOf(2, () => {
    const macd = new MACD(new EMA(12), new EMA(26), new EMA(9));
    for (let i = 0; i < BARS; i++) {
      const r = macd.update(close[i] as number, false);
      if (r !== null) sink += r.histogram;
    }
  });
  if (!Number.isFinite(sink)) throw new Error('peer produced a non-finite MACD');

  const peerFigure = { name: 'trading-signals 8 MACD only, 1 close/update', value: BARS / peer / 1e6 };
  return [
    {
      name: 'pipeline N=15, all signals, no analysis objects',
      value: BARS / fastPath / 1e6,
      unit: 'M 1m bars/s',
      peer: peerFigure,
      note: `${BARS.toLocaleString('en-US')} generated 1m bars → ${windows.toLocaleString('en-US')} window bars; best of 3: ${fastPath.toFixed(3)} s (peer ${peer.toFixed(3)} s)`,
    },
    {
      name: 'pipeline N=15, all signals, WindowAnalysis per window',
      value: BARS / withAnalyses / 1e6,
      unit: 'M 1m bars/s',
      peer: peerFigure,
      note: `onWindow receives every closed window's analysis (${marks.toLocaleString('en-US')} TD marks); best of 3: ${withAnalyses.toFixed(3)} s`,
    },
  ];
}
