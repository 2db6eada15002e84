import { join } from 'node:path';
import { SimulatedMarket } from '../../src/core/market/simulatedMarket.js';
import { JsonLinesLog } from '../../src/io/jsonLinesLog.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { TradingJournal } from '../../src/io/tradingJournal.js';
import type { StoredBar } from '../../src/shared/bar.js';
import type { VariantConfigInput } from '../../src/shared/config.js';
import { parseDatetime } from '../../src/shared/time.js';
import { workerLaunchSchema, type WorkerLaunchInput } from '../../src/shared/workerProtocol.js';
import type { WorkerAlert } from '../../src/shared/workerProtocol.js';
import { VariantRunner } from '../../src/worker/variantRunner.js';

export const SIM_INSTRUMENT = { symbol: 'rb9999', exchange: 'SIM', startPrice: 3600, priceTick: 1, baseVolume: 1000 };

/** A seeded simulated tape of one instrument, in chunks of whole trading minutes. */
export class Tape {
  private readonly market: SimulatedMarket;
  constructor(seed: number, start = '2025-01-06 09:00:00') {
    this.market = new SimulatedMarket({ seed, instruments: [SIM_INSTRUMENT], startTime: parseDatetime(start) as number });
  }
  next(minutes: number): StoredBar[] {
    const bars: StoredBar[] = [];
    for (let i = 0; i < minutes; i++) bars.push(...this.market.nextMinute());
    return bars;
  }
}

/** Stop-loss and take-profit tight enough that the simulated tape trades often. */
export const ACTIVE_PARAMS = {
  stopLoss: { unit: 'ticks', value: 30 },
  takeProfit: { unit: 'ticks', value: 60 },
  maxDailyOpenPerProduct: 5,
} as const;

export interface RunnerRig {
  runner: VariantRunner;
  store: SqliteBarStore;
  journal: TradingJournal;
  alerts: WorkerAlert[];
  close(): Promise<void>;
}

/** A VariantRunner in this process on real SQLite files, as the worker process builds it. */
export function rig(dataDir: string, variant: Partial<VariantConfigInput> = {}, launch: Partial<WorkerLaunchInput> = {}): RunnerRig {
  const dbPath = join(dataDir, 'kestrel.db');
  const store = SqliteBarStore.open(dbPath);
  const journal = TradingJournal.open(dbPath);
  const name = variant.name ?? 'rig-15m';
  const log = new JsonLinesLog(join(dataDir, 'logs', name, 'strategy.log'), name);
  const alerts: WorkerAlert[] = [];
  const runner = new VariantRunner(
    workerLaunchSchema.parse({
      variant: { name, vtSymbol: 'rb9999.SIM', windowMinutes: 15, params: ACTIVE_PARAMS, ...variant },
      dataDir,
      barSource: { kind: 'sqlite', path: dbPath },
      sourceLabel: 'simulated',
      ...launch,
    }),
    { store, journal, log, snapshotIntervalMs: 0, onAlert: (a) => alerts.push(a) },
  );
  return {
    runner,
    store,
    journal,
    alerts,
    async close() {
      log.close();
      journal.close();
      await store.close();
    },
  };
}
