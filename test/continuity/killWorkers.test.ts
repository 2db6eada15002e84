import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/market/prng.js';
import { readSnapshotFile } from '../../src/io/snapshotFile.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { TradingJournal } from '../../src/io/tradingJournal.js';
import type { JournalTrade } from '../../src/shared/trade.js';
import { snapshotFileName } from '../../src/shared/snapshot.js';
import { formatDatetime } from '../../src/shared/time.js';
import { startHarness, type Harness } from '../main/workstationHarness.js';
import { freshDir, waitFor } from '../helpers.js';
import { ACTIVE_PARAMS } from '../worker/runnerFixture.js';
import { asStored, simulatedTape, type TapeSource } from './tapeSources.js';
import { spawnCli } from '../cli/cliHarness.js';
import type { OhlcvBar, StoredBar } from '../../src/shared/bar.js';
import { existsSync } from 'node:fs';

const DAY = 345;
let harness: Harness | null = null;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await harness?.stop();
  harness = null;
  for (const c of cleanups.splice(0)) c();
});

function variants(tape: TapeSource) {
  return ['cont-a', 'cont-b'].map((name) => ({ name, vtSymbol: tape.vtSymbol, universe: tape.universe ?? [], windowMinutes: 15, pollMs: 40, params: ACTIVE_PARAMS }));
}

/** Trades of one variant as comparable rows: ids lose the variant prefix, which is all that differs. */
function tradesOf(journal: TradingJournal, variant: string): Omit<JournalTrade, 'variant'>[] {
  return journal.trades({ variant }).map(({ variant: _v, ...t }) => ({ ...t, id: t.id.slice(variant.length) }));
}

function lastSnapshot(dataDir: string, variant: string) {
  const read = readSnapshotFile(join(dataDir, 'monitor', snapshotFileName(variant)));
  if (!read.ok) throw new Error(read.error);
  return read.snapshot;
}

/**
 * Two identical variants follow one bar store that a writer fills in chunks; one of them is
 * killed with SIGKILL at random moments and restored by the supervisor each time. At the end
 * both must agree on every trade, position, counter and signal state.
 */
async function runKillTest(tape: TapeSource, historyMinutes: number, kills: number, seed: number): Promise<void> {
  const tmp = freshDir('continuity');
  cleanups.push(tmp.remove);
  const writer = SqliteBarStore.open(join(tmp.dir, 'kestrel.db'));
  cleanups.push(() => void writer.close());
  await writer.write(tape.bars.slice(0, historyMinutes));
  harness = await startHarness({
    dataDir: tmp.dir,
    controlEnabled: false,
    settings: {
      demo: { enabled: false, speed: 60, seed: 1 },
      variants: variants(tape),
      supervisor: { backoffInitialMs: 50, backoffMaxMs: 200, maxCrashes: 1_000, crashWindowMs: 60_000 },
    },
  });
  const ws = harness.workstation;
  // Both restore from the same history before any new bar arrives: that is the common start.
  await waitFor('both restored', () => ['cont-a', 'cont-b'].every((v) => ws.summaryOf(v).status === 'running'), 60_000);

  const rng = new Prng(seed);
  const rest = tape.bars.slice(historyMinutes);
  const chunk = 240;
  const chunks = Math.ceil(rest.length / chunk);
  const killAt = new Set<number>();
  while (killAt.size < kills) killAt.add(1 + Math.floor(rng.next() * (chunks - 1)));
  let killed = 0;
  let lastKilled: number | null = null;
  for (let i = 0; i < chunks; i++) {
    await writer.write(rest.slice(i * chunk, (i + 1) * chunk));
    if (killAt.has(i)) {
      // Kill wherever it is: in the middle of a batch, a commit or a restore.
      // The supervisor may not have seen the last kill's exit yet: wait for the new process, never the old pid.
      const pid = await waitFor('cont-b has a new process', () => {
        const p = ws.supervisorInfo('cont-b')?.pid ?? undefined;
        return p !== undefined && p !== lastKilled ? p : undefined;
      }, 30_000, 5);
      await new Promise((r) => setTimeout(r, Math.floor(rng.next() * 60)));
      process.kill(pid, 'SIGKILL');
      lastKilled = pid;
      killed++;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const last = formatDatetime(tape.bars[tape.bars.length - 1]?.time ?? 0);
  await waitFor(
    'both caught up with the last bar',
    () => ['cont-a', 'cont-b'].every((v) => ws.summaryOf(v).lastBarAt === last && ws.summaryOf(v).status === 'running'),
    90_000,
    100,
  );
  expect(killed).toBe(kills);
  expect(ws.supervisorInfo('cont-b')?.restarts).toBe(kills);
  await harness.stop();
  harness = null;

  const journal = TradingJournal.open(join(tmp.dir, 'kestrel.db'));
  try {
    const a = tradesOf(journal, 'cont-a');
    const b = tradesOf(journal, 'cont-b');
    expect(a.length).toBeGreaterThan(5);
    expect(b).toEqual(a);
    type Row = { engine: { pipelines: unknown }; lastMinuteTime: number };
    const stateA = JSON.parse(journal.loadState('cont-a')?.json ?? '{}') as Row;
    const stateB = JSON.parse(journal.loadState('cont-b')?.json ?? '{}') as Row;
    expect(stateB.lastMinuteTime).toBe(stateA.lastMinuteTime);
    // Engine state (strategy, gate, positions, orders, counters, contracts, indicator checkpoints) with the variant name taken out.
    const neutral = (v: unknown, name: string) => JSON.parse(JSON.stringify(v).split(name).join('VARIANT')) as unknown;
    expect(neutral(stateB.engine, 'cont-b')).toEqual(neutral(stateA.engine, 'cont-a'));
  } finally {
    journal.close();
  }
  const snapA = lastSnapshot(tmp.dir, 'cont-a');
  const snapB = lastSnapshot(tmp.dir, 'cont-b');
  expect(snapB.positions).toEqual(snapA.positions);
  expect(snapB.counters).toEqual(snapA.counters);
  expect(snapB.pnl).toEqual(snapA.pnl);
  expect(snapB.instruments.map((i) => i.vtSymbol)).toEqual(snapA.instruments.map((i) => i.vtSymbol));
  expect(snapA.instruments).toHaveLength(1 + (tape.universe?.length ?? 0));
  snapA.instruments.forEach((a, k) => {
    const b = snapB.instruments[k];
    expect(b?.signals).toEqual(a.signals);
    expect(b?.forming).toEqual(a.forming);
    expect(b?.lastBarAt).toBe(a.lastBarAt);
    expect(b?.bars.at(-1)?.time).toBe(a.bars.at(-1)?.time);
    expect(b?.bars.at(-1)?.dif).toBe(a.bars.at(-1)?.dif);
  });
}

// KESTREL_SHARED_DATA: where ../shared/data is when the checkout sits elsewhere (a git worktree).
const sharedData = process.env.KESTREL_SHARED_DATA ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'data');
const backtraderFile = join(sharedData, 'backtrader_2006-01-02-volume-min-001.txt');
const haveRealData = existsSync(backtraderFile);
if (!haveRealData) console.warn(`skipping the real-data continuity test: ${sharedData} is absent (a fresh clone has no ../shared)`);

/** The real index-future minutes of ../shared/data, imported through the CLI as a user would. */
const freqtradeFile = join(sharedData, 'freqtrade_UNITTEST_BTC-1m.json');

async function importedRealTape(): Promise<TapeSource> {
  const src = freshDir('real-src');
  cleanups.push(src.remove);
  const run = await spawnCli([
    'import', '--file', backtraderFile, '--symbol', 'ESTX50', '--exchange', 'EUREX',
    '--columns', 'date=0,time=1,open=2,high=3,low=4,close=5,volume=6,openInterest=7', '--skip-header',
    '--data-dir', src.dir,
  ]);
  if (run.code !== 0) throw new Error(`import failed (${run.code}): ${run.stderr}`);
  return { name: 'backtrader index future', vtSymbol: 'ESTX50.EUREX', bars: await storedBars(src.dir, 'ESTX50', 'EUREX') };
}

async function storedBars(dataDir: string, symbol: string, exchange: string): Promise<StoredBar[]> {
  const store = SqliteBarStore.open(join(dataDir, 'kestrel.db'), { readonly: true });
  const bars: OhlcvBar[] = [];
  for await (const chunk of store.loadRange({ symbol, exchange, interval: '1m' })) bars.push(...chunk);
  await store.close();
  return asStored(bars, symbol, exchange);
}

/** Both files of ../shared/data imported with the CLI into one data directory: two products of one variant. */
async function importedTwoProducts(): Promise<TapeSource> {
  const index = await importedRealTape();
  const src = freshDir('real-src-btc');
  cleanups.push(src.remove);
  const run = await spawnCli([
    'import', '--file', freqtradeFile, '--symbol', 'BTC', '--exchange', 'BINANCE',
    '--columns', 'datetime=0,open=1,high=2,low=3,close=4,volume=5', '--datetime-format', 'epoch-ms', '--tz', 'UTC',
    '--data-dir', src.dir,
  ]);
  if (run.code !== 0) throw new Error(`import failed (${run.code}): ${run.stderr}`);
  const btc = await storedBars(src.dir, 'BTC', 'BINANCE');
  const bars = [...index.bars, ...btc].sort((a, b) => a.time - b.time || (a.symbol < b.symbol ? -1 : 1));
  return { name: 'index future + BTC pair', vtSymbol: 'ESTX50.EUREX', universe: ['BTC.BINANCE'], bars };
}

describe('continuity under kill -9', () => {
  it.skipIf(!haveRealData)('on the real minutes of ../shared/data, imported through the CLI', async () => {
    const tape = await importedRealTape();
    expect(tape.bars).toHaveLength(30_889);
    await runKillTest(tape, 10_000, 10, 2006);
  }, 300_000);

  it.skipIf(!haveRealData)('a two-product variant (both files of ../shared/data, imported through the CLI) ends equal to an uninterrupted one', async () => {
    const tape = await importedTwoProducts();
    expect(tape.bars).toHaveLength(30_889 + 13_681);
    // The files do not overlap in time (2006, 2017): history holds all of the index future and the
    // pair's first 1.5 days (so both restore with ≥ 100 window bars); the live part is the pair's.
    await runKillTest(tape, 33_000, 8, 2017);
  }, 400_000);

  it('a worker killed at random points ends exactly where an uninterrupted one does (simulated tape)', async () => {
    await runKillTest(simulatedTape(2024, 60 * DAY), 25 * DAY, 8, 77);
  }, 240_000);
});
