import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteBarStore, VNPY_SQLITE_BAR_DDL } from '../../src/io/sqliteBarStore.js';
import { followStore, type StoreFollower } from '../../src/io/storeWatch.js';
import { formatDatetime, parseDatetime } from '../../src/shared/time.js';
import { BarRecorder, type RecorderRow } from '../fixtures/barRecorder.js';
import { freshDir, waitFor } from '../helpers.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const KEY = { symbol: 'rb2601', exchange: 'SHFE', interval: '1m' as const };
const FIRST = parseDatetime('2025-11-03 09:00:00') as number;

function rows(count: number): RecorderRow[] {
  return Array.from({ length: count }, (_, i) => {
    const price = 3500 + (i % 17);
    return { symbol: KEY.symbol, exchange: KEY.exchange, datetime: formatDatetime(FIRST + i * 60), open: price, high: price + 2, low: price - 2, close: price + 1, volume: 10 + i };
  });
}

/** A vnpy database as peewee leaves it: vnpy's tables, rollback journal unless told otherwise. */
function vnpyDatabase(path: string, journalMode: 'wal' | 'delete'): void {
  const db = new Database(path);
  db.pragma(`journal_mode = ${journalMode}`);
  for (const ddl of VNPY_SQLITE_BAR_DDL) db.exec(ddl);
  db.close();
}

/** A reader that follows the store the way the worker does, keeping every bar it reads. */
function reader(path: string, opts: { pollMs: number; watch: boolean }): { times: number[]; follower: StoreFollower } {
  const store = SqliteBarStore.open(path, { readonly: true });
  const times: number[] = [];
  const follower = followStore(store, {
    pollMs: opts.pollMs,
    watch: opts.watch,
    read: async () => {
      for (;;) {
        const bars = await store.loadAfter(KEY, times[times.length - 1] ?? 0, 1_000);
        for (const b of bars) times.push(b.time);
        if (bars.length < 1_000) return;
      }
    },
  });
  cleanups.push(async () => {
    follower.close();
    await store.close();
  });
  return { times, follower };
}

describe('following a SQLite store written by another process', () => {
  for (const journal of ['wal', 'delete'] as const) {
    it(`every bar committed by a recorder process arrives, woken by the watcher alone (${journal} journal)`, async () => {
      const tmp = freshDir('store-watch');
      cleanups.push(tmp.remove);
      const path = join(tmp.dir, 'database.db');
      vnpyDatabase(path, journal);
      // A poll of one minute never fires during the test: only the watcher can bring the bars.
      const { times, follower } = reader(path, { pollMs: 60_000, watch: true });
      expect(follower.mode).toBe('watch');
      const recorder = new BarRecorder(path);
      cleanups.push(() => recorder.close());
      const sent = rows(200);
      // One bar at a time, each awaited, then a burst committed back to back.
      for (const row of sent.slice(0, 20)) {
        const c = await recorder.insert(row);
        await waitFor(`${c.datetime} read`, () => times.includes(parseDatetime(c.datetime) as number), 10_000, 2);
      }
      recorder.insertAll(sent.slice(20));
      await waitFor('every bar read', () => times.length === sent.length, 20_000, 10);
      expect(times.map(formatDatetime)).toEqual(sent.map((r) => r.datetime));
      expect(follower.wakeups).toBeGreaterThan(0);
    }, 60_000);
  }

  it('with the watcher off, the poll alone brings every bar', async () => {
    const tmp = freshDir('store-poll');
    cleanups.push(tmp.remove);
    const path = join(tmp.dir, 'database.db');
    vnpyDatabase(path, 'wal');
    const { times, follower } = reader(path, { pollMs: 20, watch: false });
    expect(follower.mode).toBe('poll');
    const recorder = new BarRecorder(path);
    cleanups.push(() => recorder.close());
    const sent = rows(100);
    recorder.insertAll(sent);
    await waitFor('every bar read', () => times.length === sent.length, 20_000, 10);
    expect(times.map(formatDatetime)).toEqual(sent.map((r) => r.datetime));
    expect(follower.wakeups).toBe(0);
  }, 60_000);

  it('a commit by this process through another connection is noticed too (data_version moves for every other connection)', async () => {
    const tmp = freshDir('store-self');
    cleanups.push(tmp.remove);
    const path = join(tmp.dir, 'kestrel.db');
    const writer = SqliteBarStore.open(path);
    cleanups.push(() => writer.close());
    const { times } = reader(path, { pollMs: 60_000, watch: true });
    const bars = rows(5).map((r) => ({ ...KEY, time: parseDatetime(r.datetime) as number, open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume, turnover: 0, openInterest: 0 }));
    for (const b of bars) {
      await writer.write([b]);
      await waitFor(`${formatDatetime(b.time)} read`, () => times.includes(b.time), 10_000, 2);
    }
    expect(times).toEqual(bars.map((b) => b.time));
  }, 60_000);
});
