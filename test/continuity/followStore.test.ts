import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import type { VariantUpdate } from '../../src/shared/api.js';
import { formatDatetime } from '../../src/shared/time.js';
import { startHarness, type Harness } from '../main/workstationHarness.js';
import { BarRecorder } from '../fixtures/barRecorder.js';
import { freshDir, waitFor } from '../helpers.js';
import { Tape } from '../worker/runnerFixture.js';

const POLL_MS = 2_000;
let harness: Harness | null = null;
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  await harness?.stop();
  harness = null;
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * vnpy's DataRecorder, as far as Kestrel can tell: another process that inserts a row into
 * dbbardata with its own SQLite connection.
 */
function recorderWrites(dbPath: string, row: { datetime: string; open: number; high: number; low: number; close: number; volume: number }): void {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.pragma('busy_timeout = 5000');
    const r = JSON.parse(process.argv[2]);
    db.prepare(\`INSERT OR REPLACE INTO dbbardata (symbol, exchange, datetime, interval, volume, turnover, open_interest,
      open_price, high_price, low_price, close_price) VALUES ('rb9999', 'SIM', ?, '1m', ?, 0, 0, ?, ?, ?, ?)\`)
      .run(r.datetime, r.volume, r.open, r.high, r.low, r.close);
    db.close();`;
  const run = spawnSync(process.execPath, ['-e', script, dbPath, JSON.stringify(row)], { cwd: join(import.meta.dirname, '..', '..'), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
}

describe('follow the bar store', () => {
  it('a row written by another process reaches the UI’s event stream within one poll interval', async () => {
    const tmp = freshDir('follow');
    cleanups.push(tmp.remove);
    const dbPath = join(tmp.dir, 'kestrel.db');
    const store = SqliteBarStore.open(dbPath);
    const history = new Tape(8).next(30 * 345);
    await store.write(history);
    await store.close();
    harness = await startHarness({
      dataDir: tmp.dir,
      controlEnabled: false,
      settings: { demo: { enabled: false, speed: 60, seed: 1 }, variants: [{ name: 'follow-15m', vtSymbol: 'rb9999.SIM', windowMinutes: 15, pollMs: POLL_MS }] },
    });
    await waitFor('running', () => harness?.workstation.summaryOf('follow-15m').status === 'running', 60_000);

    const ws = new WebSocket(`${harness.baseUrl.replace('http', 'ws')}/api/ws?token=${harness.token}`);
    cleanups.push(() => ws.close());
    const updates: { at: number; update: VariantUpdate }[] = [];
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { event: string; payload: VariantUpdate };
      if (frame.event === 'variantUpdated') updates.push({ at: Date.now(), update: frame.payload });
    });
    await new Promise<void>((r) => ws.once('open', () => r()));

    const lastTime = history[history.length - 1]?.time ?? 0;
    const results: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const datetime = formatDatetime(lastTime + i * 60);
      const writtenAt = Date.now();
      recorderWrites(dbPath, { datetime, open: 3600 + i, high: 3605 + i, low: 3598 + i, close: 3602 + i, volume: 10 });
      const seen = await waitFor(`${datetime} in the event stream`, () => updates.find((u) => u.update.instruments[0]?.lastBarAt === datetime), 4 * POLL_MS, 10);
      results.push(seen.at - writtenAt);
      const forming = seen.update.instruments[0]?.forming;
      expect(forming?.close).toBe(3602 + i);
    }
    console.log(`row → UI event latency (poll interval ${POLL_MS} ms): ${results.join(', ')} ms`);
    // One poll interval, plus the moment it takes to write and announce the snapshot.
    for (const ms of results) expect(ms).toBeLessThan(POLL_MS + 1_000);
  }, 120_000);

  it('every bar a recorder process commits reaches the worker, woken by the file watcher (the poll set to a minute)', async () => {
    const tmp = freshDir('follow-watch');
    cleanups.push(tmp.remove);
    const dbPath = join(tmp.dir, 'kestrel.db');
    const store = SqliteBarStore.open(dbPath);
    const history = new Tape(9).next(30 * 345);
    await store.write(history);
    await store.close();
    harness = await startHarness({
      dataDir: tmp.dir,
      controlEnabled: false,
      settings: { demo: { enabled: false, speed: 60, seed: 1 }, variants: [{ name: 'watch-1m', vtSymbol: 'rb9999.SIM', windowMinutes: 1, pollMs: 60_000 }] },
    });
    const ws = harness.workstation;
    await waitFor('running', () => ws.summaryOf('watch-1m').status === 'running', 60_000);
    const instrument = async (): Promise<{ lastBarAt: string | null; minuteBarsProcessed: number } | undefined> =>
      (await ws.handlers.getSnapshot({ variant: 'watch-1m' }, { origin: 'cli', controlAllowed: false })).instruments[0];
    const before = (await instrument())?.minuteBarsProcessed ?? 0;

    const recorder = new BarRecorder(dbPath);
    cleanups.push(() => recorder.close());
    const lastTime = history[history.length - 1]?.time ?? 0;
    const rows = Array.from({ length: 100 }, (_, i) => {
      const p = 3600 + (i % 13);
      return { symbol: 'rb9999', exchange: 'SIM', datetime: formatDatetime(lastTime + (i + 1) * 60), open: p, high: p + 3, low: p - 3, close: p + 1, volume: 5 };
    });
    recorder.insertAll(rows);
    const last = rows[rows.length - 1]?.datetime;
    // The snapshot is written after the bars are processed; the last bar's minute and the count say every bar came.
    const seen = await waitFor('the last bar processed', async () => {
      const i = await instrument();
      return i?.lastBarAt === last ? i : undefined;
    }, 60_000);
    expect(seen.minuteBarsProcessed - before).toBe(rows.length);
  }, 120_000);
});
