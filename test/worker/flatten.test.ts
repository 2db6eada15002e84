/**
 * Flatten on a real worker: the API command (audited) halts the variant and closes every open
 * position at the next bar's open; the variant stays halted after it.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readSnapshotFile } from '../../src/io/snapshotFile.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { TradingJournal } from '../../src/io/tradingJournal.js';
import { snapshotFileName } from '../../src/shared/snapshot.js';
import { formatDatetime } from '../../src/shared/time.js';
import { startHarness, type Harness } from '../main/workstationHarness.js';
import { freshDir, waitFor } from '../helpers.js';
import { simulatedTape } from '../continuity/tapeSources.js';
import { ACTIVE_PARAMS } from './runnerFixture.js';

const DAY = 345;
let harness: Harness | null = null;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await harness?.stop();
  harness = null;
  for (const c of cleanups.splice(0)) c();
});

describe('flatten', () => {
  it('halts the variant and closes every open position at the next bar open, audited', async () => {
    const tmp = freshDir('flatten');
    cleanups.push(tmp.remove);
    const tape = simulatedTape(2024, 45 * DAY);
    const writer = SqliteBarStore.open(join(tmp.dir, 'kestrel.db'));
    cleanups.push(() => void writer.close());
    let written = 25 * DAY;
    await writer.write(tape.bars.slice(0, written));
    harness = await startHarness({
      dataDir: tmp.dir,
      controlEnabled: true,
      settings: { demo: { enabled: false, speed: 60, seed: 1 }, variants: [{ name: 'flat-15m', vtSymbol: tape.vtSymbol, windowMinutes: 15, pollMs: 40, params: ACTIVE_PARAMS }] },
    });
    const ws = harness.workstation;
    const snapshot = () => {
      const read = readSnapshotFile(join(tmp.dir, 'monitor', snapshotFileName('flat-15m')));
      return read.ok ? read.snapshot : null;
    };
    await waitFor('running', () => ws.summaryOf('flat-15m').status === 'running', 60_000);
    // Feed an hour at a time until the variant holds a position, and has taken every bar written.
    for (;;) {
      expect(written).toBeLessThan(tape.bars.length - 60);
      await writer.write(tape.bars.slice(written, written + 60));
      written += 60;
      const last = formatDatetime(tape.bars[written - 1]?.time ?? 0);
      await waitFor('caught up', () => (ws.summaryOf('flat-15m').lastBarAt === last ? true : undefined), 30_000, 20);
      await waitFor('snapshot caught up', () => (snapshot()?.instruments[0]?.lastBarAt === last ? true : undefined), 30_000, 20);
      if ((snapshot()?.positions.length ?? 0) > 0) break;
    }
    const held = snapshot()?.positions ?? [];
    const res = await fetch(`${harness.baseUrl}/api/flatten`, {
      method: 'POST',
      headers: { authorization: `Bearer ${harness.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ variant: 'flat-15m' }),
    });
    expect(res.status).toBe(200);
    await waitFor('halted', () => ws.summaryOf('flat-15m').status === 'halted', 30_000);
    // Brackets cancelled, one market close per position: the flatten reached the worker.
    await waitFor('close orders sent', () => {
      const orders = snapshot()?.orders ?? [];
      return orders.length === held.length && orders.every((o) => o.type === 'market' && o.offset === 'close') ? true : undefined;
    }, 30_000, 20);
    const next = tape.bars[written];
    if (next === undefined) throw new Error('tape too short');
    await writer.write(tape.bars.slice(written, written + 30));
    await waitFor('flat', () => (snapshot()?.positions.length === 0 && snapshot()?.orders.length === 0 ? true : undefined), 30_000, 20);
    expect(ws.summaryOf('flat-15m').status).toBe('halted');
    await harness.stop();
    harness = null;

    const journal = TradingJournal.open(join(tmp.dir, 'kestrel.db'));
    const closes = journal.trades({ variant: 'flat-15m' }).filter((t) => t.time === next.time);
    journal.close();
    // Slippage 1 tick: a long sells one tick under the open, a short buys one over.
    expect(closes.map((t) => [t.vtSymbol, t.offset, t.volume, t.price])).toEqual(
      held.map((p) => [p.vtSymbol, 'close', p.volume, p.direction === 'long' ? next.open - 1 : next.open + 1]),
    );
    const db = new Database(join(tmp.dir, 'kestrel.db'), { readonly: true });
    const rows = db.prepare("SELECT target, outcome FROM audit WHERE action = 'flattenVariant'").all();
    db.close();
    expect(rows).toEqual([{ target: 'flat-15m', outcome: 'ok' }]);
  }, 180_000);
});
