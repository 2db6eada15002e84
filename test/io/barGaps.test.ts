import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBarGaps, gapCalendarFor } from '../../src/io/barGaps.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { parseDatetime } from '../../src/shared/time.js';
import { createTempDir, makeBars, type TempDir } from './storeFixtures.js';

const t = (text: string): number => parseDatetime(text) as number;

describe('findBarGaps', () => {
  let dir: TempDir;
  let store: SqliteBarStore;
  beforeAll(() => {
    dir = createTempDir('kestrel-gaps-');
    store = SqliteBarStore.open(join(dir.path, 'bars.db'));
    // A 24h market with a hole every 50 minutes; every 7th hole only one minute long.
    const bars = makeBars('ETHUSDT', 'BINANCE', t('2024-01-01 00:00:00'), 3000).filter((_b, i) => i % 50 !== 10 && !(i % 50 === 11 && (i - 1) % 350 !== 10));
    store.writeSync(bars);
  });
  afterAll(() => {
    store.closeSync();
    dir.remove();
  });

  it('finds the same gaps whatever the chunk size (the scan carries its state across chunks)', async () => {
    const key = { symbol: 'ETHUSDT', exchange: 'BINANCE', interval: '1m' as const };
    const whole = await findBarGaps(store, key);
    const chunked = await findBarGaps(store, key, { chunkSize: 7 });
    expect(chunked).toEqual(whole);
    // Holes of 2 minutes at i % 50 == 10, 11, except where i % 350 == 10 (1 minute, not listed).
    const expected = [];
    for (let i = 10; i < 3000; i += 50) if (i % 350 !== 10) expected.push({ from: t('2024-01-01 00:00:00') + i * 60, to: t('2024-01-01 00:00:00') + (i + 1) * 60, minutes: 2 });
    expect(whole.gaps).toEqual(expected);
    expect(whole.calendar).toEqual(gapCalendarFor('BINANCE'));
  });

  it('knows which exchanges have sessions', () => {
    expect(gapCalendarFor('shfe').name).toBe('china-futures');
    expect(gapCalendarFor('SIM').name).toBe('china-futures');
    expect(gapCalendarFor('GFEX').name).toBe('china-futures');
    expect(gapCalendarFor('CFFEX').name).toBe('cffex');
    expect(gapCalendarFor('SSE')).toMatchObject({ name: 'continuous', sessions: null, minMinutes: 2 });
  });
});
