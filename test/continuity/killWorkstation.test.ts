import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/market/prng.js';
import { readSnapshotFile } from '../../src/io/snapshotFile.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { TradingJournal } from '../../src/io/tradingJournal.js';
import { snapshotFileName } from '../../src/shared/snapshot.js';
import { formatDatetime } from '../../src/shared/time.js';
import { freshDir, waitFor } from '../helpers.js';
import { ACTIVE_PARAMS, rig } from '../worker/runnerFixture.js';
import { asStored, simulatedTape, type TapeSource } from './tapeSources.js';
import { spawnCli } from '../cli/cliHarness.js';
import { listening, spawnServe } from '../serveProcess.js';
import type { OhlcvBar } from '../../src/shared/bar.js';
import { existsSync } from 'node:fs';

const DAY = 345;
const root = join(import.meta.dirname, '..', '..');
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The real headless workstation as a process group of its own, so it can be killed whole. */
async function serve(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const app = spawnServe(dataDir, ['--port', '0', '--no-demo', '--token', 'tok-continuity']);
  return { child: app.child, url: await listening(app) };
}

function killGroup(child: ChildProcess): void {
  // The whole app at once, workers included, as a power cut or `kill -9 -<pgid>` would.
  if (child.pid) process.kill(-child.pid, 'SIGKILL');
}

async function runWorkstationKills(tape: TapeSource, history: number, everyChunks: number): Promise<void> {
    const tmp = freshDir('ws-kill');
    const ref = freshDir('ws-ref');
    cleanups.push(tmp.remove, ref.remove);
    writeFileSync(
      join(tmp.dir, 'settings.json'),
      JSON.stringify({ demo: { enabled: false }, variants: [{ name: 'cont-ws', vtSymbol: tape.vtSymbol, windowMinutes: 15, pollMs: 40, params: ACTIVE_PARAMS }] }),
    );
    const writer = SqliteBarStore.open(join(tmp.dir, 'kestrel.db'));
    cleanups.push(() => writer.close());
    await writer.write(tape.bars.slice(0, history));

    let app = await serve(tmp.dir);
    cleanups.push(() => {
      try {
        killGroup(app.child);
      } catch {
        // already gone
      }
    });
    const snapshotFile = join(tmp.dir, 'monitor', snapshotFileName('cont-ws'));
    const snapshot = () => {
      const r = readSnapshotFile(snapshotFile);
      return r.ok ? r.snapshot : null;
    };
    await waitFor('restored', () => snapshot()?.status === 'running', 60_000);

    const rng = new Prng(5);
    const rest = tape.bars.slice(history);
    const chunk = 300;
    const chunks = Math.ceil(rest.length / chunk);
    let kills = 0;
    for (let i = 0; i < chunks; i++) {
      await writer.write(rest.slice(i * chunk, (i + 1) * chunk));
      if (i > 0 && i % everyChunks === 3) {
        await new Promise((r) => setTimeout(r, Math.floor(rng.next() * 80)));
        killGroup(app.child);
        kills++;
        app = await serve(tmp.dir);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const last = formatDatetime(tape.bars[tape.bars.length - 1]?.time ?? 0);
    await waitFor('caught up', () => snapshot()?.instruments[0]?.lastBarAt === last && snapshot()?.status === 'running', 90_000, 100);
    killGroup(app.child);
    expect(kills).toBeGreaterThanOrEqual(3);

    // The reference: the same bars, one runner, never stopped.
    const straight = rig(ref.dir, { name: 'cont-ws', vtSymbol: tape.vtSymbol });
    cleanups.push(() => straight.close());
    await straight.store.write(tape.bars.slice(0, history));
    await straight.runner.restore();
    await straight.store.write(rest);
    await straight.runner.follow();

    const journal = TradingJournal.open(join(tmp.dir, 'kestrel.db'));
    cleanups.push(() => journal.close());
    const trades = journal.trades({ variant: 'cont-ws' });
    expect(trades.length).toBeGreaterThan(5);
    expect(trades).toEqual(straight.journal.trades({ variant: 'cont-ws' }));
    const expected = straight.runner.buildSnapshot();
    const final = snapshot();
    expect(final?.positions).toEqual(expected.positions);
    expect(final?.counters).toEqual(expected.counters);
    expect(final?.pnl).toEqual(expected.pnl);
    expect(final?.instruments[0]?.signals).toEqual(expected.instruments[0]?.signals);
}

const backtraderFile = join(root, '..', 'shared', 'data', 'backtrader_2006-01-02-volume-min-001.txt');
const haveRealData = existsSync(backtraderFile);

describe('continuity across whole-workstation kills', () => {
  it('the app killed with SIGKILL (workers and all) and started again ends where a run that never stopped ends', async () => {
    await runWorkstationKills(simulatedTape(31, 50 * DAY), 25 * DAY, 7);
  }, 240_000);

  it.skipIf(!haveRealData)('the same on the real minutes of ../shared/data, imported through the CLI', async () => {
    const src = freshDir('ws-real-src');
    cleanups.push(src.remove);
    const run = await spawnCli([
      'import', '--file', backtraderFile, '--symbol', 'ESTX50', '--exchange', 'EUREX',
      '--columns', 'date=0,time=1,open=2,high=3,low=4,close=5,volume=6,openInterest=7', '--skip-header', '--data-dir', src.dir,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const store = SqliteBarStore.open(join(src.dir, 'kestrel.db'), { readonly: true });
    const bars: OhlcvBar[] = [];
    for await (const chunk of store.loadRange({ symbol: 'ESTX50', exchange: 'EUREX', interval: '1m' })) bars.push(...chunk);
    await store.close();
    await runWorkstationKills({ name: 'backtrader', vtSymbol: 'ESTX50.EUREX', bars: asStored(bars, 'ESTX50', 'EUREX') }, 10_000, 9);
  }, 300_000);
});
