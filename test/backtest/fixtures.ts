import { join } from 'node:path';
import { SimulatedMarket } from '../../src/core/market/simulatedMarket.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import type { StoredBar } from '../../src/shared/bar.js';
import { parseDatetime } from '../../src/shared/time.js';

/** The demo market's three instruments (rb9999.SIM, i9999.SIM, …), `minutes` trading minutes from 2025-01-06. */
export function simulatedBars(minutes: number, seed = 7): StoredBar[] {
  const market = new SimulatedMarket({ seed, startTime: parseDatetime('2025-01-06 09:00:00') as number });
  const bars: StoredBar[] = [];
  for (let i = 0; i < minutes; i++) bars.push(...market.nextMinute());
  return bars;
}

/** A data directory whose kestrel.db holds `minutes` simulated minutes of every demo instrument. */
export function seedDataDir(dataDir: string, minutes: number, seed = 7): { vtSymbols: string[]; first: string; last: string } {
  const store = SqliteBarStore.open(join(dataDir, 'kestrel.db'));
  try {
    const bars = simulatedBars(minutes, seed);
    for (let i = 0; i < bars.length; i += 50_000) store.writeSync(bars.slice(i, i + 50_000));
    const overview = store.overviewSync();
    return {
      vtSymbols: overview.map((o) => `${o.symbol}.${o.exchange}`).sort(),
      first: overview[0]?.start ?? '',
      last: overview[0]?.end ?? '',
    };
  } finally {
    store.closeSync();
  }
}

/** Parameters that make the simulated tape trade often. */
export const ACTIVE_MACD_TD = {
  stopLoss: { unit: 'ticks', value: 30 },
  takeProfit: { unit: 'ticks', value: 60 },
  maxDailyOpenPerProduct: 5,
} as const;
