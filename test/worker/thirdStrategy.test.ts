/**
 * The seam is real: a strategy defined only in the tests (test/strategies/maCross.ts) runs
 * through the real worker process, the journal, restore and the snapshot, with no change
 * outside its own file and the registry. The worker loads it from KESTREL_STRATEGY_MODULES;
 * this process registers it too, so the workstation's Settings accept a variant naming it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { registerStrategy } from '../../src/core/strategy/registry.js';
import { Prng } from '../../src/core/market/prng.js';
import { readSnapshotFile } from '../../src/io/snapshotFile.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { TradingJournal } from '../../src/io/tradingJournal.js';
import type { JournalTrade } from '../../src/shared/trade.js';
import { snapshotFileName } from '../../src/shared/snapshot.js';
import { formatDatetime } from '../../src/shared/time.js';
import { STRATEGY_MODULES_ENV } from '../../src/worker/strategyModules.js';
import { startHarness, type Harness } from '../main/workstationHarness.js';
import { freshDir, waitFor } from '../helpers.js';
import maCross from '../strategies/maCross.js';
import { simulatedTape } from '../continuity/tapeSources.js';

const DAY = 345;
const MODULE = join(import.meta.dirname, '..', 'strategies', 'maCross.ts');
let harness: Harness | null = null;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await harness?.stop();
  harness = null;
  for (const c of cleanups.splice(0)) c();
});

function tradesOf(journal: TradingJournal, variant: string): Omit<JournalTrade, 'variant'>[] {
  return journal.trades({ variant }).map(({ variant: _v, ...t }) => ({ ...t, id: t.id.slice(variant.length) }));
}

describe('a third strategy, defined only in the tests', () => {
  it('moving-average cross: trades in a real worker, survives SIGKILL through journal and restore, shows in the snapshot', async () => {
    registerStrategy(maCross);
    const before = process.env[STRATEGY_MODULES_ENV];
    process.env[STRATEGY_MODULES_ENV] = MODULE;
    cleanups.push(() => {
      if (before === undefined) delete process.env[STRATEGY_MODULES_ENV];
      else process.env[STRATEGY_MODULES_ENV] = before;
    });
    const tmp = freshDir('third-strategy');
    cleanups.push(tmp.remove);
    const tape = simulatedTape(31, 40 * DAY);
    const writer = SqliteBarStore.open(join(tmp.dir, 'kestrel.db'));
    cleanups.push(() => void writer.close());
    const history = 25 * DAY;
    await writer.write(tape.bars.slice(0, history));
    const params = { fast: 3, slow: 8, maxDailyOpenPerProduct: 50, maxDailyOpenGlobal: 50 };
    harness = await startHarness({
      dataDir: tmp.dir,
      controlEnabled: false,
      settings: {
        demo: { enabled: false, speed: 60, seed: 1 },
        variants: ['ma-a', 'ma-b'].map((name) => ({ name, strategy: 'ma-cross', vtSymbol: tape.vtSymbol, windowMinutes: 15, pollMs: 40, params })),
        supervisor: { backoffInitialMs: 50, backoffMaxMs: 200, maxCrashes: 1_000, crashWindowMs: 60_000 },
      },
    });
    const ws = harness.workstation;
    await waitFor('both restored', () => ['ma-a', 'ma-b'].every((v) => ws.summaryOf(v).status === 'running'), 60_000);
    const rng = new Prng(8);
    const rest = tape.bars.slice(history);
    const chunk = 240;
    const chunks = Math.ceil(rest.length / chunk);
    const killAt = new Set<number>();
    while (killAt.size < 3) killAt.add(1 + Math.floor(rng.next() * (chunks - 1)));
    for (let i = 0; i < chunks; i++) {
      await writer.write(rest.slice(i * chunk, (i + 1) * chunk));
      if (killAt.has(i)) {
        const pid = await waitFor('ma-b has a process', () => ws.supervisorInfo('ma-b')?.pid ?? undefined, 30_000, 5);
        process.kill(pid, 'SIGKILL');
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    const last = formatDatetime(tape.bars[tape.bars.length - 1]?.time ?? 0);
    await waitFor('both caught up', () => ['ma-a', 'ma-b'].every((v) => ws.summaryOf(v).lastBarAt === last && ws.summaryOf(v).status === 'running'), 90_000, 100);
    // Exactly the three kills: a worker that died of anything else leaves its reason in stderr.log.
    const stderrOf = (v: string) => (existsSync(join(tmp.dir, 'logs', v, 'stderr.log')) ? readFileSync(join(tmp.dir, 'logs', v, 'stderr.log'), 'utf8') : '');
    expect(ws.supervisorInfo('ma-b')?.restarts, `ma-b exits: ${JSON.stringify(ws.supervisorInfo('ma-b')?.lastExit)}; stderr: ${stderrOf('ma-b')}`).toBe(3);
    await harness.stop();
    harness = null;

    const journal = TradingJournal.open(join(tmp.dir, 'kestrel.db'));
    try {
      const a = tradesOf(journal, 'ma-a');
      expect(a.length).toBeGreaterThan(5);
      expect(tradesOf(journal, 'ma-b')).toEqual(a);
      const row = JSON.parse(journal.loadState('ma-b')?.json ?? '{}') as { strategy: string; engine: { strategyState: { version: number; data: { tracks: Record<string, { closes: number[] }> } } } };
      expect(row.strategy).toBe('ma-cross');
      expect(row.engine.strategyState.version).toBe(2);
      expect(row.engine.strategyState.data.tracks[tape.vtSymbol]?.closes).toHaveLength(8);
    } finally {
      journal.close();
    }
    const snap = (v: string) => {
      const read = readSnapshotFile(join(tmp.dir, 'monitor', snapshotFileName(v)));
      if (!read.ok) throw new Error(read.error);
      return read.snapshot;
    };
    expect(snap('ma-b').strategy).toBe('ma-cross');
    expect(snap('ma-b').display).toEqual({ lines: [], panes: [], marks: [], badges: [], priceLines: [], orders: false, fills: false });
    expect(snap('ma-b').positions).toEqual(snap('ma-a').positions);
    expect(snap('ma-b').counters).toEqual(snap('ma-a').counters);
    expect(snap('ma-b').instruments[0]?.forming).toEqual(snap('ma-a').instruments[0]?.forming);
  }, 240_000);
});
