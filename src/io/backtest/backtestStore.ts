/**
 * Backtest results in `<data>/kestrel.db`: one `backtests` row per job (the job, its status,
 * statistics, month table, display equity, duration, bars/s, the Kestrel version), its trades in
 * `backtest_trades`, and the whole equity curve in `backtest_equity` (for export). The job runner
 * writes; the workstation reads; WAL lets both at once.
 */
import type Database from 'better-sqlite3';
import type { BacktestRun } from '../../core/backtest/runBacktest.js';
import { thinEquity } from '../../core/backtest/thinEquity.js';
import type { SweepPoint } from '../../core/backtest/sweep.js';
import type { BacktestEquityPoint, BacktestJob, SweepConfig, BacktestResultView, BacktestStatus, BacktestSummary, BacktestTrade } from '../../shared/backtest.js';
import { openSqliteDatabase } from '../sqliteDatabase.js';

const DDL = [
  `CREATE TABLE IF NOT EXISTS backtests (
     id TEXT PRIMARY KEY, sweep_id TEXT, name TEXT NOT NULL, status TEXT NOT NULL, job TEXT NOT NULL,
     created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT,
     bars_done INTEGER NOT NULL DEFAULT 0, bars_total INTEGER NOT NULL DEFAULT 0,
     duration_ms REAL, bars_per_second REAL, statistics TEXT, months TEXT, equity_display TEXT,
     kestrel_version TEXT NOT NULL, error TEXT, sweep_point TEXT)`,
  `CREATE INDEX IF NOT EXISTS backtests_created ON backtests (created_at)`,
  `CREATE INDEX IF NOT EXISTS backtests_sweep ON backtests (sweep_id)`,
  `CREATE TABLE IF NOT EXISTS backtest_trades (
     backtest_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, vt_symbol TEXT NOT NULL,
     side TEXT NOT NULL, "offset" TEXT NOT NULL, price REAL NOT NULL, volume REAL NOT NULL,
     time REAL NOT NULL, commission REAL NOT NULL, pnl REAL, PRIMARY KEY (backtest_id, seq))`,
  `CREATE TABLE IF NOT EXISTS backtest_equity (backtest_id TEXT PRIMARY KEY, points TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS backtest_sweeps (id TEXT PRIMARY KEY, name TEXT NOT NULL, config TEXT NOT NULL, created_at TEXT NOT NULL)`,
];

export interface SweepRecord {
  id: string;
  name: string;
  config: SweepConfig;
  createdAt: string;
}

interface BacktestRow {
  id: string;
  sweep_id: string | null;
  name: string;
  status: BacktestStatus;
  job: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  bars_done: number;
  bars_total: number;
  duration_ms: number | null;
  bars_per_second: number | null;
  statistics: string | null;
  months: string | null;
  equity_display: string | null;
  kestrel_version: string;
  error: string | null;
  sweep_point: string | null;
}


/** A label for lists when the job has none: strategy, window and universe. */
export function defaultJobName(job: BacktestJob): string {
  return job.name ?? `${job.strategy} ${job.windowMinutes}m ${job.symbols.join(',')}`;
}

export class BacktestStore {
  private constructor(private readonly db: Database.Database) {}

  static open(path: string): BacktestStore {
    const db = openSqliteDatabase(path);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    for (const ddl of DDL) db.exec(ddl);
    return new BacktestStore(db);
  }

  close(): void {
    this.db.close();
  }

  create(id: string, job: BacktestJob, opts: { sweepId?: string | null; point?: SweepPoint; createdAt: string; version: string }): void {
    this.db
      .prepare(`INSERT INTO backtests (id, sweep_id, name, status, job, created_at, kestrel_version, sweep_point) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)`)
      .run(id, opts.sweepId ?? null, defaultJobName(job), JSON.stringify(job), opts.createdAt, opts.version, opts.point ? JSON.stringify(opts.point) : null);
  }

  createSweep(sweep: SweepRecord): void {
    this.db.prepare(`INSERT INTO backtest_sweeps (id, name, config, created_at) VALUES (?, ?, ?, ?)`).run(sweep.id, sweep.name, JSON.stringify(sweep.config), sweep.createdAt);
  }

  sweep(id: string): SweepRecord | null {
    const row = this.db.prepare<[string], { id: string; name: string; config: string; created_at: string }>(`SELECT * FROM backtest_sweeps WHERE id = ?`).get(id);
    return row ? { id: row.id, name: row.name, config: JSON.parse(row.config) as SweepConfig, createdAt: row.created_at } : null;
  }

  /** Each run of a sweep with the point it ran. */
  sweepRuns(sweepId: string): { summary: BacktestSummary; point: SweepPoint }[] {
    return this.db
      .prepare<[string], BacktestRow>(`SELECT * FROM backtests WHERE sweep_id = ? ORDER BY rowid`)
      .all(sweepId)
      .map((row) => ({ summary: summaryOf(row), point: row.sweep_point ? (JSON.parse(row.sweep_point) as SweepPoint) : {} }));
  }

  setStatus(id: string, status: BacktestStatus, at?: { startedAt?: string; error?: string }): void {
    this.db
      .prepare(`UPDATE backtests SET status = ?, started_at = COALESCE(?, started_at), error = COALESCE(?, error) WHERE id = ?`)
      .run(status, at?.startedAt ?? null, at?.error ?? null, id);
  }

  recordProgress(id: string, barsDone: number, barsTotal: number): void {
    this.db.prepare(`UPDATE backtests SET bars_done = ?, bars_total = ? WHERE id = ?`).run(barsDone, barsTotal, id);
  }

  /** The outcome of a run, in one transaction: statistics, trades, both equity curves. */
  finish(id: string, run: BacktestRun, opts: { finishedAt: string; durationMs: number; version: string }): void {
    const barsPerSecond = opts.durationMs > 0 ? (run.barsDone * 1000) / opts.durationMs : null;
    const insertTrade = this.db.prepare(
      `INSERT INTO backtest_trades (backtest_id, seq, id, vt_symbol, side, "offset", price, volume, time, commission, pnl) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM backtest_trades WHERE backtest_id = ?`).run(id);
      run.trades.forEach((t, seq) => insertTrade.run(id, seq, t.id, t.vtSymbol, t.side, t.offset, t.price, t.volume, t.time, t.commission, t.pnl));
      this.db.prepare(`INSERT OR REPLACE INTO backtest_equity (backtest_id, points) VALUES (?, ?)`).run(id, JSON.stringify(run.equity));
      this.db
        .prepare(
          `UPDATE backtests SET status = ?, finished_at = ?, bars_done = ?, bars_total = ?, duration_ms = ?, bars_per_second = ?,
             statistics = ?, months = ?, equity_display = ?, kestrel_version = ?, error = NULL WHERE id = ?`,
        )
        .run(
          run.status,
          opts.finishedAt,
          run.barsDone,
          run.barsTotal,
          opts.durationMs,
          barsPerSecond,
          JSON.stringify(run.statistics),
          JSON.stringify(run.months),
          JSON.stringify(thinEquity(run.equity)),
          opts.version,
          id,
        );
    })();
  }

  fail(id: string, status: 'failed' | 'cancelled', error: string | null, finishedAt: string): void {
    this.db.prepare(`UPDATE backtests SET status = ?, error = ?, finished_at = ? WHERE id = ?`).run(status, error, finishedAt, id);
  }

  /** After a restart: whatever was queued, running or paused was lost with the old process. */
  markInterrupted(finishedAt: string): number {
    return this.db
      .prepare(`UPDATE backtests SET status = 'interrupted', finished_at = ? WHERE status IN ('queued', 'running', 'paused')`)
      .run(finishedAt).changes;
  }

  /** Jobs per status, every row counted (the metrics' kestrel_backtest_jobs). */
  countByStatus(): Partial<Record<BacktestStatus, number>> {
    const rows = this.db.prepare<[], { status: BacktestStatus; n: number }>(`SELECT status, COUNT(*) AS n FROM backtests GROUP BY status`).all();
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  /** Newest first. */
  list(limit = 500): BacktestSummary[] {
    return this.db.prepare<[number], BacktestRow>(`SELECT * FROM backtests ORDER BY rowid DESC LIMIT ?`).all(limit).map(summaryOf);
  }

  summary(id: string): BacktestSummary | null {
    const row = this.db.prepare<[string], BacktestRow>(`SELECT * FROM backtests WHERE id = ?`).get(id);
    return row ? summaryOf(row) : null;
  }

  result(id: string): BacktestResultView | null {
    const row = this.db.prepare<[string], BacktestRow>(`SELECT * FROM backtests WHERE id = ?`).get(id);
    if (!row) return null;
    return {
      ...summaryOf(row),
      trades: this.trades(id),
      equity: row.equity_display ? (JSON.parse(row.equity_display) as BacktestEquityPoint[]) : [],
      months: row.months ? (JSON.parse(row.months) as BacktestResultView['months']) : [],
    };
  }

  trades(id: string): BacktestTrade[] {
    // Columns named as the record's fields: each row is a BacktestTrade as it comes.
    return this.db
      .prepare<[string], BacktestTrade>(
        `SELECT id, vt_symbol AS vtSymbol, side, "offset", price, volume, time, commission, pnl FROM backtest_trades WHERE backtest_id = ? ORDER BY seq`,
      )
      .all(id);
  }

  /** The whole equity curve (export). */
  equity(id: string): BacktestEquityPoint[] {
    const row = this.db.prepare<[string], { points: string }>(`SELECT points FROM backtest_equity WHERE backtest_id = ?`).get(id);
    return row ? (JSON.parse(row.points) as BacktestEquityPoint[]) : [];
  }
}

function summaryOf(row: BacktestRow): BacktestSummary {
  return {
    id: row.id,
    name: row.name,
    sweepId: row.sweep_id,
    status: row.status,
    job: JSON.parse(row.job) as BacktestJob,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    barsDone: row.bars_done,
    barsTotal: row.bars_total,
    durationMs: row.duration_ms,
    barsPerSecond: row.bars_per_second,
    statistics: row.statistics ? (JSON.parse(row.statistics) as BacktestSummary['statistics']) : null,
    kestrelVersion: row.kestrel_version,
    error: row.error,
  };
}
