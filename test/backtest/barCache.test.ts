import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { columnsOf, ensureBarCache, readSharedBars, UnknownSymbolError } from '../../src/io/backtest/barCache.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { freshDir } from '../helpers.js';
import { seedDataDir, simulatedBars } from './fixtures.js';

describe('the Arrow bar cache', () => {
  let dir: { dir: string; remove: () => void };
  let store: SqliteBarStore;
  beforeEach(() => {
    dir = freshDir('barcache');
    seedDataDir(dir.dir, 3000);
    store = SqliteBarStore.open(join(dir.dir, 'kestrel.db'));
  });
  afterEach(() => {
    store.closeSync();
    dir.remove();
  });

  it('is built on first use and holds exactly the stored rows, column by column', async () => {
    const cacheDir = join(dir.dir, 'cache');
    const first = await ensureBarCache(store, cacheDir, 'rb9999.SIM');
    expect(first.built).toBe(true);
    const bars = columnsOf(readSharedBars(first.file, 'rb9999.SIM'));
    const stored = [...store.loadRangeSync({ symbol: 'rb9999', exchange: 'SIM', interval: '1m' })].flat();
    expect(bars.length).toBe(stored.length);
    stored.forEach((b, i) => {
      expect([bars.time[i], bars.open[i], bars.high[i], bars.low[i], bars.close[i], bars.volume[i], bars.turnover[i], bars.openInterest[i]]).toEqual([
        b.time, b.open, b.high, b.low, b.close, b.volume, b.turnover, b.openInterest,
      ]);
    });
    // The columns are views onto one shared buffer: threads can share them without a copy.
    expect(bars.close.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(bars.close.buffer).toBe(bars.time.buffer);
  });

  it('is reused while the overview is unchanged and rebuilt when the series changes', async () => {
    const cacheDir = join(dir.dir, 'cache');
    await ensureBarCache(store, cacheDir, 'rb9999.SIM');
    expect((await ensureBarCache(store, cacheDir, 'rb9999.SIM')).built).toBe(false);
    // 100 more minutes after the seeded ones: count and end change.
    const more = simulatedBars(3100).filter((b) => b.symbol === 'rb9999').slice(3000);
    store.writeSync(more);
    const again = await ensureBarCache(store, cacheDir, 'rb9999.SIM');
    expect(again.built).toBe(true);
    expect(columnsOf(readSharedBars(again.file, 'rb9999.SIM')).length).toBe(3100);
  });

  it('names the symbol and the store when there are no bars of it', async () => {
    await expect(ensureBarCache(store, join(dir.dir, 'cache'), 'xx9999.SIM')).rejects.toThrow(UnknownSymbolError);
    await expect(ensureBarCache(store, join(dir.dir, 'cache'), 'xx9999.SIM')).rejects.toThrow(/xx9999\.SIM.*kestrel\.db/);
  });
});
