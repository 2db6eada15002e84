/**
 * Contract rolls in the worker's runner, on a real SQLite store with vnpy's schema: two
 * contracts of rb, the second out-trading the first from a given day on. The runner runs in
 * this process here (each policy, a roll held back by the kill switch); the real worker
 * process killed around a roll is test/continuity/rollKill.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineState } from '../../src/core/strategy/engine.js';
import { registerStrategy } from '../../src/core/strategy/registry.js';
import type { RollPolicy } from '../../src/shared/contractRoll.js';
import type { StoredBar } from '../../src/shared/bar.js';
import { snapshotSchema } from '../../src/shared/snapshot.js';
import { freshDir } from '../helpers.js';
import holdLong from '../strategies/holdLong.js';
import { ROLL_FROM, ROLL_TO, rig, rollTape, type RunnerRig } from './runnerFixture.js';

registerStrategy(holdLong);

const DAYS = 9;
const CROSS = 5;
/** rollDays 2: rb2510 out-traded rb2505 on days 5 and 6, so day 7's first minute rolls. */
const ROLL_DAY = CROSS + 2;
const tape = rollTape(11, DAYS, CROSS);
const T0 = tape.dayStarts[ROLL_DAY] as number;
/** The minute after the roll's: where its orders fill. */
const T1 = tape.bars.find((b) => b.time > T0)?.time as number;

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A runner on a fresh data directory whose store holds the tape's first four trading days, restored. */
async function startRig(policy: RollPolicy, dir?: string): Promise<{ r: RunnerRig; dir: string; write: (through: number) => Promise<void> }> {
  let dataDir = dir;
  if (dataDir === undefined) {
    const tmp = freshDir('roll');
    cleanups.push(tmp.remove);
    dataDir = tmp.dir;
  }
  const r = rig(dataDir, { name: 'roll-5m', strategy: 'hold-long', vtSymbol: 'rb.SHFE', windowMinutes: 5, params: { volume: 2 }, roll: policy });
  cleanups.push(() => r.close());
  let written = 0;
  const write = async (through: number): Promise<void> => {
    const rows: StoredBar[] = [];
    while (written < tape.bars.length && (tape.bars[written] as StoredBar).time <= through) rows.push(tape.bars[written++] as StoredBar);
    if (rows.length > 0) await r.store.write(rows);
    while ((await r.runner.follow()) > 0);
  };
  if (dir === undefined) {
    await r.store.write(tape.bars.filter((b) => b.time < (tape.dayStarts[4] as number)));
    written = tape.bars.findIndex((b) => b.time >= (tape.dayStarts[4] as number));
  } else {
    written = tape.bars.findIndex((b) => b.time > (r.runner.lastMinuteTime ?? 0));
  }
  await r.runner.restore();
  return { r, dir: dataDir, write };
}

const snapshotOf = (r: RunnerRig) => snapshotSchema.parse(r.runner.buildSnapshot());
const rolls = (r: RunnerRig) => r.alerts.filter((a) => a.title === 'Contract roll');
const tradeRows = (r: RunnerRig) => r.journal.trades({ variant: 'roll-5m' }).map((t) => [t.time, t.vtSymbol, t.side, t.offset, t.volume]);

describe('contract roll in the runner', () => {
  it('move: one roll at the first minute of the day the rule names, the position moved at the next open, one alert', async () => {
    const { r, write } = await startRig('move');
    expect(r.runner.activeInstruments).toEqual([ROLL_FROM]);
    await write(T0 - 60);
    let snap = snapshotOf(r);
    expect(snap.activeContracts).toEqual({ rb: ROLL_FROM });
    expect(snap.positions.map((p) => [p.vtSymbol, p.direction, p.volume])).toEqual([[ROLL_FROM, 'long', 2]]);
    expect(rolls(r)).toHaveLength(0);

    await write(T0);
    snap = snapshotOf(r);
    expect(snap.activeContracts).toEqual({ rb: ROLL_TO });
    expect(snap.orders.map((o) => [o.vtSymbol, o.side, o.offset, o.volume, o.createdAt])).toEqual([
      [ROLL_FROM, 'sell', 'close', 2, T0],
      [ROLL_TO, 'buy', 'open', 2, T0],
    ]);
    expect(r.runner.activeInstruments).toEqual([ROLL_FROM, ROLL_TO]);
    expect(rolls(r).map((a) => [a.level, a.message])).toEqual([['INFO', "roll-5m: rb.SHFE rb2505 → rb2510; long 2 moved at the next bar's open"]]);
    // Committed with the minute that decided it, before anything else: a kill from here on cannot lose it.
    const row = JSON.parse(r.journal.loadState('roll-5m')?.json ?? '{}') as { instruments: string[]; lastMinuteTime: number; engine: EngineState };
    expect(row.lastMinuteTime).toBe(T0);
    expect(row.instruments).toEqual([ROLL_FROM, ROLL_TO]);
    expect(row.engine.activeContracts.contracts).toEqual({ rb: ROLL_TO });
    expect(row.engine.broker.orders.map((o) => [o.vtSymbol, o.offset, o.tag])).toEqual([
      [ROLL_FROM, 'close', 'roll'],
      [ROLL_TO, 'open', 'roll'],
    ]);

    await write(Number.POSITIVE_INFINITY);
    snap = snapshotOf(r);
    expect(rolls(r)).toHaveLength(1);
    expect(snap.positions.map((p) => [p.vtSymbol, p.direction, p.volume])).toEqual([[ROLL_TO, 'long', 2]]);
    const trades = tradeRows(r);
    expect(trades.slice(1)).toEqual([
      [T1, ROLL_FROM, 'sell', 'close', 2],
      [T1, ROLL_TO, 'buy', 'open', 2],
    ]);
    expect(trades[0]?.slice(1)).toEqual([ROLL_FROM, 'buy', 'open', 2]);
    // The next day lets go of the old contract: nothing held there any more.
    expect(r.runner.activeInstruments).toEqual([ROLL_TO]);
    expect(snap.instruments.map((i) => i.vtSymbol)).toEqual([ROLL_TO]);
    // The new contract's indicators were built from its history at the roll (7 days, 483 five-minute
    // windows), not only from the 2 days after it (138).
    expect(r.runner.tradingEngine?.pipeline(ROLL_TO)?.windowBarCount).toBeGreaterThan(((DAYS - ROLL_DAY) * 345) / 5 + 300);
  }, 60_000);

  it('close: only closes; keep: the position stays on the old contract, which is still followed', async () => {
    const closed = await startRig('close');
    await closed.write(Number.POSITIVE_INFINITY);
    expect(tradeRows(closed.r).slice(1)).toEqual([[T1, ROLL_FROM, 'sell', 'close', 2]]);
    expect(snapshotOf(closed.r).positions).toEqual([]);
    expect(rolls(closed.r).map((a) => a.message)).toEqual(["roll-5m: rb.SHFE rb2505 → rb2510; long 2 closed at the next bar's open"]);

    const kept = await startRig('keep');
    await kept.write(Number.POSITIVE_INFINITY);
    const snap = snapshotOf(kept.r);
    expect(tradeRows(kept.r)).toHaveLength(1);
    expect(snap.activeContracts).toEqual({ rb: ROLL_TO });
    expect(snap.positions.map((p) => [p.vtSymbol, p.volume])).toEqual([[ROLL_FROM, 2]]);
    expect(kept.r.runner.activeInstruments).toEqual([ROLL_FROM, ROLL_TO]);
    expect(rolls(kept.r).map((a) => a.message)).toEqual(['roll-5m: rb.SHFE rb2505 → rb2510; position kept on rb2505.SHFE (long 2)']);
  }, 90_000);

  it('a roll while halted switches the contract, keeps its orders pending in the state across a restart, and sends them when trading resumes', async () => {
    const first = await startRig('move');
    await first.write(T0 - 60);
    first.r.runner.setHalted(true);
    await first.write(T0 + 600);
    let snap = snapshotOf(first.r);
    expect(snap.activeContracts).toEqual({ rb: ROLL_TO });
    expect(snap.orders).toEqual([]);
    expect(snap.pendingRolls).toEqual([{ product: 'rb', from: ROLL_FROM, to: ROLL_TO, tradingDay: snap.pendingRolls[0]?.tradingDay, policy: 'move' }]);
    expect(rolls(first.r)[0]?.message).toMatch(/long 2: orders wait until trading resumes$/);
    first.r.runner.stop();
    await first.r.close();
    cleanups.pop();

    const again = await startRig('move', first.dir);
    expect(snapshotOf(again.r).pendingRolls).toHaveLength(1);
    again.r.runner.setHalted(false);
    snap = snapshotOf(again.r);
    expect(snap.pendingRolls).toEqual([]);
    const resumedAt = again.r.runner.lastMinuteTime as number;
    expect(snap.orders.map((o) => [o.vtSymbol, o.side, o.offset, o.createdAt])).toEqual([
      [ROLL_FROM, 'sell', 'close', resumedAt],
      [ROLL_TO, 'buy', 'open', resumedAt],
    ]);
    await again.write(Number.POSITIVE_INFINITY);
    expect(snapshotOf(again.r).positions.map((p) => [p.vtSymbol, p.volume])).toEqual([[ROLL_TO, 2]]);
    expect(rolls(again.r)).toHaveLength(0);
  }, 90_000);
});
