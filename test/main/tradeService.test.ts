import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SimulatedMarket } from '../../src/core/market/simulatedMarket.js';
import { tradeStatistics, type StatisticsPeriod } from '../../src/core/statistics.js';
import { TradingJournal } from '../../src/io/tradingJournal.js';
import type { JournalTrade } from '../../src/shared/trade.js';
import { createHttpApi, type HttpApi } from '../../src/renderer/api/httpApi.js';
import { fetchAllTrades, tradesCsv, CSV_COLUMNS } from '../../src/renderer/lib/tradesCsv.js';
import type { StoredBar } from '../../src/shared/bar.js';
import type { Trade, TradeFilterParams, TradePage, TradeStatisticsResult, TradeSymbols } from '../../src/shared/contract/trades.js';
import { formatDatetime, parseDatetime } from '../../src/shared/time.js';
import { createTradesStore } from '../../src/renderer/stores/trades.js';
import { freshDir, waitFor } from '../helpers.js';
import { Tape, rig, type RunnerRig } from '../worker/runnerFixture.js';
import { startHarness, type Harness } from './workstationHarness.js';

/**
 * The Trades API on a journal written by real strategy runs: two variants (rb on 15-minute
 * bars, hc on 5-minute bars) restore on 30 trading days of simulated history, then follow 40
 * more and trade. The workstation then serves that kestrel.db; every answer is checked against
 * the journal read directly, filtered by hand here, and against core's tradeStatistics on the
 * same rows.
 */

const DAY = 345; // open minutes in a trading day of the default sessions
const HC = { symbol: 'hc9999', exchange: 'SIM', startPrice: 3300, priceTick: 1, baseVolume: 800 };

class HcTape {
  private readonly market = new SimulatedMarket({ seed: 77, instruments: [HC], startTime: parseDatetime('2025-01-06 09:00:00') as number });
  next(minutes: number): StoredBar[] {
    const bars: StoredBar[] = [];
    for (let i = 0; i < minutes; i++) bars.push(...this.market.nextMinute());
    return bars;
  }
}

let dataDir: string;
let removeDir: () => void;
let harness: Harness;
let http: HttpApi;
let journal: TradingJournal;
/** The journal's own order (oldest first), read directly. */
let all: JournalTrade[];
let rbTape: Tape;
let hcTape: HcTape;

async function tradeFor(r: RunnerRig, tape: { next(n: number): StoredBar[] }, history: number, live: number): Promise<void> {
  await r.store.write(tape.next(history * DAY));
  await r.runner.restore();
  for (let d = 0; d < live; d += 10) {
    await r.store.write(tape.next(Math.min(10, live - d) * DAY));
    await r.runner.follow();
  }
}

beforeAll(async () => {
  const tmp = freshDir('trades');
  dataDir = tmp.dir;
  removeDir = tmp.remove;
  rbTape = new Tape(42);
  hcTape = new HcTape();
  const rb = rig(dataDir, { name: 'rig-rb-15m' });
  const hc = rig(dataDir, { name: 'rig-hc-5m', vtSymbol: 'hc9999.SIM', windowMinutes: 5 });
  await tradeFor(rb, rbTape, 30, 40);
  await tradeFor(hc, hcTape, 30, 40);
  await rb.close();
  await hc.close();

  harness = await startHarness({ dataDir, controlEnabled: false, settings: { demo: { enabled: false }, variants: [] } });
  http = createHttpApi({ baseUrl: harness.baseUrl, token: harness.token, WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
  journal = TradingJournal.open(join(dataDir, 'kestrel.db'));
  all = journal.trades();
}, 120_000);

afterAll(async () => {
  http?.close();
  journal?.close();
  await harness?.stop();
  removeDir?.();
});

async function rest<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<{ status: number; body: T }> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const res = await fetch(`${harness.baseUrl}${path}${q.size ? `?${q.toString()}` : ''}`, { headers: { authorization: `Bearer ${harness.token}` } });
  return { status: res.status, body: (await res.json()) as T };
}

/** The wire form of a journal row, written out here rather than taken from the service. */
function wire(t: JournalTrade): Trade {
  return { ...t, datetime: formatDatetime(t.time) };
}

const dateOf = (t: JournalTrade): string => formatDatetime(t.time).slice(0, 10);

/** The straightforward filter, on the journal's rows. */
function byHand(f: TradeFilterParams): JournalTrade[] {
  return all.filter(
    (t) =>
      (f.variant === undefined || t.variant === f.variant) &&
      (f.symbol === undefined || t.vtSymbol === f.symbol) &&
      (f.side === undefined || t.side === f.side) &&
      (f.from === undefined || (f.from.length === 10 ? dateOf(t) >= f.from : formatDatetime(t.time) >= f.from)) &&
      (f.to === undefined || (f.to.length === 10 ? dateOf(t) <= f.to : formatDatetime(t.time) <= f.to)),
  );
}

const newestFirst = (rows: JournalTrade[]): Trade[] => [...rows].reverse().map(wire);

/** A date range that holds part of the fills: from the date of the 30 % fill to that of the 70 % one. */
function middleRange(): { from: string; to: string } {
  const a = all[Math.floor(all.length * 0.3)];
  const b = all[Math.floor(all.length * 0.7)];
  if (!a || !b) throw new Error('not enough fills');
  return { from: dateOf(a), to: dateOf(b) };
}

describe('the journal the real runs wrote', () => {
  it('holds fills of both variants and both symbols, opens and closes, buys and sells', () => {
    const count = (pick: (t: JournalTrade) => boolean): number => all.filter(pick).length;
    console.log(`journal: ${all.length} fills (${count((t) => t.variant === 'rig-rb-15m')} rb, ${count((t) => t.variant === 'rig-hc-5m')} hc)`);
    for (const v of ['rig-rb-15m', 'rig-hc-5m']) expect(count((t) => t.variant === v), v).toBeGreaterThan(4);
    expect(count((t) => t.vtSymbol === 'hc9999.SIM')).toBeGreaterThan(0);
    expect(count((t) => t.pnl !== null)).toBeGreaterThan(3);
    expect(count((t) => t.side === 'buy')).toBeGreaterThan(0);
    expect(count((t) => t.side === 'sell')).toBeGreaterThan(0);
  });
});

describe('listTrades', () => {
  it('serves the newest 100 fills by default, with the total', async () => {
    const { status, body } = await rest<TradePage>('/api/trades/list');
    expect(status).toBe(200);
    expect(body.total).toBe(all.length);
    expect([body.page, body.pageSize]).toEqual([1, 100]);
    expect(body.rows).toEqual(newestFirst(all).slice(0, 100));
  });

  it('pages through every fill exactly once, newest first, through the renderer client', async () => {
    const pageSize = 7;
    const seen: Trade[] = [];
    for (let page = 1; ; page++) {
      const p = await http.api.listTrades({ page, pageSize });
      expect(p.total).toBe(all.length);
      expect(p.page).toBe(page);
      seen.push(...p.rows);
      if (p.rows.length < pageSize) break;
    }
    expect(seen).toEqual(newestFirst(all));
    const beyond = await http.api.listTrades({ page: Math.ceil(all.length / pageSize) + 5, pageSize });
    expect(beyond).toMatchObject({ rows: [], total: all.length });
  });

  const filters: [string, () => TradeFilterParams][] = [
    ['symbol', () => ({ symbol: 'hc9999.SIM' })],
    ['side', () => ({ side: 'sell' })],
    ['variant', () => ({ variant: 'rig-rb-15m' })],
    ['date range', () => middleRange()],
    ['datetime bounds, inclusive', () => ({ from: formatDatetime((all[3] as JournalTrade).time), to: formatDatetime((all.at(-4) as JournalTrade).time) })],
    ['variant + side + range', () => ({ variant: 'rig-hc-5m', side: 'buy', ...middleRange() })],
    ['a symbol nobody trades', () => ({ symbol: 'zz0000.NONE' })],
  ];
  it.each(filters)('filters by %s like a plain filter of the journal', async (_name, make) => {
    const f = make();
    const expected = byHand(f);
    const viaRest = await rest<TradePage>('/api/trades/list', { ...f, pageSize: 1000 });
    const viaClient = await http.api.listTrades({ ...f, pageSize: 1000 });
    expect(viaRest.status).toBe(200);
    expect(viaRest.body.total).toBe(expected.length);
    expect(viaRest.body.rows).toEqual(newestFirst(expected));
    expect(viaClient).toEqual(viaRest.body);
  });

  it('refuses what it cannot answer, naming the field', async () => {
    const cases: [Record<string, string | number>, RegExp][] = [
      [{ side: 'long' }, /side/],
      [{ pageSize: 1001 }, /pageSize/],
      [{ page: 0 }, /page/],
      [{ from: '2025-13-01' }, /from/],
      [{ from: '2025-02-01', to: '2025-01-01' }, /after/],
    ];
    for (const [params, message] of cases) {
      const res = await rest<{ error: string }>('/api/trades/list', params);
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(res.body.error).toMatch(message);
    }
  });
});

describe('listTradeSymbols', () => {
  it('lists the distinct variants and symbols, sorted', async () => {
    const { body } = await rest<TradeSymbols>('/api/trades/symbols');
    const sorted = (xs: string[]): string[] => [...new Set(xs)].sort();
    expect(body).toEqual({ variants: sorted(all.map((t) => t.variant)), symbols: sorted(all.map((t) => t.vtSymbol)) });
    expect(await http.api.listTradeSymbols({})).toEqual(body);
  });
});

describe('tradeStatistics', () => {
  /** What the API must answer: core's tradeStatistics on the hand-filtered rows, reshaped. */
  function expectedStatistics(rows: JournalTrade[], period: StatisticsPeriod, capital?: number): TradeStatisticsResult {
    const s = tradeStatistics(rows, { period, initialEquity: capital });
    return {
      period,
      periodsPerYear: s.periodsPerYear,
      capital: capital ?? null,
      totals: {
        fills: rows.length,
        trades: s.totalTrades,
        wins: s.wins,
        losses: s.losses,
        winRate: s.winRate,
        totalPnl: s.totalPnl,
        averagePnl: s.averagePnl,
        commission: s.totalCommission,
        maxDrawdown: s.maxDrawdown,
        maxDrawdownPct: s.maxDrawdownPct,
        sharpe: s.sharpe,
      },
      periods: s.periods.map((p) => ({
        period: p.period,
        start: p.start,
        trades: p.trades,
        wins: p.wins,
        losses: p.losses,
        winRate: p.trades > 0 ? p.wins / p.trades : null,
        pnl: p.pnl,
        cumulativePnl: p.cumulativePnl,
      })),
      bySymbol: s.bySymbol,
      equity: s.equityCurve.map((p) => ({ time: p.time, equity: p.equity })),
    };
  }

  const cases: [string, () => TradeFilterParams, StatisticsPeriod, number | undefined][] = [
    ['all fills, by day', () => ({}), 'day', undefined],
    ['all fills, by week, with capital', () => ({}), 'week', 1_000_000],
    ['one symbol, by month', () => ({ symbol: 'hc9999.SIM' }), 'month', undefined],
    ['one variant in a date range', () => ({ variant: 'rig-rb-15m', ...middleRange() }), 'day', 500_000],
    ['sells only', () => ({ side: 'sell' }), 'week', undefined],
  ];
  it.each(cases)('%s: core’s numbers on the same rows, nothing invented', async (_name, make, period, capital) => {
    const f = make();
    const rows = byHand(f);
    const { status, body } = await rest<TradeStatisticsResult>('/api/trades/statistics', { ...f, period, capital });
    expect(status).toBe(200);
    expect(body).toEqual(expectedStatistics(rows, period, capital));
    expect(await http.api.tradeStatistics({ ...f, period, capital })).toEqual(body);
    // And the plainest of them, counted here without core.
    const closes = rows.filter((t) => t.pnl !== null);
    expect(body.totals.trades).toBe(closes.length);
    expect(body.totals.wins).toBe(closes.filter((t) => (t.pnl ?? 0) > 0).length);
    expect(body.totals.totalPnl).toBeCloseTo(closes.reduce((a, t) => a + (t.pnl ?? 0), 0), 6);
    expect(body.totals.commission).toBeCloseTo(rows.reduce((a, t) => a + t.commission, 0), 6);
    expect(body.equity).toHaveLength(closes.length);
    expect(body.periods.reduce((a, p) => a + p.trades, 0)).toBe(closes.length);
  });

  it('has a finite Sharpe over many days, and null for a single period', async () => {
    const many = await http.api.tradeStatistics({ period: 'day' });
    expect(many.periods.length).toBeGreaterThan(10);
    expect(Number.isFinite(many.totals.sharpe)).toBe(true);

    // One calendar date before the 21:00 roll: exactly one trading day.
    const close = all.find((t) => t.pnl !== null && formatDatetime(t.time).slice(11) < '21:00:00') as JournalTrade;
    const day = dateOf(close);
    const one = await http.api.tradeStatistics({ from: `${day} 00:00:00`, to: `${day} 20:59:59`, period: 'day' });
    expect(one.periods.map((p) => p.period)).toEqual([day]);
    expect(one.totals.trades).toBeGreaterThan(0);
    expect(one.totals.sharpe).toBeNull();
    const raw = await rest<{ totals: { sharpe: unknown } }>('/api/trades/statistics', { from: `${day} 00:00:00`, to: `${day} 20:59:59` });
    expect(raw.body.totals.sharpe).toBeNull();
  });

  it('answers an empty filter with zeros and nulls, not NaN', async () => {
    const s = await http.api.tradeStatistics({ symbol: 'zz0000.NONE', period: 'week' });
    expect(s.totals).toEqual({
      fills: 0,
      trades: 0,
      wins: 0,
      losses: 0,
      winRate: null,
      totalPnl: 0,
      averagePnl: null,
      commission: 0,
      maxDrawdown: 0,
      maxDrawdownPct: null,
      sharpe: null,
    });
    expect([s.periods, s.bySymbol, s.equity]).toEqual([[], [], []]);
  });
});

describe('CSV export (the renderer’s page walk)', () => {
  it('collects every fill of the filter, oldest first, one line each after the header', async () => {
    const f: TradeFilterParams = { side: 'buy' };
    const expected = byHand(f).map(wire);
    const rows = await fetchAllTrades(http.api, f);
    expect(rows).toEqual(expected);
    const lines = tradesCsv(rows).split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(expected.length + 2);
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    const first = expected[0] as Trade;
    expect(lines[1]).toBe(
      [first.id, first.variant, first.vtSymbol, first.datetime, first.tradingDay, first.side, first.offset, first.price, first.volume, first.commission, first.pnl ?? ''].join(','),
    );
  });
});

describe('the Trades screen’s store on the real API', () => {
  it('holds the API’s answers: a filter goes back to page 1, paging stays within the fills, a period reloads the statistics', async () => {
    const store = createTradesStore(() => http.api);
    await store.getState().refresh(true);
    expect(store.getState().tradePage).toEqual(await http.api.listTrades({}));
    expect(store.getState().statistics).toEqual(await http.api.tradeStatistics({}));
    expect(store.getState().symbols).toEqual(await http.api.listTradeSymbols({}));

    const pages = Math.ceil(all.length / 100);
    store.getState().setPage(pages + 3);
    await waitFor('the last page', () => !store.getState().pageLoading && store.getState().tradePage?.page === pages);
    expect(store.getState().tradePage?.rows).toEqual(newestFirst(all).slice((pages - 1) * 100));

    store.getState().setFilter({ side: 'sell', symbol: 'hc9999.SIM' });
    expect(store.getState().page).toBe(1);
    const f: TradeFilterParams = { side: 'sell', symbol: 'hc9999.SIM' };
    await waitFor('the filtered page and statistics', () => {
      const s = store.getState();
      return !s.pageLoading && !s.statsLoading && s.tradePage?.page === 1 && s.statistics?.totals.fills === byHand(f).length;
    });
    expect(store.getState().tradePage?.rows).toEqual(newestFirst(byHand(f)).slice(0, 100));
    expect(store.getState().statistics).toEqual(await http.api.tradeStatistics(f));

    store.getState().setPeriod('month');
    await waitFor('monthly statistics', () => !store.getState().statsLoading && store.getState().statistics?.period === 'month');
    expect(store.getState().statistics).toEqual(await http.api.tradeStatistics({ ...f, period: 'month' }));
  });
});

describe('a worker journalling while the workstation serves', () => {
  it('shows fills committed after start on the next call, with totals and statistics that agree', async () => {
    const before = await http.api.listTrades({ pageSize: 1 });
    const rb = rig(dataDir, { name: 'rig-rb-15m' });
    try {
      await rb.runner.restore();
      for (let i = 0; i < 4; i++) {
        await rb.store.write(rbTape.next(5 * DAY));
        await rb.runner.follow();
        // Read while the worker's connection is open and writing.
        const p = await http.api.listTrades({ pageSize: 1 });
        expect(p.total).toBe(journal.countTrades());
      }
    } finally {
      await rb.close();
    }
    all = journal.trades();
    const after = await http.api.listTrades({ pageSize: 1000 });
    expect(after.total).toBeGreaterThan(before.total);
    expect(after.rows).toEqual(newestFirst(all).slice(0, 1000));
    const stats = await http.api.tradeStatistics({});
    expect(stats.totals.fills).toBe(all.length);
  });
});
