/**
 * A contract roll survives SIGKILL: two identical variants follow one vnpy-schema SQLite store
 * where rb2510 overtakes rb2505; the worker of one of them is killed three times around the
 * roll — as the day's first minute arrives (wherever that lands: before the check, during it,
 * between the decision and its commit), after the roll is committed but before its close fills,
 * and between the close fill and the reopen fill. Both must end with one roll, one alert, the
 * same trades, positions and state.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { TradingJournal } from '../../src/io/tradingJournal.js';
import type { StoredBar } from '../../src/shared/bar.js';
import type { TradingParams } from '../../src/shared/strategyConfig.js';
import { formatDatetime } from '../../src/shared/time.js';
import type { RegisteredDefinition } from '../../src/core/strategy/registry.js';
import type { Harness } from '../main/workstationHarness.js';
import { freshDir, waitFor } from '../helpers.js';
import holdLong from '../strategies/holdLong.js';
import { ROLL_FROM, ROLL_TO, killWorker, neutralState, rollTape, snapshotIn, startWorkers, tradesOf } from '../worker/runnerFixture.js';

const MODULE = join(import.meta.dirname, '..', 'strategies', 'holdLong.ts');
const VARIANTS = ['roll-a', 'roll-b'];
let harness: Harness | null = null;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await harness?.stop();
  harness = null;
  for (const c of cleanups.splice(0)) c();
});

describe('a contract roll under kill -9', () => {
  it('a worker killed around the roll finishes it exactly once and ends equal to an uninterrupted one', async () => {
    const tape = rollTape(11, 9, 5);
    const T0 = tape.dayStarts[7] as number;
    const T1 = tape.bars.find((b) => b.time > T0)?.time as number;
    const tmp = freshDir('roll-kill');
    cleanups.push(tmp.remove);
    const writer = SqliteBarStore.open(join(tmp.dir, 'kestrel.db'));
    cleanups.push(() => void writer.close());
    const rows = (keep: (b: StoredBar) => boolean) => tape.bars.filter(keep);
    await writer.write(rows((b) => b.time < (tape.dayStarts[4] as number)));
    harness = await startWorkers(
      tmp.dir,
      VARIANTS.map((name) => ({ name, strategy: 'hold-long', vtSymbol: 'rb.SHFE', windowMinutes: 5, pollMs: 40, params: { volume: 2 }, roll: 'move' as const })),
      { strategy: { definition: holdLong as unknown as RegisteredDefinition<TradingParams>, module: MODULE }, cleanups },
    );
    const h = harness;
    const ws = h.workstation;
    await waitFor('both restored', () => VARIANTS.every((v) => ws.summaryOf(v).status === 'running'), 60_000);
    const caughtUp = (v: string, vtSymbol: string, time: number) => snapshotIn(tmp.dir, v)?.instruments.find((i) => i.vtSymbol === vtSymbol)?.lastBarAt === formatDatetime(time);
    const bothAt = (vtSymbol: string, time: number, more: (v: string) => boolean = () => true) =>
      waitFor(`both at ${vtSymbol} ${formatDatetime(time)}`, () => VARIANTS.every((v) => ws.summaryOf(v).status === 'running' && caughtUp(v, vtSymbol, time) && more(v)), 60_000, 20);

    // Up to the last minute before the roll's day, in recorder-sized chunks.
    const before = rows((b) => b.time >= (tape.dayStarts[4] as number) && b.time < T0);
    for (let i = 0; i < before.length; i += 240) await writer.write(before.slice(i, i + 240));
    const lastBefore = before[before.length - 1]?.time as number;
    await bothAt(ROLL_FROM, lastBefore, (v) => snapshotIn(tmp.dir, v)?.positions.length === 1);
    expect(snapshotIn(tmp.dir, 'roll-b')?.activeContracts).toEqual({ rb: ROLL_FROM });

    // Kill 1: as the roll's minute arrives.
    await writer.write(rows((b) => b.time === T0));
    let killed = await killWorker(h, 'roll-b', null);
    const rolled = (v: string) => {
      const s = snapshotIn(tmp.dir, v);
      return s?.activeContracts.rb === ROLL_TO && s.orders.length === 2 && s.pid !== killed;
    };
    // Kill 2: the roll committed, its close and reopen not filled yet — as soon as roll-b shows it.
    await waitFor('roll-b rolled', () => rolled('roll-b'), 60_000, 5);
    killed = await killWorker(h, 'roll-b', killed);
    await bothAt(ROLL_FROM, T0, rolled);

    // Kill 3: the old contract's next minute filled the close; the new one's has not come yet.
    await writer.write(rows((b) => b.time === T1 && `${b.symbol}.${b.exchange}` === ROLL_FROM));
    const closedOnly = (v: string) => {
      const s = snapshotIn(tmp.dir, v);
      return s?.positions.length === 0 && s.orders.length === 1 && s.orders[0]?.vtSymbol === ROLL_TO;
    };
    await bothAt(ROLL_FROM, T1, closedOnly);
    killed = await killWorker(h, 'roll-b', killed);

    const after = rows((b) => b.time > T1 || (b.time === T1 && `${b.symbol}.${b.exchange}` === ROLL_TO));
    for (let i = 0; i < after.length; i += 240) await writer.write(after.slice(i, i + 240));
    const last = after[after.length - 1]?.time as number;
    await bothAt(ROLL_TO, last, (v) => snapshotIn(tmp.dir, v)?.pid !== killed);
    expect(ws.supervisorInfo('roll-b')?.restarts).toBe(3);
    const snapA = snapshotIn(tmp.dir, 'roll-a');
    const snapB = snapshotIn(tmp.dir, 'roll-b');
    await h.stop();
    harness = null;

    for (const v of VARIANTS) {
      expect(h.alerts.filter((a) => a.variant === v && a.title === 'Contract roll').map((a) => a.message)).toEqual([`${v}: rb.SHFE rb2505 → rb2510; long 2 moved at the next bar's open`]);
    }
    expect(snapB?.positions).toEqual(snapA?.positions);
    expect(snapB?.positions.map((p) => [p.vtSymbol, p.direction, p.volume])).toEqual([[ROLL_TO, 'long', 2]]);
    expect(snapB?.activeContracts).toEqual({ rb: ROLL_TO });
    expect(snapB?.counters).toEqual(snapA?.counters);
    expect(snapB?.pnl).toEqual(snapA?.pnl);
    const journal = TradingJournal.open(join(tmp.dir, 'kestrel.db'));
    try {
      const a = tradesOf(journal, 'roll-a');
      expect(tradesOf(journal, 'roll-b')).toEqual(a);
      expect(a.map((t) => [t.time, t.vtSymbol, t.side, t.offset, t.volume]).slice(1)).toEqual([
        [T1, ROLL_FROM, 'sell', 'close', 2],
        [T1, ROLL_TO, 'buy', 'open', 2],
      ]);
      expect(neutralState(journal, 'roll-b')).toEqual(neutralState(journal, 'roll-a'));
    } finally {
      journal.close();
    }
  }, 240_000);
});
