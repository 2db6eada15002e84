/**
 * Store → AnalysisPipeline → one row per window bar: what `kestrel analyze` prints and what the
 * main process's history view shows. It runs the very same core pipeline as live trading and
 * restore, fed by 1-minute bars streamed from the bar store in chunks.
 *
 * Warm-up: with `from`, the indicators first run over the `warmupWindowBars` × N one-minute
 * bars just before `from` (default 600 window bars' worth), which are not printed. Each window
 * bar holds at most N minutes, so that history yields at least that many window bars
 * (more where minutes are missing). After 600 window bars the EMAs' seed weighs less than
 * (1 − 2/61)^600 ≈ 3e-9 in the slowest one (EMA 60), so the values equal those of a run over
 * the whole history to about 1e-8 of the price; TD, dullness and divergence look back at most
 * M + R = 55 bars, except a TD countdown, which may have started earlier. `warmupWindowBars:
 * 'all'` replays the whole history before `from` instead.
 */
import { AnalysisPipeline } from '../core/analysisPipeline.js';
import type { WindowAnalysis } from '../core/signalEngine.js';
import type { SignalParams } from '../shared/signalParams.js';
import type { OhlcvBar } from '../shared/bar.js';
import type { TdMark } from '../shared/snapshot.js';
import { formatDatetime } from '../shared/time.js';
import type { BarKey, BarStore } from './barStore.js';

export const DEFAULT_WARMUP_WINDOW_BARS = 600;

export interface AnalyzeOptions {
  windowMinutes: number;
  /** Inclusive bounds on the window bars' start times (local-as-UTC seconds). */
  from?: number;
  to?: number;
  /** Window bars' worth of history replayed before `from`; default 600; 'all' = everything. */
  warmupWindowBars?: number | 'all';
  params?: Partial<SignalParams>;
  /** 1-minute bars per chunk read from the store. */
  chunkSize?: number;
}

export type TdSideName = 'buy' | 'sell';

export interface AnalysisRow {
  /** Window start, exchange-local 'YYYY-MM-DD HH:MM:SS'. */
  datetime: string;
  time: number;
  /** false only for a last window whose minutes have not all arrived (shown, never traded on). */
  closed: boolean;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  turnover: number;
  openInterest: number;
  dif: number;
  dea: number;
  macd: number;
  emaFast: number;
  emaSlow: number;
  emaState: 'bull' | 'bear' | 'neutral';
  tdSetup: { side: TdSideName | null; count: number };
  tdCountdown: { side: TdSideName | null; count: number };
  marks: TdMark[];
  bottomDullness: 'none' | 'dull' | 'structure';
  topDullness: 'none' | 'dull' | 'structure';
  bottomDivergence: boolean;
  topDivergence: boolean;
}

export function analysisRowOf(a: WindowAnalysis, closed: boolean): AnalysisRow {
  const b: OhlcvBar = a.bar;
  return {
    datetime: formatDatetime(b.time),
    time: b.time,
    closed,
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume,
    turnover: b.turnover,
    openInterest: b.openInterest,
    dif: a.dif,
    dea: a.dea,
    macd: a.macd,
    emaFast: a.emaFast,
    emaSlow: a.emaSlow,
    emaState: a.emaState,
    tdSetup: { side: a.tdSetup.side, count: a.tdSetup.count },
    tdCountdown: { side: a.tdCountdown.side, count: a.tdCountdown.count },
    marks: a.marks.map((m) => ({ ...m })),
    bottomDullness: a.bottomDullness,
    topDullness: a.topDullness,
    bottomDivergence: a.bottomDivergence,
    topDivergence: a.topDivergence,
  };
}

/**
 * Streams the analysis of `key`'s 1-minute bars as window-bar rows, oldest first.
 * Rows come out as the chunks are read: nothing holds the whole history.
 */
export async function* analyzeBars(store: BarStore, key: BarKey, opts: AnalyzeOptions): AsyncIterable<AnalysisRow> {
  const n = opts.windowMinutes;
  const span = n * 60;
  const from = opts.from ?? Number.NEGATIVE_INFINITY;
  const to = opts.to ?? Number.POSITIVE_INFINITY;
  const queue: AnalysisRow[] = [];
  const pipeline = new AnalysisPipeline({
    windowMinutes: n,
    ...(opts.params ? { params: opts.params } : {}),
    onWindow: (a) => {
      if (a.bar.time >= from && a.bar.time <= to) queue.push(analysisRowOf(a, true));
    },
  });
  const warmup = opts.warmupWindowBars ?? DEFAULT_WARMUP_WINDOW_BARS;
  if (warmup !== 'all' && (!Number.isInteger(warmup) || warmup < 0)) {
    throw new RangeError(`warm-up must be a whole number of window bars or 'all', got ${String(warmup)}`);
  }

  const range: { from?: number; to?: number; chunkSize?: number } = {};
  if (opts.chunkSize !== undefined) range.chunkSize = opts.chunkSize;
  if (opts.from !== undefined) {
    if (warmup === 'all') {
      range.to = opts.from - 1;
      for await (const chunk of store.loadRange(key, range)) for (const bar of chunk) pipeline.pushMinute(bar);
    } else if (warmup > 0) {
      for (const bar of await store.loadLast(key, warmup * n, { before: opts.from })) pipeline.pushMinute(bar);
    }
    range.from = opts.from;
  }
  // The window starting at `to` ends N minutes later; its minutes belong to it.
  if (opts.to !== undefined) range.to = opts.to + span - 1;
  else delete range.to;
  let lastTime: number | null = null;
  for await (const chunk of store.loadRange(key, range)) {
    for (const bar of chunk) pipeline.pushMinute(bar);
    if (chunk.length > 0) lastTime = (chunk[chunk.length - 1] as OhlcvBar).time;
    if (queue.length > 0) yield* queue.splice(0, queue.length);
  }
  if (opts.to !== undefined) {
    // A window whose last minute is missing closes when a later bar arrives: read one.
    const next = await store.loadAfter(key, lastTime ?? opts.to + span - 1, 1);
    const bar = next[0];
    if (bar !== undefined) pipeline.pushMinute(bar);
  }
  const forming = pipeline.formingAnalysis();
  if (forming !== null && forming.bar.time >= from && forming.bar.time <= to) queue.push(analysisRowOf(forming, false));
  if (queue.length > 0) yield* queue.splice(0, queue.length);
}

/** CSV columns of `kestrel analyze --format csv`. */
export const ANALYSIS_CSV_HEADER = [
  'datetime',
  'closed',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'turnover',
  'open_interest',
  'dif',
  'dea',
  'macd',
  'ema_fast',
  'ema_slow',
  'ema_state',
  'td_setup_side',
  'td_setup_count',
  'td_countdown_side',
  'td_countdown_count',
  'marks',
  'bottom_dullness',
  'top_dullness',
  'bottom_divergence',
  'top_divergence',
].join(',');

/** Marks as `buy9`, `sell13`, space-separated. */
export function marksText(marks: readonly TdMark[]): string {
  return marks.map((m) => `${m.side}${m.kind}`).join(' ');
}

export function analysisCsvLine(r: AnalysisRow): string {
  return [
    r.datetime,
    r.closed,
    r.open,
    r.high,
    r.low,
    r.close,
    r.volume,
    r.turnover,
    r.openInterest,
    r.dif,
    r.dea,
    r.macd,
    r.emaFast,
    r.emaSlow,
    r.emaState,
    r.tdSetup.side ?? '',
    r.tdSetup.count,
    r.tdCountdown.side ?? '',
    r.tdCountdown.count,
    marksText(r.marks),
    r.bottomDullness,
    r.topDullness,
    r.bottomDivergence,
    r.topDivergence,
  ].join(',');
}
