import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedMarket } from '../../src/core/market/simulatedMarket.js';
import { JsonLinesLog } from '../../src/io/jsonLinesLog.js';
import { readSnapshotFile } from '../../src/io/snapshotFile.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { TradingJournal } from '../../src/io/tradingJournal.js';
import { MAX_SNAPSHOT_BARS, snapshotFileName } from '../../src/shared/snapshot.js';
import { parseDatetime } from '../../src/shared/time.js';
import { workerLaunchSchema } from '../../src/shared/workerProtocol.js';
import { VariantRunner } from '../../src/worker/variantRunner.js';
import { freshDir } from '../helpers.js';

let cleanup: (() => void) | null = null;
afterEach(() => cleanup?.());

describe('the snapshot stays bounded', () => {
  it('stops growing once the window is full, however many bars run through', async () => {
    const tmp = freshDir('bounded');
    cleanup = tmp.remove;
    const store = SqliteBarStore.open(join(tmp.dir, 'kestrel.db'));
    const market = new SimulatedMarket({
      seed: 11,
      instruments: [{ symbol: 'rb9999', exchange: 'SIM', startPrice: 3600, priceTick: 1, baseVolume: 1000 }],
      startTime: parseDatetime('2025-01-06 09:00:00') as number,
    });
    const launch = workerLaunchSchema.parse({
      variant: { name: 'bounded-15m', vtSymbol: 'rb9999.SIM', windowMinutes: 15 },
      dataDir: tmp.dir,
      barSource: { kind: 'sqlite', path: join(tmp.dir, 'kestrel.db') },
      sourceLabel: 'simulated',
    });
    const log = new JsonLinesLog(join(tmp.dir, 'logs', 'bounded-15m', 'strategy.log'), 'bounded-15m');
    const journal = TradingJournal.open(join(tmp.dir, 'kestrel.db'));
    const runner = new VariantRunner(launch, { store, journal, log, snapshotIntervalMs: 0 });
    await runner.restore();
    const file = join(tmp.dir, 'monitor', snapshotFileName('bounded-15m'));

    const sizes: { minutes: number; bytes: number; bars: number }[] = [];
    let minutes = 0;
    for (let round = 0; round < 12; round++) {
      const batch = [];
      for (let i = 0; i < 3_000; i++) batch.push(...market.nextMinute());
      await store.write(batch);
      minutes += batch.length;
      expect(await runner.follow()).toBe(batch.length);
      const read = readSnapshotFile(file);
      if (!read.ok) throw new Error(read.error);
      sizes.push({ minutes, bytes: statSync(file).size, bars: read.snapshot.instruments[0]?.bars.length ?? 0 });
    }
    // 36,000 one-minute bars make 2,400 fifteen-minute bars; the snapshot keeps the last 500.
    expect(runner.windowBarCount).toBeGreaterThan(2 * MAX_SNAPSHOT_BARS);
    const full = sizes.filter((s) => s.bars === MAX_SNAPSHOT_BARS);
    expect(full.length).toBeGreaterThanOrEqual(6);
    const bytes = full.map((s) => s.bytes);
    // Once full, the size only wobbles with the digits of the numbers in it.
    expect(Math.max(...bytes) / Math.min(...bytes)).toBeLessThan(1.05);
    expect(Math.max(...sizes.map((s) => s.bytes))).toBeLessThan(400_000);
    log.close();
    journal.close();
    await store.close();
  });
});
