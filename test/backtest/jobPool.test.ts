import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAR_COLUMNS, type BarColumn, type ColumnarBars } from '../../src/core/backtest/columnarBars.js';
import { runBacktest } from '../../src/core/backtest/runBacktest.js';
import { columnsOf, readSharedBars, writeBarColumns } from '../../src/io/backtest/barCache.js';
import { JobPool } from '../../src/io/backtest/jobPool.js';
import type { JobProgress } from '../../src/io/backtest/threadProtocol.js';
import { backtestJobSchema } from '../../src/shared/backtest.js';
import { vtSymbolOf } from '../../src/shared/bar.js';
import { freshDir, waitFor } from '../helpers.js';
import { ACTIVE_MACD_TD, simulatedBars } from './fixtures.js';

const dir = freshDir('jobpool');
let symbols: string[] = [];

beforeAll(() => {
  // 2 × 150,000 minutes: many checkpoints (every 4096 bars). The pause and cancel tests pause a job
  // as it is submitted, so they hold it at its first checkpoint however fast the engine runs (a job
  // of this size takes well under a second now, shorter than a poll of its progress).
  const bars = simulatedBars(150_000);
  symbols = [...new Set(bars.map((b) => vtSymbolOf(b.symbol, b.exchange)))].sort();
  for (const vt of symbols) {
    const mine = bars.filter((b) => vtSymbolOf(b.symbol, b.exchange) === vt);
    const cols = { vtSymbol: vt, length: mine.length } as { vtSymbol: string; length: number } & Record<BarColumn, Float64Array>;
    for (const c of BAR_COLUMNS) cols[c] = Float64Array.from(mine, (b) => b[c]);
    writeBarColumns(join(dir.dir, `${vt}.arrow`), cols as ColumnarBars);
  }
});
afterAll(() => dir.remove());

const jobOf = (priority = 5) =>
  backtestJobSchema.parse({ strategy: 'macd-td', params: ACTIVE_MACD_TD, symbols, from: '2025-01-01', to: '2025-12-31', windowMinutes: 15, priority });

function poolWith(progress: Map<string, JobProgress[]>, started: string[] = [], threads = 2): JobPool {
  return new JobPool({
    threads,
    progressEveryMs: 0,
    loadBars: async (vt) => readSharedBars(join(dir.dir, `${vt}.arrow`), vt),
    onStart: (id) => started.push(id),
    onProgress: (id, p) => progress.set(id, [...(progress.get(id) ?? []), p]),
  });
}

describe('the job pool', () => {
  it('runs a job on a thread with the same result as in-process, progress rising to the total', async () => {
    const progress = new Map<string, JobProgress[]>();
    const pool = poolWith(progress);
    try {
      const outcome = await pool.submit('a', jobOf());
      const direct = runBacktest(jobOf(), symbols.map((vt) => columnsOf(readSharedBars(join(dir.dir, `${vt}.arrow`), vt))));
      expect(outcome.status).toBe('completed');
      expect(JSON.stringify(outcome.run?.trades)).toBe(JSON.stringify(direct.trades));
      expect(JSON.stringify(outcome.run?.statistics)).toBe(JSON.stringify(direct.statistics));
      const seen = (progress.get('a') ?? []).map((p) => p.barsDone);
      expect(seen.length).toBeGreaterThan(3);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1] as number);
      expect(seen[seen.length - 1]).toBe(direct.barsDone);
    } finally {
      await pool.close();
    }
  }, 180_000);

  it('holds the bar count still while paused, resumes to completion, and a cancel while paused stops at that count', async () => {
    const progress = new Map<string, JobProgress[]>();
    const pool = poolWith(progress);
    try {
      const resumed = pool.submit('p', jobOf());
      const cancelled = pool.submit('c', jobOf());
      pool.pause('p');
      pool.pause('c');
      // The checkpoint after the pause reports paused once, then the thread waits there.
      await waitFor('both paused at a checkpoint', () => progress.get('p')?.at(-1)?.paused === true && progress.get('c')?.at(-1)?.paused === true);
      const heldP = progress.get('p')?.at(-1)?.barsDone;
      const heldC = progress.get('c')?.at(-1)?.barsDone;
      expect(pool.stateOf('p')).toBe('paused');
      pool.cancel('c');
      const c = await cancelled;
      expect(c.status).toBe('cancelled');
      expect(c.run?.barsDone).toBe(heldC);
      // While 'c' was cancelled and ended, 'p' stayed where it was paused.
      expect(progress.get('p')?.at(-1)?.barsDone).toBe(heldP);
      pool.resume('p');
      const p = await resumed;
      expect(p.status).toBe('completed');
      expect(p.run?.barsDone).toBe(p.run?.barsTotal);
    } finally {
      await pool.close();
    }
  }, 180_000);

  it('cancels a running job at its next checkpoint, and a queued one at once', async () => {
    const progress = new Map<string, JobProgress[]>();
    const pool = poolWith(progress, [], 1);
    try {
      const running = pool.submit('r', jobOf());
      const queued = pool.submit('q', jobOf());
      // Held at its first checkpoint, so that the cancel below meets it running, not finished.
      pool.pause('r');
      await waitFor('r running, held at a checkpoint', () => progress.get('r')?.at(-1)?.paused === true);
      const held = progress.get('r')?.at(-1)?.barsDone ?? 0;
      expect(pool.cancel('q')).toBe(true);
      expect(await queued).toEqual({ status: 'cancelled', run: null, durationMs: 0 });
      // Running again, then cancelled: it stops at the checkpoint it is at or the next one.
      pool.resume('r');
      pool.cancel('r');
      const r = await running;
      expect(r.status).toBe('cancelled');
      expect(r.run?.barsDone).toBeLessThanOrEqual(held + 4096 + symbols.length);
      expect(r.run?.barsDone).toBeLessThan(r.run?.barsTotal ?? 0);
    } finally {
      await pool.close();
    }
  }, 180_000);

  it('starts queued jobs by priority, then in submission order', async () => {
    const progress = new Map<string, JobProgress[]>();
    const started: string[] = [];
    const pool = poolWith(progress, started, 1);
    try {
      pool.pauseQueue();
      const all = [pool.submit('low', jobOf(1)), pool.submit('mid', jobOf(5)), pool.submit('high', jobOf(9)), pool.submit('mid2', jobOf(5))];
      expect(started).toEqual([]);
      pool.resumeQueue();
      await Promise.all(all);
      expect(started).toEqual(['high', 'mid', 'mid2', 'low']);
    } finally {
      await pool.close();
    }
  }, 180_000);
});
