/**
 * Backtests (issue 10), on KESTREL_BENCH_BARS (default 10 M) generated 1-minute bars:
 *  - the Arrow cache read (file → SharedArrayBuffer → float64 column views), beside SQLite's
 *    read of the same rows (SqliteBarStore.loadRangeSync) in the same run;
 *  - MACD-TD on 15-minute windows end to end from the cache (runBacktest: cache read, k-way merge,
 *    strategy, paper broker, statistics), one core;
 *  - a 16-job sweep through the job runner's thread pool on every core, beside 16 × the one-core
 *    figure (KESTREL_BENCH_SWEEP_BARS bars per job, default 1 M, so it finishes on a busy machine).
 * Published peers, for scale (their own hardware, their own strategies; not measured here):
 *  backtrader ≈ 15 k bars/s, vnpy CtaBacktester ≈ 6 k bars/s, LEAN ≈ 0.65 M data points/s,
 *  NautilusTrader ≈ 3 M data points/s — sources in ARCHITECTURE.md "Backtests".
 */
import { availableParallelism } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBacktest } from '../src/core/backtest/runBacktest.js';
import { BAR_COLUMNS, storedBarAt } from '../src/core/backtest/columnarBars.js';
import { columnsOf, ensureBarCache, readSharedBars, writeBarColumns } from '../src/io/backtest/barCache.js';
import { SqliteBarStore } from '../src/io/sqliteBarStore.js';
import { backtestJobSchema } from '../src/shared/backtest.js';
import type { StoredBar } from '../src/shared/bar.js';
import { formatDatetime } from '../src/shared/time.js';
import { JobPool } from '../src/io/backtest/jobPool.js';
import { generateBarColumns, type BarColumns } from './barColumns.js';
import { bestOf, bestOfTimed, type BenchFigure } from './figure.js';

const BARS = Number(process.env.KESTREL_BENCH_BARS ?? 10_000_000);
const SWEEP_BARS = Number(process.env.KESTREL_BENCH_SWEEP_BARS ?? 1_000_000);
/** The end-to-end figure's bars: its cache file is written straight from generated columns (no SQLite to fill). */
const E2E_BARS = Number(process.env.KESTREL_BENCH_E2E_BARS ?? 10_000_000);
const PEERS = 'published: backtrader ≈ 15,000 bars/s, vnpy CtaBacktester ≈ 6,000 bars/s, LEAN ≈ 650,000 data points/s, NautilusTrader ≈ 3,000,000 data points/s';

/**
 * Fills the store fast: one raw INSERT transaction for all but the last rows (writeSync recounts the
 * overview after every batch, which would dominate at 10 M rows), then writeSync for the last batch
 * so that dbbaroverview comes out right.
 */
function writeStore(store: SqliteBarStore, symbol: string, cols: BarColumns): void {
  const insert = store.db.prepare(
    `INSERT INTO "dbbardata" ("symbol", "exchange", "datetime", "interval", "volume", "turnover", "open_interest", "open_price", "high_price", "low_price", "close_price") VALUES (?, 'SHFE', ?, '1m', ?, ?, ?, ?, ?, ?, ?)`,
  );
  const tail = Math.max(0, cols.length - 1000);
  store.db.transaction(() => {
    for (let i = 0; i < tail; i++) {
      insert.run(symbol, formatDatetime(cols.time[i] as number), cols.volume[i], cols.turnover[i], cols.openInterest[i], cols.open[i], cols.high[i], cols.low[i], cols.close[i]);
    }
  })();
  const last: StoredBar[] = [];
  for (let i = tail; i < cols.length; i++) last.push(storedBarAt(cols, i, symbol, 'SHFE'));
  store.writeSync(last);
}

function jobOver(symbol: string, cols: BarColumns): ReturnType<typeof backtestJobSchema.parse> {
  return backtestJobSchema.parse({
    strategy: 'macd-td',
    params: { stopLoss: { unit: 'ticks', value: 12 }, takeProfit: { unit: 'percent', value: 0.8 } },
    symbols: [`${symbol}.SHFE`],
    from: formatDatetime(cols.time[0] as number),
    to: formatDatetime(cols.time[cols.length - 1] as number),
    windowMinutes: 15,
  });
}

export async function run(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-bench-bt-'));
  const figures: BenchFigure[] = [];
  try {
    const cols = generateBarColumns(BARS);
    const store = SqliteBarStore.open(join(dir, 'kestrel.db'));
    writeStore(store, 'rb8888', cols);
    const t0 = process.hrtime.bigint();
    const { file } = await ensureBarCache(store, join(dir, 'cache'), 'rb8888.SHFE');
    const buildSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

    let sum = 0;
    const arrowRead = bestOf(3, () => {
      const bars = columnsOf(readSharedBars(file, 'rb8888.SHFE'));
      sum = bars.close[bars.length - 1] as number;
    });
    let rows = 0;
    const sqliteRead = bestOf(1, () => {
      rows = 0;
      for (const chunk of store.loadRangeSync({ symbol: 'rb8888', exchange: 'SHFE', interval: '1m' }, { chunkSize: 50_000 })) rows += chunk.length;
    });
    if (rows !== BARS || sum !== cols.close[BARS - 1]) throw new Error('the cache and the store disagree');
    // The bound on any read that copies: the file's bytes from the page cache into a Buffer, nothing else.
    let bytes = 0;
    const rawRead = bestOf(3, () => {
      bytes = readFileSync(file).length;
    });
    figures.push({
      name: 'Arrow cache read → float64 columns',
      value: BARS / arrowRead,
      unit: 'bars/s',
      peer: { name: 'SqliteBarStore.loadRangeSync, same rows', value: BARS / sqliteRead },
      note:
        `${BARS.toLocaleString('en-US')} bars, ${BAR_COLUMNS.length} columns (${Math.round(bytes / BARS)} bytes a bar); best of 3 (SQLite: 1); cache built from SQLite in ${buildSeconds.toFixed(1)} s; ` +
        `target ≥ 100 M bars/s. The file's bytes alone (readFileSync, same run): ${Math.round(BARS / rawRead).toLocaleString('en-US')} bars/s`,
    });
    store.closeSync();


    // End to end on E2E_BARS: read the cache file, run MACD-TD through the engine, statistics.
    const e2eCols = E2E_BARS === BARS ? cols : generateBarColumns(E2E_BARS);
    const e2eFile = join(dir, 'cache', 'ni8888.SHFE.1m.arrow');
    writeBarColumns(e2eFile, { vtSymbol: 'ni8888.SHFE', ...e2eCols });
    const job = jobOver('ni8888', e2eCols);
    let trades = 0;
    const e2e = bestOfTimed(1, () => {
      const r = runBacktest(job, [columnsOf(readSharedBars(e2eFile, 'ni8888.SHFE'))]);
      trades = r.trades.length;
    });
    const loaded = columnsOf(readSharedBars(e2eFile, 'ni8888.SHFE'));
    const engineOnly = bestOfTimed(1, () => {
      runBacktest(job, [loaded]);
    });
    figures.push({
      name: 'MACD-TD 15m end to end from the cache, 1 core',
      value: E2E_BARS / e2e.wall,
      unit: 'bars/s',
      peer: { name: 'the same run on columns already read', value: E2E_BARS / engineOnly.wall },
      note:
        `${E2E_BARS.toLocaleString('en-US')} bars, ${trades} fills, statistics included; per CPU second ${Math.round(E2E_BARS / e2e.cpu).toLocaleString('en-US')} bars/s ` +
        `(columns already read: ${Math.round(E2E_BARS / engineOnly.cpu).toLocaleString('en-US')}); target ≥ 10 M bars/s. ${PEERS}`,
    });

    // The sweep: 16 jobs over the first SWEEP_BARS bars, one-core time vs the pool on every core.
    const sweepCols = generateBarColumns(SWEEP_BARS, 7);
    const sweepStore = SqliteBarStore.open(join(dir, 'sweep.db'));
    writeStore(sweepStore, 'hc8888', sweepCols);
    const cacheDir = join(dir, 'cache');
    await ensureBarCache(sweepStore, cacheDir, 'hc8888.SHFE');
    const sweepJob = jobOver('hc8888', sweepCols);
    const oneCore = bestOfTimed(1, () => {
      runBacktest(sweepJob, [columnsOf(readSharedBars(join(cacheDir, 'hc8888.SHFE.1m.arrow'), 'hc8888.SHFE'))]);
    });
    const cores = availableParallelism();
    const pool = new JobPool({ threads: cores, loadBars: async (vt) => readSharedBars(join(cacheDir, `${vt}.1m.arrow`), vt) });
    const c0 = process.cpuUsage();
    const s0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: 16 }, (_, i) => pool.submit(`sweep-${i}`, { ...sweepJob, params: { ...sweepJob.params, nineWithinBars: 1 + (i % 4) } })));
    const sweepSeconds = Number(process.hrtime.bigint() - s0) / 1e9;
    const sweepCpu = process.cpuUsage(c0);
    const sweepCpuSeconds = (sweepCpu.user + sweepCpu.system) / 1e6;
    await pool.close();
    sweepStore.closeSync();
    const perCore = SWEEP_BARS / oneCore.wall;
    figures.push({
      name: `16-job sweep on ${cores} threads`,
      value: (16 * SWEEP_BARS) / sweepSeconds,
      unit: 'bars/s',
      peer: { name: `0.9 × ${cores} cores × one-core figure`, value: 0.9 * cores * perCore },
      note:
        `one core: ${Math.round(perCore).toLocaleString('en-US')} bars/s; ${SWEEP_BARS.toLocaleString('en-US')} bars per job, bars shared through one SharedArrayBuffer. ` +
        `Per CPU second (all threads, the process's cpuUsage): sweep ${Math.round((16 * SWEEP_BARS) / sweepCpuSeconds).toLocaleString('en-US')} bars/s, ` +
        `one core ${Math.round(SWEEP_BARS / oneCore.cpu).toLocaleString('en-US')} bars/s — their ratio is the pool's own efficiency, whatever else the machine runs`,
    });
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
