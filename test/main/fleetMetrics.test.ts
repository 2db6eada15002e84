/**
 * The fleet series on a live scrape, each triggered by the real part that produces it: risk
 * refusals by a real worker's risk gate (and counted once across a SIGKILL and restore), the
 * allocator's denials by real worker processes asking over the real IPC channel, and backtest
 * jobs run by the real job runner.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { registerStrategy } from '../../src/core/strategy/registry.js';
import { readSnapshotFile } from '../../src/io/snapshotFile.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { NodeHost } from '../../src/main/node/nodeHost.js';
import { openSettingsFile } from '../../src/main/workstation/settingsFile.js';
import { Workstation } from '../../src/main/workstation/workstation.js';
import type { CallContext } from '../../src/shared/api.js';
import { backtestJobSchema } from '../../src/shared/backtest.js';
import { settingsSchema } from '../../src/shared/config.js';
import { RISK_REFUSAL_REASONS } from '../../src/shared/risk.js';
import { snapshotFileName } from '../../src/shared/snapshot.js';
import { formatDatetime } from '../../src/shared/time.js';
import { KESTREL_VERSION } from '../../src/shared/version.js';
import { STRATEGY_MODULES_ENV } from '../../src/worker/strategyModules.js';
import { ACTIVE_MACD_TD, seedDataDir } from '../backtest/fixtures.js';
import { simulatedTape } from '../continuity/tapeSources.js';
import { ALLOCATION_TEST_ENV, type AllocationWorkerConfig } from '../fixtures/allocationWorkerConfig.js';
import { freshDir, waitFor } from '../helpers.js';
import maCross from '../strategies/maCross.js';
import { find, one, scrapeUrl } from './exposition.js';
import { startHarness, type Harness } from './workstationHarness.js';

const CONTROL: CallContext = { origin: 'rest', controlAllowed: true };
const DAY = 345;

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setEnv(name: string, value: string): void {
  const before = process.env[name];
  process.env[name] = value;
  cleanups.push(() => {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  });
}

async function scrapeOf(ws: Workstation): Promise<Awaited<ReturnType<typeof scrapeUrl>>> {
  const address = ws.metricsAddress();
  if (!address) throw new Error('no metrics endpoint');
  return scrapeUrl(address.url);
}

describe('fleet series on a live scrape', () => {
  it("risk refusals: a real worker's gate refusals by reason, counted once across a SIGKILL and restore", async () => {
    registerStrategy(maCross);
    setEnv(STRATEGY_MODULES_ENV, join(import.meta.dirname, '..', 'strategies', 'maCross.ts'));
    const tmp = freshDir('fleet-refusals');
    cleanups.push(tmp.remove);
    const tape = simulatedTape(31, 34 * DAY);
    const writer = SqliteBarStore.open(join(tmp.dir, 'kestrel.db'));
    cleanups.push(() => writer.close());
    const history = 20 * DAY;
    await writer.write(tape.bars.slice(0, history));
    const variant = 'ma-refused';
    // One open per product and day: every cross after the first of a day opens into the limit.
    const params = { fast: 3, slow: 8, maxDailyOpenPerProduct: 1, maxDailyOpenGlobal: 50 };
    const h = await startHarness({
      dataDir: tmp.dir,
      controlEnabled: true,
      settings: {
        demo: { enabled: false, speed: 60, seed: 1 },
        variants: [{ name: variant, strategy: 'ma-cross', vtSymbol: tape.vtSymbol, windowMinutes: 15, pollMs: 40, params }],
        supervisor: { backoffInitialMs: 50, backoffMaxMs: 200, maxCrashes: 1_000, crashWindowMs: 60_000 },
        metrics: { port: 0 },
      },
    });
    cleanups.push(() => h.stop());
    const ws = h.workstation;
    await waitFor('restored', () => ws.summaryOf(variant).status === 'running', 60_000);
    const gateCounts = (): Record<string, number> => {
      const read = readSnapshotFile(join(tmp.dir, 'monitor', snapshotFileName(variant)));
      if (!read.ok) throw new Error(read.error);
      return Object.fromEntries(RISK_REFUSAL_REASONS.map((r) => [r, read.snapshot.counters[`refused.${r}`] ?? 0]));
    };
    // What the gate held after the first restore (restore's replay) is not the live refusals'.
    const base = gateCounts();
    const feed = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i += 240) {
        await writer.write(tape.bars.slice(i, Math.min(i + 240, to)));
        await new Promise((r) => setTimeout(r, 25));
      }
      const last = formatDatetime(tape.bars[to - 1]!.time);
      await waitFor(`bars up to ${last} processed`, () => ws.summaryOf(variant).lastBarAt === last && ws.summaryOf(variant).status === 'running', 120_000, 100);
    };
    /** The scrape agrees with the gate's own counts (since main started) for every reason; resolves the scrape's counts. */
    const agreed = (what: string): Promise<Record<string, number>> =>
      waitFor(
        what,
        async () => {
          const { samples } = await scrapeOf(ws);
          const gate = gateCounts();
          const scraped = Object.fromEntries(RISK_REFUSAL_REASONS.map((r) => [r, find(samples, 'kestrel_risk_refused_total', { variant, reason: r })[0]?.value ?? -1]));
          return RISK_REFUSAL_REASONS.every((r) => scraped[r] === gate[r]! - base[r]!) ? scraped : undefined;
        },
        60_000,
        250,
      );

    await feed(history, history + 6 * DAY);
    const first = await agreed('the first refusals on the scrape');
    expect(first['dailyOpenLimitProduct']).toBeGreaterThan(0);

    // SIGKILL: the new worker restores the gate's counts with its state; they must not be counted again.
    const pid = ws.supervisorInfo(variant)?.pid;
    expect(pid).toBeTruthy();
    process.kill(pid!, 'SIGKILL');
    await waitFor('restarted', () => ws.supervisorInfo(variant)?.restarts === 1 && ws.summaryOf(variant).status === 'running', 60_000);
    await feed(history + 6 * DAY, tape.bars.length);
    const second = await agreed('the refusals after the restart on the scrape');
    expect(second['dailyOpenLimitProduct']).toBeGreaterThan(first['dailyOpenLimitProduct']!);
    const { samples, types } = await scrapeOf(ws);
    expect(types.get('kestrel_risk_refused_total')).toBe('counter');
    expect(find(samples, 'kestrel_risk_refused_total', { variant }).map((s) => s.labels['reason']).sort()).toEqual([...RISK_REFUSAL_REASONS].sort());
  }, 300_000);

  it("the allocator: real workers' buys denied over IPC, use, allocations and rebalances as the group's status says", async () => {
    const tmp = freshDir('fleet-allocator');
    cleanups.push(tmp.remove);
    const members = ['alloc-a', 'alloc-b'];
    const group = {
      name: 'spot',
      totalFunds: 10_000,
      globalMaxUsage: 0.8,
      strategy: 'WEIGHTED' as const,
      symbols: [{ symbol: 'BTC.SIM', weight: 3, maxUsagePct: 0.4 }, { symbol: 'ETH.SIM', weight: 2 }, { symbol: 'SOL.SIM', weight: 1 }],
      members,
    };
    const cfg: AllocationWorkerConfig = {
      group: 'spot',
      symbols: group.symbols.map((s) => s.symbol),
      rounds: 300,
      burst: 2,
      amountRange: [200, 900],
      releaseChance: 0.4,
      outDir: tmp.dir,
      stateDir: null,
      reportDelayMs: {},
      timeoutMs: 60_000,
    };
    writeFileSync(join(tmp.dir, 'cfg.json'), JSON.stringify(cfg));
    setEnv(ALLOCATION_TEST_ENV, join(tmp.dir, 'cfg.json'));
    const settings = settingsSchema.parse({
      demo: { enabled: false, speed: 60, seed: 1 },
      variants: members.map((name) => ({ name, vtSymbol: 'BTC.SIM', windowMinutes: 1 })),
      allocation: { groups: [group] },
      metrics: { port: 0 },
    });
    const settingsStore = openSettingsFile(tmp.dir);
    settingsStore.write(settings);
    // The shipped worker sends no allocation requests yet (no grid adapter): the allocator's test worker stands in for it.
    const host = new NodeHost({ path: fileURLToPath(new URL('../fixtures/allocationWorker.ts', import.meta.url)), execArgv: ['--import', 'tsx'] });
    const ws = new Workstation({ settingsStore, host, dataDir: tmp.dir, settings, controlEnabled: true, version: KESTREL_VERSION });
    await ws.start();
    cleanups.push(async () => {
      await ws.stop();
      host.killAll();
    });
    await waitFor('both workers done', () => members.every((m) => existsSync(join(tmp.dir, `${m}.json`))), 240_000, 200);
    const outcomes = members.map((m) => JSON.parse(readFileSync(join(tmp.dir, `${m}.json`), 'utf8')) as { granted: number; denied: number });
    const denied = outcomes.reduce((n, o) => n + o.denied, 0);
    expect(denied).toBeGreaterThan(0);

    const status = ws.allocation.status('spot');
    const { samples, types } = await scrapeOf(ws);
    expect(types.get('kestrel_allocator_blocked_total')).toBe('counter');
    expect(types.get('kestrel_allocator_rebalances_total')).toBe('counter');
    // Every denial the workers saw, per symbol as the authority counted it.
    expect(find(samples, 'kestrel_allocator_blocked_total', { group: 'spot' }).reduce((n, s) => n + s.value, 0)).toBe(denied);
    for (const s of status.symbols) {
      expect(one(samples, 'kestrel_allocator_blocked_total', { group: 'spot', symbol: s.symbol })).toBe(s.blockedTrades);
      expect(one(samples, 'kestrel_allocator_allocated', { group: 'spot', symbol: s.symbol })).toBeCloseTo(s.allocatedAmount, 6);
      expect(one(samples, 'kestrel_allocator_usage_ratio', { group: 'spot', symbol: s.symbol })).toBeCloseTo(s.usedAmount / s.allocatedAmount, 9);
    }
    expect(one(samples, 'kestrel_allocator_usage_ratio', { group: 'spot', symbol: '*' })).toBeCloseTo(status.globalUsed / (10_000 * 0.8), 9);
    expect(one(samples, 'kestrel_allocator_rebalances_total', { group: 'spot' })).toBe(status.rebalances);
  }, 300_000);

  it('backtests: jobs by state, the duration histogram and bars per second of real jobs in the job runner', async () => {
    const tmp = freshDir('fleet-backtests');
    cleanups.push(tmp.remove);
    seedDataDir(tmp.dir, 3_000);
    const h: Harness = await startHarness({ dataDir: tmp.dir, controlEnabled: true, settings: { demo: { enabled: false, speed: 60, seed: 1 }, variants: [], metrics: { port: 0 } } });
    cleanups.push(() => h.stop());
    const api = h.workstation.handlers;
    const job = backtestJobSchema.parse({ strategy: 'macd-td', params: ACTIVE_MACD_TD, symbols: ['rb9999.SIM'], from: '2025-01-06', to: '2025-12-31', windowMinutes: 15 });
    const before = await scrapeOf(h.workstation);
    // Every state and kind is there from the start, at 0.
    expect(find(before.samples, 'kestrel_backtest_jobs').every((s) => s.value === 0)).toBe(true);
    expect(find(before.samples, 'kestrel_backtest_jobs')).toHaveLength(7);
    expect(one(before.samples, 'kestrel_backtest_duration_seconds_count', { kind: 'backtest' })).toBe(0);

    const { id } = await api.startBacktest(job, CONTROL);
    const { id: sweepId } = await api.startSweep({ job, parameters: { 'stopLoss.value': { values: [20, 40] } }, mode: 'grid', seed: 1 }, CONTROL);
    const statusOf = async (): Promise<string[]> => (await api.listBacktests({}, CONTROL)).map((b) => b.status);
    await waitFor('three jobs completed', async () => (await statusOf()).filter((s) => s === 'completed').length === 3, 240_000, 200);
    const single = await api.getBacktest({ id }, CONTROL);
    const runs = (await api.getSweep({ id: sweepId }, CONTROL)).runs;
    const { samples } = await scrapeOf(h.workstation);
    expect(one(samples, 'kestrel_backtest_jobs', { state: 'completed' })).toBe(3);
    expect(one(samples, 'kestrel_backtest_jobs', { state: 'queued' })).toBe(0);
    expect(one(samples, 'kestrel_backtest_duration_seconds_count', { kind: 'backtest' })).toBe(1);
    expect(one(samples, 'kestrel_backtest_duration_seconds_sum', { kind: 'backtest' })).toBeCloseTo(single.durationMs! / 1000, 9);
    expect(one(samples, 'kestrel_backtest_duration_seconds_count', { kind: 'sweep' })).toBe(2);
    expect(one(samples, 'kestrel_backtest_duration_seconds_sum', { kind: 'sweep' })).toBeCloseTo(runs.reduce((s, r) => s + r.durationMs! / 1000, 0), 9);
    expect(one(samples, 'kestrel_backtest_bars_per_second', { kind: 'backtest' })).toBeCloseTo(single.barsDone / (single.durationMs! / 1000), 6);
    expect(single.barsDone).toBeGreaterThan(0);
  }, 300_000);
});
