import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeBars, type AnalysisRow } from '../../src/io/analyze.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { analyzeCommand } from '../../src/main/cli/analyze.js';
import { importCommand } from '../../src/main/cli/import.js';
import { createTempDir, createTempMysqlDb, type TempDir, type TempMysqlDb } from '../io/storeFixtures.js';
import { runCommand } from './cliHarness.js';

/**
 * A seeded futures-like minute series: day and night sessions with the 10:15 break, a few
 * missing minutes (so windows also close on a later bar, not only on their last minute),
 * and a trend reversal so that signals actually fire.
 */
interface MinuteRow {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}
const SESSIONS: [number, number][] = [
  [9 * 60, 10 * 60 + 15],
  [10 * 60 + 30, 11 * 60 + 30],
  [13 * 60 + 30, 15 * 60],
  [21 * 60, 23 * 60],
];
function minuteSeries(days: number): MinuteRow[] {
  let s = 12_345;
  const rand = (): number => {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
    return s / 4_294_967_296;
  };
  const rows: MinuteRow[] = [];
  let price = 3600;
  let i = 0;
  for (let d = 0; d < days; d++) {
    const day = Date.UTC(2024, 0, 2 + d) / 1000;
    for (const [start, end] of SESSIONS) {
      for (let m = start; m < end; m++, i++) {
        const drift = i < 1200 ? -0.15 : 0.2;
        const open = price;
        const close = Math.round((open + drift + (rand() - 0.5) * 6) * 2) / 2;
        if (rand() < 0.03) {
          price = close;
          continue; // a missing minute
        }
        const high = Math.max(open, close) + Math.round(rand() * 4) / 2;
        const low = Math.min(open, close) - Math.round(rand() * 4) / 2;
        rows.push({ time: day + m * 60, open, high, low, close, volume: 10 + Math.floor(rand() * 90) });
        price = close;
      }
    }
  }
  return rows;
}
const fmt = (t: number): string => new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ');

let dir: TempDir;
let db: TempMysqlDb;
let dataDir: string;
const minutes = minuteSeries(8);
const VT = 'rb2501.SHFE';

beforeAll(async () => {
  dir = createTempDir('kestrel-analyze-');
  db = await createTempMysqlDb();
  dataDir = join(dir.path, 'data');
  const file = join(dir.path, 'minutes.csv');
  writeFileSync(
    file,
    ['datetime,open,high,low,close,volume', ...minutes.map((r) => `${fmt(r.time)},${r.open},${r.high},${r.low},${r.close},${r.volume}`)].join('\n'),
  );
  for (const target of [['--data-dir', dataDir], ['--mysql', db.url]]) {
    const run = await runCommand(importCommand, ['--file', file, '--vt-symbol', VT, ...target]);
    if (run.code !== 0) throw new Error(`fixture import failed: ${run.stderr}`);
  }
});
afterAll(async () => {
  dir.remove();
  await db.drop();
});

/** The DOMAIN.md definitions, computed here independently of src/core. */
function referenceWindows(n: number): { time: number; open: number; high: number; low: number; close: number; volume: number }[] {
  const windows = new Map<number, { time: number; open: number; high: number; low: number; close: number; volume: number }>();
  for (const r of minutes) {
    const start = r.time - (r.time % (n * 60));
    const w = windows.get(start);
    if (!w) windows.set(start, { time: start, open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume });
    else {
      w.high = Math.max(w.high, r.high);
      w.low = Math.min(w.low, r.low);
      w.close = r.close;
      w.volume += r.volume;
    }
  }
  return [...windows.values()];
}
function ema(values: number[], period: number): number[] {
  const a = 2 / (period + 1);
  const out: number[] = [];
  for (const [i, x] of values.entries()) out.push(i === 0 ? x : a * x + (1 - a) * out[i - 1]!);
  return out;
}

describe('kestrel analyze', () => {
  it('gives identical output from SQLite and from MariaDB, in JSON and in CSV', async () => {
    for (const format of ['json', 'csv']) {
      const fromSqlite = await runCommand(analyzeCommand, ['--vt-symbol', VT, '--window', '15', '--format', format, '--data-dir', dataDir]);
      const fromMysql = await runCommand(analyzeCommand, ['--vt-symbol', VT, '--window', '15', '--format', format, '--mysql', db.url]);
      expect(fromSqlite.code).toBe(0);
      expect(fromMysql.code).toBe(0);
      expect(fromSqlite.stderr).toBe('');
      expect(fromMysql.stdout).toBe(fromSqlite.stdout);
      expect(fromSqlite.stdout.split('\n').length).toBeGreaterThan(100);
    }
  });

  it('prints every window bar with the reference OHLCV, EMA and MACD', async () => {
    const run = await runCommand(analyzeCommand, ['--vt-symbol', VT, '--window', '5', '--format', 'json', '--data-dir', dataDir]);
    expect(run.code).toBe(0);
    const rows = JSON.parse(run.stdout) as AnalysisRow[];
    const ref = referenceWindows(5);
    expect(rows.map((r) => [r.time, r.open, r.high, r.low, r.close, r.volume])).toEqual(
      ref.map((w) => [w.time, w.open, w.high, w.low, w.close, w.volume]),
    );
    expect(rows.slice(0, -1).every((r) => r.closed)).toBe(true);
    const closes = ref.map((w) => w.close);
    const e12 = ema(closes, 12);
    const e26 = ema(closes, 26);
    const dif = e12.map((x, i) => x - e26[i]!);
    const dea = ema(dif, 9);
    const e20 = ema(closes, 20);
    const e60 = ema(closes, 60);
    for (const [i, r] of rows.entries()) {
      expect(r.dif).toBeCloseTo(dif[i]!, 9);
      expect(r.dea).toBeCloseTo(dea[i]!, 9);
      expect(r.macd).toBeCloseTo(2 * (dif[i]! - dea[i]!), 9);
      expect(r.emaFast).toBeCloseTo(e20[i]!, 9);
      expect(r.emaSlow).toBeCloseTo(e60[i]!, 9);
      const state = e20[i]! > e60[i]! && closes[i]! > e20[i]! ? 'bull' : e20[i]! < e60[i]! && closes[i]! < e20[i]! ? 'bear' : 'neutral';
      expect(r.emaState).toBe(state);
    }
    // The series turns: TD marks and signal states do occur in it.
    expect(rows.some((r) => r.marks.length > 0)).toBe(true);
    expect(rows.some((r) => r.bottomDullness !== 'none' || r.topDullness !== 'none' || r.bottomDivergence || r.topDivergence)).toBe(true);
  });

  it('bounds the printed window bars by --from/--to and warms up on the history before', async () => {
    const store = SqliteBarStore.open(join(dataDir, 'kestrel.db'), { readonly: true });
    const key = { symbol: 'rb2501', exchange: 'SHFE', interval: '1m' as const };
    try {
      const all: AnalysisRow[] = [];
      for await (const r of analyzeBars(store, key, { windowMinutes: 15 })) all.push(r);
      const from = Date.UTC(2024, 0, 6, 9, 0) / 1000;
      const to = Date.UTC(2024, 0, 7, 11, 15) / 1000;
      const bounded: AnalysisRow[] = [];
      for await (const r of analyzeBars(store, key, { windowMinutes: 15, from, to, chunkSize: 100 })) bounded.push(r);
      const expected = all.filter((r) => r.time >= from && r.time <= to);
      expect(expected.length).toBeGreaterThan(30);
      // The default warm-up (600 window bars) reaches back past the start here: identical values.
      expect(bounded).toEqual(expected);
      // Without warm-up the indicators start cold at --from, so they differ.
      const cold: AnalysisRow[] = [];
      for await (const r of analyzeBars(store, key, { windowMinutes: 15, from, to, warmupWindowBars: 0 })) cold.push(r);
      expect(cold.map((r) => r.time)).toEqual(expected.map((r) => r.time));
      expect(cold[5]!.dif).not.toBeCloseTo(expected[5]!.dif, 3);

      // --to on a window whose last minute is missing still closes it (a later bar is read).
      const gapWindow = referenceWindows(15).find((w) => {
        const inWindow = minutes.filter((m) => m.time >= w.time && m.time < w.time + 900);
        return inWindow.length > 0 && inWindow[inWindow.length - 1]!.time !== w.time + 840;
      });
      expect(gapWindow).toBeDefined();
      const upTo: AnalysisRow[] = [];
      for await (const r of analyzeBars(store, key, { windowMinutes: 15, to: gapWindow!.time })) upTo.push(r);
      expect(upTo[upTo.length - 1]).toEqual(all.find((r) => r.time === gapWindow!.time));
    } finally {
      await store.close();
    }
  });

  it('refuses a window that does not divide 60, with exit code 2', async () => {
    const run = await runCommand(analyzeCommand, ['--vt-symbol', VT, '--window', '7', '--data-dir', dataDir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^kestrel analyze: --window 7 does not divide 60/);
  });
});
