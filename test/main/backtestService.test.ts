import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/core/backtest/runBacktest.js';
import { columnsOf, readSharedBars } from '../../src/io/backtest/barCache.js';
import type { BacktestProgress, BacktestSummary } from '../../src/shared/backtest.js';
import { backtestJobSchema, rangeOfJob } from '../../src/shared/backtest.js';
import type { CallContext } from '../../src/shared/api.js';
import { ACTIVE_MACD_TD, seedDataDir } from '../backtest/fixtures.js';
import { freshDir, waitFor } from '../helpers.js';
import { startHarness, type Harness } from './workstationHarness.js';

const ctx: CallContext = { origin: 'rest', controlAllowed: true };
const JOB = { strategy: 'macd-td', params: ACTIVE_MACD_TD, symbols: ['i9999.SIM', 'm9999.SIM', 'rb9999.SIM'], from: '2025-01-06', to: '2027-12-31', windowMinutes: 15 };

let harness: Harness;
let tmp: { dir: string; remove: () => void };
const progress: BacktestProgress[] = [];
const updates: BacktestSummary[] = [];

beforeAll(async () => {
  tmp = freshDir('backtests');
  seedDataDir(tmp.dir, 400_000);
  harness = await startHarness({ dataDir: tmp.dir, controlEnabled: true, settings: { demo: { enabled: false, speed: 60, seed: 1 }, variants: [] } });
  harness.workstation.bus.on('backtestProgress', (p) => progress.push(p));
  harness.workstation.bus.on('backtestUpdated', (s) => updates.push(s));
});
afterAll(async () => {
  await harness.stop();
  tmp.remove();
});

const h = () => harness.workstation.handlers;
const statusOf = async (id: string) => (await h().listBacktests({}, ctx)).find((b) => b.id === id)?.status;

describe('backtests through the workstation', () => {
  it('runs a job in the job runner: progress events rise, the result is stored and served, equal to runBacktest', async () => {
    const { id } = await h().startBacktest(backtestJobSchema.parse(JOB), ctx);
    await waitFor('completed', async () => (await statusOf(id)) === 'completed', 240_000);
    const mine = progress.filter((p) => p.id === id).map((p) => p.barsDone);
    expect(mine.length).toBeGreaterThan(2);
    for (let i = 1; i < mine.length; i++) expect(mine[i]).toBeGreaterThan(mine[i - 1] as number);
    const result = await h().getBacktest({ id }, ctx);
    const direct = runBacktest(backtestJobSchema.parse(JOB), JOB.symbols.map((vt) => columnsOf(readSharedBars(join(tmp.dir, 'cache', `${vt}.1m.arrow`), vt))));
    expect(result.trades).toEqual(direct.trades);
    expect(result.statistics).toEqual(direct.statistics);
    expect(result.barsDone).toBe(direct.barsDone);
    expect(result.kestrelVersion).toBe('0.1.0');
    expect(result.barsPerSecond).toBeGreaterThan(0);
    expect(result.months.length).toBeGreaterThan(0);
    const csv = await h().exportBacktest({ id, what: 'trades' }, ctx);
    expect(csv.csv.trim().split('\n')).toHaveLength(direct.trades.length + 1);
  }, 300_000);

  it("serves a result's K-line a page at a time: window bars inside its range only, the strategy's marks, the live history's values", async () => {
    const job = backtestJobSchema.parse({ ...JOB, symbols: ['rb9999.SIM'], from: '2025-01-10', to: '2025-01-31' });
    const { id } = await h().startBacktest(job, ctx);
    await waitFor('completed', async () => (await statusOf(id)) === 'completed', 240_000);
    const range = rangeOfJob(job);
    const first = await h().getBacktestBars({ id, vtSymbol: 'rb9999.SIM', count: 100 }, ctx);
    expect(first.windowMinutes).toBe(15);
    expect(first.display.marks).toEqual(['td']);
    expect(first.bars).toHaveLength(100);
    expect(first.hasMore).toBe(true);
    // The same bars and values the live chart's history gives for that stretch.
    const live = await h().getBarHistory({ vtSymbol: 'rb9999.SIM', windowMinutes: 15, before: range.to + 1, count: 100 }, ctx);
    expect(first.bars).toEqual(live.bars);
    const bars = [...first.bars];
    const marks = [...first.marks];
    let page = first;
    while (page.hasMore) {
      page = await h().getBacktestBars({ id, vtSymbol: 'rb9999.SIM', count: 100, before: bars[0]?.time as number }, ctx);
      bars.unshift(...page.bars);
      marks.unshift(...page.marks);
    }
    expect(bars.length).toBeGreaterThan(300);
    expect(bars[0]?.time).toBeGreaterThanOrEqual(range.from);
    expect(bars.at(-1)?.time).toBeLessThanOrEqual(range.to);
    for (let i = 1; i < bars.length; i++) expect(bars[i]?.time).toBeGreaterThan(bars[i - 1]?.time as number);
    expect(marks.length).toBeGreaterThan(0);
    expect(marks.every((m) => m.time >= range.from && m.time <= range.to)).toBe(true);
    await expect(h().getBacktestBars({ id, vtSymbol: 'i9999.SIM', count: 100 }, ctx)).rejects.toMatchObject({ status: 400, fields: [{ path: 'vtSymbol' }] });
  }, 300_000);

  it('pause holds the bar count still; cancel ends the job as cancelled', async () => {
    const { id } = await h().startBacktest(backtestJobSchema.parse(JOB), ctx);
    await waitFor('running', () => progress.some((p) => p.id === id), 120_000);
    await h().pauseBacktest({ id }, ctx);
    const paused = await waitFor('a paused report', () => progress.filter((p) => p.id === id).find((p) => p.status === 'paused'));
    expect(await statusOf(id)).toBe('paused');
    await h().cancelBacktest({ id }, ctx);
    await waitFor('cancelled', async () => (await statusOf(id)) === 'cancelled');
    const done = await h().getBacktest({ id }, ctx);
    // Nothing moved between the pause and the cancel.
    expect(done.barsDone).toBe(paused.barsDone);
    expect(progress.filter((p) => p.id === id).at(-1)?.barsDone).toBe(paused.barsDone);
  }, 300_000);

  it('a job whose runner is SIGKILLed is marked interrupted, and re-runs with one call', async () => {
    const { id } = await h().startBacktest(backtestJobSchema.parse(JOB), ctx);
    await waitFor('running', () => progress.some((p) => p.id === id), 120_000);
    const pid = harness.workstation.backtests.runnerPid;
    expect(pid).not.toBeNull();
    process.kill(pid as number, 'SIGKILL');
    await waitFor('interrupted', async () => (await statusOf(id)) === 'interrupted');
    expect(updates.some((u) => u.id === id && u.status === 'interrupted')).toBe(true);
    const again = await h().rerunBacktest({ id }, ctx);
    await waitFor('re-run completed', async () => (await statusOf(again.id)) === 'completed', 240_000);
  }, 300_000);

  it('refuses a bad job with the field named', async () => {
    await expect(h().startBacktest(backtestJobSchema.parse({ ...JOB, symbols: ['nope.SIM'] }), ctx)).rejects.toMatchObject({ status: 400, fields: [{ path: 'symbols.0' }] });
    await expect(h().startBacktest(backtestJobSchema.parse({ ...JOB, params: { signal: { fast: 0 } } }), ctx)).rejects.toMatchObject({ status: 400, fields: [{ path: 'params.signal.fast' }] });
  });

  it('runs a sweep and serves it with its aggregate', async () => {
    const { id, runs } = await h().startSweep({ job: backtestJobSchema.parse({ ...JOB, symbols: ['rb9999.SIM'] }), parameters: { 'stopLoss.value': { values: [20, 40] } }, mode: 'grid', seed: 1 }, ctx);
    expect(runs).toBe(2);
    const sweep = await waitFor('sweep done', async () => {
      const s = await h().getSweep({ id }, ctx);
      return s.aggregate.counts.completed === 2 ? s : undefined;
    }, 240_000);
    expect(Object.values(sweep.points)).toEqual([{ 'stopLoss.value': 20 }, { 'stopLoss.value': 40 }]);
    expect(sweep.aggregate.best.totalPnl).not.toBeUndefined();
  }, 300_000);
});
