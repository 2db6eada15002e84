import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineState } from '../../src/core/strategy/engine.js';
import { readSnapshotFile } from '../../src/io/snapshotFile.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { TradingJournal } from '../../src/io/tradingJournal.js';
import { snapshotFileName } from '../../src/shared/snapshot.js';
import { MIN_WINDOW_BARS_TO_TRADE } from '../../src/worker/variantRunner.js';
import { freshDir } from '../helpers.js';
import { Tape, rig, type RunnerRig } from './runnerFixture.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function dir(prefix: string): string {
  const d = freshDir(prefix);
  cleanups.push(d.remove);
  return d.dir;
}

function open(dataDir: string, ...args: Parameters<typeof rig> extends [string, ...infer R] ? R : never): RunnerRig {
  const r = rig(dataDir, ...args);
  cleanups.push(() => r.close());
  return r;
}

const DAY = 345; // open minutes in a trading day of the default sessions

describe('restore', () => {
  it('computes signals during replay but sends no order, then trades live', async () => {
    const d = dir('replay');
    const tape = new Tape(42);
    const r = open(d);
    await r.store.write(tape.next(40 * DAY));
    await r.runner.restore();
    const snap = r.runner.buildSnapshot();
    // Signals fired during the replay of 40 days of history: every one was suppressed.
    expect(snap.restore?.suppressedDecisions).toBeGreaterThan(0);
    expect(r.journal.trades()).toEqual([]);
    expect(snap.orders ?? []).toEqual([]);
    expect(r.runner.tradingMode).toBe('live');
    await r.store.write(tape.next(30 * DAY));
    expect(await r.runner.follow()).toBe(30 * DAY);
    expect(r.journal.trades().length).toBeGreaterThan(0);
  });

  it('keeps the state row bounded: no bigger after 100,000 bars than its bounded buffers allow after 1,000', async () => {
    const d = dir('slim');
    const tape = new Tape(7);
    const r = open(d);
    await r.store.write(tape.next(20 * DAY));
    await r.runner.restore();
    const rowSize = (): number => r.journal.loadState('rig-15m')?.json.length ?? 0;
    const sizes: Record<string, number> = {};
    let processed = 0;
    for (const target of [1_000, 50_000, 100_000]) {
      while (processed < target) {
        const n = Math.min(5_000, target - processed);
        await r.store.write(tape.next(n));
        await r.runner.follow();
        processed += n;
      }
      r.runner.heartbeat();
      sizes[target] = rowSize();
    }
    console.log(`state row bytes after 1k / 50k / 100k bars: ${sizes[1_000]} / ${sizes[50_000]} / ${sizes[100_000]}`);
    expect(r.journal.trades().length).toBeGreaterThan(20);
    const [s1, s50, s100] = [sizes[1_000] ?? 0, sizes[50_000] ?? 0, sizes[100_000] ?? 0];
    expect(s1).toBeGreaterThan(1_000);
    // Once the last-20-trades list is full, nothing in it grows with bars.
    expect(Math.abs(s100 - s50) / s50).toBeLessThan(0.1);
    // From 1k to 100k bars only the bounded buffers fill: 20 recent trades and an open position's orders.
    expect(s100 - s1).toBeLessThan(6 * 1024);
    expect(s100).toBeLessThan(32 * 1024);
  });

  it('continues exactly from its state: a second runner equals one that never stopped', async () => {
    const d1 = dir('straight');
    const d2 = dir('resumed');
    const tape1 = new Tape(99);
    const tape2 = new Tape(99);
    const straight = open(d1);
    const first = rig(d2);
    const history = tape1.next(30 * DAY);
    tape2.next(30 * DAY);
    await straight.store.write(history);
    await first.store.write(history);
    await straight.runner.restore();
    await first.runner.restore();
    for (let i = 0; i < 6; i++) {
      const chunk = tape1.next(3 * DAY);
      tape2.next(3 * DAY);
      await straight.store.write(chunk);
      await first.store.write(chunk);
      await straight.runner.follow();
      await first.runner.follow();
    }
    // Abandon the first runner without a goodbye (as SIGKILL would), then a new one restores.
    await first.close();
    const later = open(d2);
    const more = tape1.next(20 * DAY);
    await straight.store.write(more);
    await later.store.write(more);
    await later.runner.restore();
    expect(later.runner.buildSnapshot().restore?.from).toBe('state');
    await straight.runner.follow();
    await later.runner.follow();
    const strip = (t: { id: string }[]) => t.map((x) => ({ ...x, variant: undefined }));
    expect(straight.journal.trades().length).toBeGreaterThan(0);
    expect(strip(later.journal.trades())).toEqual(strip(straight.journal.trades()));
    const a = straight.runner.buildSnapshot();
    const b = later.runner.buildSnapshot();
    expect(b.positions).toEqual(a.positions);
    expect(b.counters).toEqual(a.counters);
    expect(b.pnl).toEqual(a.pnl);
    expect(b.instruments[0]?.signals).toEqual(a.instruments[0]?.signals);
    expect(b.instruments[0]?.forming).toEqual(a.instruments[0]?.forming);
  });

  it('a truncated state row is kept aside: the variant starts flat, degraded, with an alert, and trades stay', async () => {
    const d = dir('truncated');
    const tape = new Tape(5);
    const r1 = rig(d);
    await r1.store.write(tape.next(40 * DAY));
    await r1.runner.restore();
    await r1.store.write(tape.next(30 * DAY));
    await r1.runner.follow();
    const tradesBefore = r1.journal.trades();
    expect(tradesBefore.length).toBeGreaterThan(0);
    await r1.close();
    const db = new Database(join(d, 'kestrel.db'));
    db.prepare("UPDATE variant_state SET state = substr(state, 1, 200) WHERE variant = 'rig-15m'").run();
    db.close();

    const r2 = open(d);
    await r2.runner.restore();
    expect(r2.runner.currentStatus).toBe('degraded');
    expect(r2.runner.tradingMode).toBe('degraded');
    expect(r2.alerts.some((a) => a.level === 'ERROR' && /not valid JSON/.test(a.message))).toBe(true);
    expect(r2.runner.buildSnapshot().positions).toEqual([]);
    expect(r2.journal.trades()).toEqual(tradesBefore);
    const kept = r2.journal.quarantined('rig-15m');
    expect(kept).toHaveLength(1);
    expect(kept[0]?.state?.length).toBe(200);
    // Degraded computes but never orders.
    await r2.store.write(tape.next(10 * DAY));
    await r2.runner.follow();
    expect(r2.journal.trades()).toEqual(tradesBefore);
    const snapshot = readSnapshotFile(join(d, 'monitor', snapshotFileName('rig-15m')));
    expect(snapshot.ok && snapshot.snapshot.status).toBe('degraded');
  });

  it('missing bar history: degraded with an alert, then trading once enough bars have come', async () => {
    const d = dir('nohistory');
    const tape = new Tape(3);
    const r = open(d);
    await r.runner.restore();
    expect(r.runner.currentStatus).toBe('degraded');
    expect(r.alerts.some((a) => /too little history/.test(a.title))).toBe(true);
    await r.store.write(tape.next(MIN_WINDOW_BARS_TO_TRADE * 15 - 60));
    await r.runner.follow();
    expect(r.runner.currentStatus).toBe('degraded');
    await r.store.write(tape.next(120));
    await r.runner.follow();
    expect(r.runner.currentStatus).toBe('running');
  });

  it('the kill switch: halted computes without ordering, and stays halted after a restart', async () => {
    const d = dir('halt');
    const tape = new Tape(11);
    const r1 = rig(d);
    await r1.store.write(tape.next(30 * DAY));
    await r1.runner.restore();
    r1.runner.setHalted(true);
    expect(r1.runner.currentStatus).toBe('halted');
    await r1.store.write(tape.next(30 * DAY));
    await r1.runner.follow();
    expect(r1.journal.trades()).toEqual([]);
    expect(r1.runner.tradingEngine?.suppressedDecisions).toBeGreaterThan(0);
    await r1.close();
    const r2 = open(d);
    await r2.runner.restore();
    expect(r2.runner.currentStatus).toBe('halted');
    r2.runner.setHalted(false);
    await r2.store.write(tape.next(30 * DAY));
    await r2.runner.follow();
    expect(r2.journal.trades().length).toBeGreaterThan(0);
  });

  it('migrates a version-1 state row (a MACD-TD runner, before the kill switch was kept) on load', async () => {
    const d = dir('migrate');
    const tape = new Tape(13);
    const r1 = rig(d);
    await r1.store.write(tape.next(30 * DAY));
    await r1.runner.restore();
    await r1.close();
    const db = new Database(join(d, 'kestrel.db'));
    const row = db.prepare("SELECT state FROM variant_state WHERE variant = 'rig-15m'").get() as { state: string };
    const v3 = JSON.parse(row.state) as { variant: string; paramsHash: string; instruments: string[]; lastMinuteTime: number; engine: EngineState };
    const e = v3.engine;
    const tracks = (e.strategyState.data as { symbols: Record<string, object> }).symbols;
    // The row as version 1 wrote it: one runner object holding strategy, broker and daily counters.
    const v1 = {
      version: 1,
      variant: v3.variant,
      paramsHash: 'an older hash',
      vtSymbol: v3.instruments[0],
      lastMinuteTime: v3.lastMinuteTime,
      runner: {
        version: 1,
        windowMinutes: e.windowMinutes,
        pipelines: e.pipelines,
        strategy: {
          version: 1,
          paramsHash: 'an older hash',
          variant: e.variant,
          broker: e.broker,
          activeContracts: e.activeContracts,
          counters: e.gate.counters,
          symbols: Object.fromEntries(Object.entries(tracks).map(([vt, t]) => [vt, { ...t, lastMinuteTime: e.lastMinutes[vt] ?? null }])),
          suppressedDecisions: e.suppressedDecisions,
          refusedByLimit: 0,
          dayStartEquity: e.dayStartEquity,
          recentTrades: e.recentTrades,
        },
      },
    };
    db.prepare("UPDATE variant_state SET version = 1, state = ? WHERE variant = 'rig-15m'").run(JSON.stringify(v1));
    db.close();
    const r2 = open(d);
    await r2.runner.restore();
    expect(r2.runner.buildSnapshot().restore?.from).toBe('state');
    expect(r2.runner.currentStatus).toBe('running');
    // Its hash is of the old form: positions kept, indicators rebuilt, and the user told.
    expect(r2.alerts.some((a) => a.title === 'Parameters changed')).toBe(true);
    expect(r2.runner.buildSnapshot().positions).toEqual(r1.runner.buildSnapshot().positions);
    expect(JSON.parse(r2.journal.loadState('rig-15m')?.json ?? '{}')).toMatchObject({ version: 3, halted: false, strategy: 'macd-td', instruments: v3.instruments });
  });
});

describe('the journal', () => {
  it('opens beside the bar store in the same file without disturbing it', async () => {
    const d = dir('journal');
    const store = SqliteBarStore.open(join(d, 'kestrel.db'));
    const journal = TradingJournal.open(join(d, 'kestrel.db'));
    await store.write(new Tape(1).next(10));
    expect((await store.overview())[0]?.count).toBe(10);
    journal.close();
    await store.close();
  });
});
