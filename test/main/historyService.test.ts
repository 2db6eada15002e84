import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalysisPipeline } from '../../src/core/analysisPipeline.js';
import type { WindowAnalysis } from '../../src/core/signalEngine.js';
import type { SignalParams } from '../../src/shared/signalParams.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { HistoryService } from '../../src/main/workstation/historyService.js';
import { ApiError } from '../../src/shared/api.js';
import { barHistoryParamsSchema } from '../../src/shared/contract/history.js';
import type { StoredBar } from '../../src/shared/bar.js';
import type { BarPoint } from '../../src/shared/snapshot.js';
import { createTempDir, createTempMysqlDb, type TempDir } from '../io/storeFixtures.js';
import { Tape } from '../worker/runnerFixture.js';

/**
 * The history API against an independent reference: one straightforward AnalysisPipeline run
 * over every minute the test wrote, from the first. The service warms its indicators up on 600
 * window bars' worth of minutes before the range it answers (as a worker's restore does), not on
 * the whole store, so EMA-based values may differ from the reference by the seed's leftover
 * weight: (1 - 2/27)^600 ≈ 1e-20 for the MACD's slow EMA, (1 - 2/61)^600 ≈ 3e-9 relative for
 * EMA 60. dif/dea/macd are compared to 1e-9, the EMAs to 1e-7 relative; OHLCV exactly. A range
 * whose warm-up reaches the start of the data is computed from the same first minute as the
 * reference and must equal it exactly.
 */
const MINUTES = 36_000;
const VT = 'rb9999.SIM';
const KEY = { symbol: 'rb9999', exchange: 'SIM', interval: '1m' } as const;

let dir: TempDir;
let minutes: StoredBar[];

function params(p: Record<string, unknown>) {
  return barHistoryParamsSchema.parse(p);
}

function reference(windowMinutes: number, signal?: Partial<SignalParams>): WindowAnalysis[] {
  const out: WindowAnalysis[] = [];
  const pipeline = new AnalysisPipeline({ windowMinutes, ...(signal ? { params: signal } : {}), onWindow: (a) => out.push(a) });
  for (const b of minutes) pipeline.pushMinute(b);
  return out;
}

function expectSameBars(actual: readonly BarPoint[], expected: readonly WindowAnalysis[], exact: boolean): void {
  expect(actual.map((b) => b.time)).toEqual(expected.map((a) => a.bar.time));
  for (let i = 0; i < actual.length; i++) {
    const got = actual[i] as BarPoint;
    const want = expected[i] as WindowAnalysis;
    const { time, open, high, low, close, volume, turnover, openInterest } = want.bar;
    expect({ time: got.time, open: got.open, high: got.high, low: got.low, close: got.close, volume: got.volume, turnover: got.turnover, openInterest: got.openInterest }).toEqual({
      time,
      open,
      high,
      low,
      close,
      volume,
      turnover,
      openInterest,
    });
    if (exact) {
      expect([got.dif, got.dea, got.macd, got.emaFast, got.emaSlow]).toEqual([want.dif, want.dea, want.macd, want.emaFast, want.emaSlow]);
    } else {
      expect(Math.abs((got.dif as number) - want.dif)).toBeLessThan(1e-9);
      expect(Math.abs((got.dea as number) - want.dea)).toBeLessThan(1e-9);
      expect(Math.abs((got.macd as number) - want.macd)).toBeLessThan(1e-9);
      expect(Math.abs((got.emaFast as number) - want.emaFast) / want.emaFast).toBeLessThan(1e-7);
      expect(Math.abs((got.emaSlow as number) - want.emaSlow) / want.emaSlow).toBeLessThan(1e-7);
    }
  }
}

beforeAll(async () => {
  dir = createTempDir('kestrel-history-');
  minutes = new Tape(7, '2025-01-06 09:00:00').next(MINUTES).filter((b) => b.symbol === KEY.symbol);
  const store = SqliteBarStore.open(join(dir.path, 'kestrel.db'));
  await store.write(minutes);
  await store.close();
});

afterAll(() => dir.remove());

describe('HistoryService (SQLite, data dir)', () => {
  it('answers a range in the middle with the values of a whole-store pipeline run, older pages on request', async () => {
    const service = new HistoryService({ dataDir: dir.path, barSource: { kind: 'sqlite', path: null } });
    try {
      const ref = reference(15);
      expect(ref.length).toBeGreaterThan(1_800);
      const end = 1_700;
      const before = (ref[end] as WindowAnalysis).bar.time;
      const page = await service.barHistory(params({ vtSymbol: VT, windowMinutes: '15', before: String(before), count: '500' }));
      expect(page.hasMore).toBe(true);
      expectSameBars(page.bars, ref.slice(end - 500, end), false);
      const wantMarks = ref.slice(end - 500, end).flatMap((a) => a.marks);
      expect(wantMarks.length).toBeGreaterThan(0);
      expect(page.marks).toEqual(wantMarks);

      // The next page to the left ends where this one starts.
      const first = page.bars[0] as BarPoint;
      const older = await service.barHistory(params({ vtSymbol: VT, windowMinutes: 15, before: first.time, count: 500 }));
      expectSameBars(older.bars, ref.slice(end - 1000, end - 500), false);
      expect(older.hasMore).toBe(true);
    } finally {
      await service.close();
    }
  });

  it('at the beginning of the data: fewer bars than asked, hasMore false, values exactly the whole-store run', async () => {
    const service = new HistoryService({ dataDir: dir.path, barSource: { kind: 'sqlite', path: null } });
    try {
      const ref = reference(30);
      const before = (ref[300] as WindowAnalysis).bar.time;
      const page = await service.barHistory(params({ vtSymbol: VT, windowMinutes: 30, before, count: 500 }));
      expect(page.hasMore).toBe(false);
      expectSameBars(page.bars, ref.slice(0, 300), true);
      const none = await service.barHistory(params({ vtSymbol: VT, windowMinutes: 30, before: (ref[0] as WindowAnalysis).bar.time, count: 10 }));
      expect(none).toEqual({ bars: [], marks: [], hasMore: false });
    } finally {
      await service.close();
    }
  });

  it('a `before` inside a window includes that window, complete; without `before`, closed bars up to the last', async () => {
    const service = new HistoryService({ dataDir: dir.path, barSource: { kind: 'sqlite', path: null } });
    try {
      const ref = reference(15);
      const inside = (ref[1200] as WindowAnalysis).bar.time + 5 * 60;
      const page = await service.barHistory(params({ vtSymbol: VT, windowMinutes: 15, before: inside, count: 50 }));
      expectSameBars(page.bars, ref.slice(1151, 1201), false);

      const latest = await service.barHistory(params({ vtSymbol: VT, windowMinutes: 15, count: 20 }));
      // The reference emits a window when its last minute arrives; the tape's last window may still be forming.
      const lastMinute = (minutes.at(-1) as StoredBar).time;
      const closed = ref.filter((a) => a.bar.time + 15 * 60 - 60 <= lastMinute);
      expectSameBars(latest.bars, closed.slice(-20), false);
    } finally {
      await service.close();
    }
  });

  it("uses the variant's signal parameters, and serves a repeated scroll from its cache", async () => {
    const signal = { fast: 6, slow: 13, signal: 5 };
    const service = new HistoryService({
      dataDir: dir.path,
      barSource: { kind: 'sqlite', path: null },
      signalParamsOf: (v) => (v === 'fast-15m' ? signal : undefined),
    });
    try {
      const ref = reference(15, signal);
      const before = (ref[1000] as WindowAnalysis).bar.time;
      const ask = params({ vtSymbol: VT, windowMinutes: 15, before, count: 100, variant: 'fast-15m' });
      const page = await service.barHistory(ask);
      expectSameBars(page.bars, ref.slice(900, 1000), false);
      const again = await service.barHistory(ask);
      expect(again).toBe(page);
      expect(service.stats).toMatchObject({ requests: 2, cacheHits: 1, computed: 1 });
      // Default parameters are another answer.
      const plain = await service.barHistory(params({ vtSymbol: VT, windowMinutes: 15, before, count: 100 }));
      expect(plain.bars[50]?.dif).not.toBe(page.bars[50]?.dif);
    } finally {
      await service.close();
    }
  });

  it('a missing bar database is a 503 naming it, and the service tries again later', async () => {
    const empty = createTempDir('kestrel-history-empty-');
    const service = new HistoryService({ dataDir: empty.path, barSource: { kind: 'sqlite', path: null } });
    try {
      const error = await service.barHistory(params({ vtSymbol: VT, windowMinutes: 15, before: 1, count: 1 })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(503);
      expect((error as ApiError).message).toContain(join(empty.path, 'kestrel.db'));
      const store = SqliteBarStore.open(join(empty.path, 'kestrel.db'));
      await store.write(minutes.slice(0, 600));
      await store.close();
      const page = await service.barHistory(params({ vtSymbol: VT, windowMinutes: 15, before: 4_102_444_800, count: 5 }));
      expect(page.bars.length).toBe(5);
    } finally {
      await service.close();
      empty.remove();
    }
  });
});

describe('HistoryService (MySQL)', () => {
  it('reads a MySQL bar store named in the settings', async () => {
    const db = await createTempMysqlDb();
    const { MysqlBarStore } = await import('../../src/io/mysqlBarStore.js');
    const writer = await MysqlBarStore.connect(db.url);
    const service = new HistoryService({ dataDir: dir.path, barSource: { kind: 'mysql', url: db.url } });
    try {
      await writer.write(minutes.slice(0, 12_000));
      const ref: WindowAnalysis[] = [];
      const pipeline = new AnalysisPipeline({ windowMinutes: 15, onWindow: (a) => ref.push(a) });
      for (const b of minutes.slice(0, 12_000)) pipeline.pushMinute(b);
      const before = (ref[700] as WindowAnalysis).bar.time;
      const page = await service.barHistory(params({ vtSymbol: VT, windowMinutes: 15, before, count: 60 }));
      expect(page.hasMore).toBe(true);
      expectSameBars(page.bars, ref.slice(640, 700), false);
    } finally {
      await service.close();
      await writer.close();
      await db.drop();
    }
  });
});
