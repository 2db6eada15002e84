/**
 * Real data through a real grid worker: freqtrade's 1-minute bars of a BTC-quoted pair (a 24 h
 * market with real holes) imported as a user would (`kestrel import`, JSON columns by position,
 * epoch-ms, UTC), then replayed through a grid variant in its own worker process, in an allocation
 * group whose authority runs in main. Every fill must be at a grid level (or at the bar's open when
 * the bar opened through the level: a gap), and main's grants must never exceed the symbol's
 * allocation or the group's budget, checked on every decision main took.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gridLevels } from '../../src/core/strategy/grid/gridLevels.js';
import { openSqliteDatabase } from '../../src/io/sqliteDatabase.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { TradingJournal } from '../../src/io/tradingJournal.js';
import { readSnapshotFile } from '../../src/io/snapshotFile.js';
import { importCommand } from '../../src/main/cli/import.js';
import type { AllocationEvent } from '../../src/main/workstation/allocation/allocationAuthority.js';
import { parseGridParams } from '../../src/shared/gridParams.js';
import { snapshotFileName } from '../../src/shared/snapshot.js';
import { PROJECT_ROOT, runCommand } from '../cli/cliHarness.js';
import { freshDir, waitFor } from '../helpers.js';
import { collect } from '../io/storeFixtures.js';
import { startHarness, type Harness } from '../main/workstationHarness.js';

const FREQTRADE = join(PROJECT_ROOT, '..', 'shared', 'data', 'freqtrade_UNITTEST_BTC-1m.json');
const haveData = existsSync(FREQTRADE);
if (!haveData) console.warn('../shared/data is absent (a fresh clone has none): the grid real-data test is skipped');

const VT = 'UNITTEST_BTC.BINANCE';
const LAST = '2017-11-08 23:59:00';
const params = parseGridParams({
  lower: 0.00175,
  upper: 0.0021,
  levels: 15,
  spacing: 'arithmetic',
  size: { kind: 'quote', amount: 0.05 },
  stopBelow: null,
  stopAbove: null,
  group: 'crypto',
  priceTick: 0.00000001,
  contractMultiplier: 1,
  slippageTicks: 0,
});


function gridSettings(speed: number) {
  return {
    demo: { enabled: false, speed: 60, seed: 1 },
    // One symbol capped at 30 % of 1 BTC: about six of the grid's 0.05 BTC levels, fewer than it wants.
    allocation: { groups: [{ name: 'crypto', totalFunds: 1, globalMaxUsage: 0.8, symbols: [{ symbol: VT, maxUsagePct: 0.3 }], members: ['grid-btc'] }] },
    variants: [
      {
        name: 'grid-btc',
        strategy: 'grid',
        vtSymbol: VT,
        windowMinutes: 1,
        pollMs: 40,
        feed: { kind: 'replay' as const, from: '2017-11-07 00:00:00', to: LAST, speed },
        params: { ...params },
      },
    ],
    supervisor: { backoffInitialMs: 50, backoffMaxMs: 200, maxCrashes: 1_000, crashWindowMs: 60_000 },
  };
}

async function importFreqtrade(dataDir: string): Promise<void> {
  const imported = await runCommand(importCommand, [
    '--file', FREQTRADE, '--symbol', 'UNITTEST_BTC', '--exchange', 'BINANCE',
    '--columns', 'datetime=0,open=1,high=2,low=3,close=4,volume=5', '--datetime-format', 'epoch-ms', '--tz', 'UTC',
    '--data-dir', dataDir,
  ]);
  expect(imported.stderr).toBe('');
  expect(imported.code).toBe(0);
}

interface SavedGrid {
  engine: { broker: { orders: unknown[]; nextOrderSeq: number }; strategyState: { data: { slots: { lots: number; cost: number | null }[] } } };
}

function savedState(dataDir: string): SavedGrid {
  const journal = TradingJournal.open(join(dataDir, 'kestrel.db'));
  try {
    return JSON.parse(journal.loadState('grid-btc')?.json ?? 'null') as SavedGrid;
  } finally {
    journal.close();
  }
}

interface OrderRow {
  id: string;
  side: string;
  price: number;
  volume: number;
  status: string;
  created_at: string;
}

function ordersOf(dataDir: string): (OrderRow & { seq: number })[] {
  const db = openSqliteDatabase(join(dataDir, 'kestrel.db'), { readonly: true });
  try {
    const rows = db.prepare("SELECT id, side, price, volume, status, created_at FROM orders WHERE variant = 'grid-btc'").all() as OrderRow[];
    return rows.map((r) => ({ ...r, seq: Number(r.id.slice('grid-btc-O'.length)) }));
  } finally {
    db.close();
  }
}

function snapshotOf(dataDir: string) {
  const read = readSnapshotFile(join(dataDir, 'monitor', snapshotFileName('grid-btc')));
  return read.ok ? read.snapshot : null;
}

let harness: Harness | null = null;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await harness?.stop();
  harness = null;
  for (const c of cleanups.splice(0)) c();
});

describe.skipIf(!haveData)('a grid on real crypto bars, in an allocation group', () => {
  it('fills only at grid levels and never gets more than its allocation', async () => {
    const tmp = freshDir('grid-real');
    cleanups.push(tmp.remove);
    await importFreqtrade(tmp.dir);

    harness = await startHarness({ dataDir: tmp.dir, controlEnabled: false, settings: gridSettings(12_000) });
    const ws = harness.workstation;
    const decisions: AllocationEvent[] = [];
    cleanups.push(ws.allocation.onDecision((_group, e) => decisions.push(e)));

    await waitFor('the replay reached its end', () => ws.summaryOf('grid-btc').lastBarAt === LAST, 240_000, 100);
    // Main has heard the last releases: its use equals what the worker holds (checked below).
    const held = (): number => {
      const snap = snapshotOf(tmp.dir);
      if (snap === null) return Number.NaN;
      const positions = snap.positions.reduce((sum, p) => sum + p.avgPrice * p.volume, 0);
      const buys = snap.orders.filter((o) => o.side === 'buy' && o.price !== null).reduce((sum, o) => sum + (o.price ?? 0) * o.volume, 0);
      return positions + buys;
    };
    const mainUse = (): number => ws.allocation.status('crypto').symbols[0]?.usedAmount ?? Number.NaN;
    await waitFor('main’s use equals the worker’s positions at cost plus resting buys', () => Math.abs(mainUse() - held()) < 1e-9, 30_000, 100);
    await harness.stop();
    harness = null;

    // Nothing was granted before the worker had reported its use.
    expect(decisions[0]?.kind).toBe('report');
    const grants = decisions.filter((e) => e.kind === 'grant');
    const denials = decisions.filter((e) => e.kind === 'deny');
    expect(grants.length).toBeGreaterThan(10);
    expect(denials.length).toBeGreaterThan(0);
    for (const e of decisions) {
      expect(e.used).toBeLessThanOrEqual(e.allocated + 1e-12);
      expect(e.globalUsed).toBeLessThanOrEqual(e.budget + 1e-12);
    }
    expect(grants.every((e) => e.allocated <= 0.3 + 1e-12)).toBe(true);

    const levels = new Set(gridLevels(params));
    const store = SqliteBarStore.open(join(tmp.dir, 'kestrel.db'), { readonly: true });
    const journal = TradingJournal.open(join(tmp.dir, 'kestrel.db'));
    try {
      const bars = new Map((await collect(store.loadRange({ symbol: 'UNITTEST_BTC', exchange: 'BINANCE', interval: '1m' }))).items.map((b) => [b.time, b]));
      const trades = journal.trades({ variant: 'grid-btc' });
      expect(trades.length).toBeGreaterThan(10);
      let atLevel = 0;
      for (const t of trades) {
        if (levels.has(t.price)) {
          atLevel++;
          continue;
        }
        // Off a level only through a gap: the bar opened beyond a level and the limit filled at that open.
        const bar = bars.get(t.time);
        expect(bar, `bar of trade ${t.id}`).toBeDefined();
        expect(t.price, `trade ${t.id} ${t.side} at ${String(t.price)}`).toBe(bar?.open);
        const crossed = [...levels].some((l) => (t.side === 'buy' ? (bar?.open ?? 0) < l : (bar?.open ?? Infinity) > l));
        expect(crossed).toBe(true);
      }
      expect(atLevel).toBeGreaterThan(trades.length / 2);
    } finally {
      journal.close();
      await store.close();
    }
  }, 300_000);

  it('cancels its resting orders at a graceful stop and places them again from its state after the restart', async () => {
    const tmp = freshDir('grid-stop');
    cleanups.push(tmp.remove);
    await importFreqtrade(tmp.dir);
    harness = await startHarness({ dataDir: tmp.dir, controlEnabled: false, settings: gridSettings(3_000) });
    const first = harness.workstation;
    await waitFor('the grid holds lots and rests orders', () => {
      const snap = snapshotOf(tmp.dir);
      return snap !== null && snap.positions.length > 0 && snap.orders.some((o) => o.side === 'sell') && snap.orders.some((o) => o.side === 'buy');
    }, 120_000, 50);
    await harness.stop();
    harness = null;

    // Saved with nothing resting; the lots and their buy prices are kept.
    const saved = savedState(tmp.dir);
    expect(saved.engine.broker.orders).toEqual([]);
    const filled = saved.engine.strategyState.data.slots.map((s, i) => ({ ...s, i })).filter((s) => s.lots > 0);
    expect(filled.length).toBeGreaterThan(0);
    const levels = gridLevels(params);
    const expectedSells = filled.map((s) => `sell ${String(levels[s.i + 1])} ${String(s.lots)}`).sort();
    const atCost = filled.reduce((sum, s) => sum + s.lots * (s.cost ?? 0), 0);
    // The cancelled buys' reservations went back before the worker exited: main held only the lots at cost.
    expect(first.allocation.status('crypto').symbols[0]?.usedAmount).toBeCloseTo(atCost, 12);

    harness = await startHarness({ dataDir: tmp.dir, controlEnabled: false, settings: gridSettings(3_000) });
    const decisions: AllocationEvent[] = [];
    cleanups.push(harness.workstation.allocation.onDecision((_g, e) => decisions.push(e)));
    // After the restart main re-derives the use from the report: the lots at cost, nothing resting.
    const report = await waitFor('the restored worker reported', () => decisions.find((e) => e.kind === 'report'), 60_000);
    expect(decisions[0]).toBe(report);
    expect(report.amount).toBeCloseTo(atCost, 12);
    // On the first live bar after the restart the sells come back at the levels above the filled ones, from the state alone.
    const placedAgain = await waitFor('the grid placed orders again', () => {
      const fresh = ordersOf(tmp.dir).filter((o) => o.seq >= saved.engine.broker.nextOrderSeq);
      return fresh.length > 0 ? fresh : undefined;
    }, 60_000, 20);
    const firstBar = placedAgain.reduce((min, o) => (o.created_at < min ? o.created_at : min), placedAgain[0]?.created_at ?? '');
    expect(placedAgain.filter((o) => o.created_at === firstBar && o.side === 'sell').map((o) => `sell ${String(o.price)} ${String(o.volume)}`).sort()).toEqual(expectedSells);
    // What rested at the stop was cancelled (and journalled so).
    const before = ordersOf(tmp.dir).filter((o) => o.seq < saved.engine.broker.nextOrderSeq);
    expect(before.some((o) => o.status === 'cancelled' && o.side === 'sell')).toBe(true);
    expect(before.filter((o) => o.status === 'pending')).toEqual([]);
  }, 300_000);

  it('SIGKILLed 8 times mid-trading: each restored worker reports before any grant, and main ends equal to what it holds', async () => {
    const tmp = freshDir('grid-kill');
    cleanups.push(tmp.remove);
    await importFreqtrade(tmp.dir);
    harness = await startHarness({ dataDir: tmp.dir, controlEnabled: false, settings: gridSettings(1_500) });
    const ws = harness.workstation;
    const decisions: AllocationEvent[] = [];
    cleanups.push(ws.allocation.onDecision((_g, e) => decisions.push(e)));
    await waitFor('the first report', () => decisions.some((e) => e.kind === 'report'), 60_000);
    const killedAt: number[] = [];
    for (let k = 0; k < 8; k++) {
      // Trade a little in this life (a grant or a fill), then kill the worker without warning.
      const since = decisions.length;
      await waitFor(`life ${String(k)} traded`, () => decisions.slice(since).some((e) => e.kind === 'grant' || e.kind === 'release'), 60_000, 10);
      const pid = await waitFor('a worker process', () => ws.supervisorInfo('grid-btc')?.pid ?? undefined, 30_000, 5);
      process.kill(pid, 'SIGKILL');
      // Requests the worker sent before it died may still be answered until main sees the exit
      // (they go to a dead process and its report resets its use); from then on nothing is granted
      // to the variant before its restarted worker reports.
      await waitFor(`main saw exit ${String(k)}`, () => ws.supervisorInfo('grid-btc')?.pid !== pid, 30_000, 5);
      killedAt.push(decisions.length);
      await waitFor(`report after kill ${String(k)}`, () => decisions.slice(killedAt[k]).some((e) => e.kind === 'report'), 60_000, 10);
    }
    expect(ws.summaryOf('grid-btc').lastBarAt).not.toBe(LAST);
    await waitFor('the replay reached its end', () => ws.summaryOf('grid-btc').lastBarAt === LAST, 240_000, 100);
    const held = (): number => {
      const snap = snapshotOf(tmp.dir);
      if (snap === null) return Number.NaN;
      return snap.positions.reduce((sum, p) => sum + p.avgPrice * p.volume, 0) + snap.orders.filter((o) => o.side === 'buy').reduce((sum, o) => sum + (o.price ?? 0) * o.volume, 0);
    };
    const mainUse = (): number => ws.allocation.status('crypto').symbols[0]?.usedAmount ?? Number.NaN;
    await waitFor('main’s use equals the worker’s positions at cost plus resting buys', () => Math.abs(mainUse() - held()) < 1e-9, 30_000, 100);
    expect(ws.supervisorInfo('grid-btc')?.restarts).toBe(8);

    // After each kill, nothing was granted until the restarted worker had reported.
    for (const at of killedAt) {
      const after = decisions.slice(at);
      const report = after.findIndex((e) => e.kind === 'report');
      expect(report).toBeGreaterThanOrEqual(0);
      expect(after.slice(0, report).filter((e) => e.kind === 'grant')).toEqual([]);
    }
    for (const e of decisions) {
      expect(e.used).toBeLessThanOrEqual(e.allocated + 1e-12);
      expect(e.globalUsed).toBeLessThanOrEqual(e.budget + 1e-12);
    }
    const levels = new Set(gridLevels(params));
    const journal = TradingJournal.open(join(tmp.dir, 'kestrel.db'));
    try {
      const trades = journal.trades({ variant: 'grid-btc' });
      expect(trades.length).toBeGreaterThan(10);
      expect(trades.filter((t) => levels.has(t.price)).length).toBeGreaterThan(trades.length / 2);
    } finally {
      journal.close();
    }
  }, 400_000);
});
