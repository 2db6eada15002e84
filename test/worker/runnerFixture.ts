import { join } from 'node:path';
import { registerStrategy, type RegisteredDefinition } from '../../src/core/strategy/registry.js';
import { readSnapshotFile } from '../../src/io/snapshotFile.js';
import type { TradingParams } from '../../src/shared/strategyConfig.js';
import { snapshotFileName, type Snapshot } from '../../src/shared/snapshot.js';
import { STRATEGY_MODULES_ENV } from '../../src/worker/strategyModules.js';
import { startHarness, type Harness } from '../main/workstationHarness.js';
import { waitFor } from '../helpers.js';
import { SimulatedMarket } from '../../src/core/market/simulatedMarket.js';
import { TradingCalendar } from '../../src/core/market/tradingCalendar.js';
import { JsonLinesLog } from '../../src/io/jsonLinesLog.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { TradingJournal } from '../../src/io/tradingJournal.js';
import type { StoredBar } from '../../src/shared/bar.js';
import type { VariantConfigInput } from '../../src/shared/config.js';
import type { JournalTrade } from '../../src/shared/trade.js';
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

/** Two contracts of one product for roll tests: the first is dominant, the second overtakes it. */
export const ROLL_FROM = 'rb2505.SHFE';
export const ROLL_TO = 'rb2510.SHFE';

export interface RollTape {
  /** Both contracts' 1-minute bars, in time order (vnpy rows: symbol, exchange, interval). */
  bars: StoredBar[];
  /** The first minute of each trading day, in order. */
  dayStarts: number[];
}

/**
 * `days` trading days of rb2505 and rb2510 on SHFE (seeded simulated prices, China futures
 * sessions). rb2505 holds the larger open interest throughout (so a first start resolves rb.SHFE
 * to it) and trades ~1,100 lots a minute; rb2510 trades ~400 before trading day `crossDay`
 * (0-based) and ~1,700 from it on. With rollDays = 2 the roll is due at the first minute of
 * trading day `crossDay + 2`.
 */
export function rollTape(seed: number, days: number, crossDay: number): RollTape {
  const calendar = new TradingCalendar();
  const market = new SimulatedMarket({
    seed,
    instruments: [
      { symbol: 'rb2505', exchange: 'SHFE', startPrice: 3600, priceTick: 1, baseVolume: 1000 },
      { symbol: 'rb2510', exchange: 'SHFE', startPrice: 3550, priceTick: 1, baseVolume: 1000 },
    ],
    startTime: parseDatetime('2025-01-06 09:00:00') as number,
  });
  const bars: StoredBar[] = [];
  const dayStarts: number[] = [];
  let day = '';
  for (;;) {
    const minute = market.nextMinute();
    const first = minute[0];
    if (first === undefined) throw new Error('the simulated market gave an empty minute');
    const d = calendar.tradingDay(first.time);
    if (d !== day) {
      if (dayStarts.length === days) break;
      day = d;
      dayStarts.push(first.time);
    }
    const k = dayStarts.length - 1;
    for (const b of minute) {
      const jitter = b.volume % 200;
      const volume = b.symbol === 'rb2505' ? 1000 + jitter : k < crossDay ? 300 + jitter : 1600 + jitter;
      bars.push({ ...b, volume, openInterest: b.symbol === 'rb2505' ? 100_000 : 50_000 });
    }
  }
  return { bars, dayStarts };
}

// ------------------------------------------------------------ real worker processes

/**
 * Real worker processes under a real workstation (its supervisor restarts a killed worker at
 * once) on `dataDir`, the demo off. A strategy defined in the tests is registered here (so
 * Settings accept it) and handed to the workers through KESTREL_STRATEGY_MODULES; `cleanups`
 * gets the environment's restore.
 */
export async function startWorkers(
  dataDir: string,
  variants: VariantConfigInput[],
  opts: { strategy?: { definition: RegisteredDefinition<TradingParams>; module: string }; controlEnabled?: boolean; cleanups?: (() => void)[] } = {},
): Promise<Harness> {
  if (opts.strategy) {
    registerStrategy(opts.strategy.definition);
    const before = process.env[STRATEGY_MODULES_ENV];
    process.env[STRATEGY_MODULES_ENV] = opts.strategy.module;
    opts.cleanups?.push(() => {
      if (before === undefined) delete process.env[STRATEGY_MODULES_ENV];
      else process.env[STRATEGY_MODULES_ENV] = before;
    });
  }
  return startHarness({
    dataDir,
    controlEnabled: opts.controlEnabled ?? false,
    settings: {
      demo: { enabled: false, speed: 60, seed: 1 },
      variants,
      supervisor: { backoffInitialMs: 50, backoffMaxMs: 200, maxCrashes: 1_000, crashWindowMs: 60_000 },
    },
  });
}

/** The variant's last snapshot file, or null while there is none (or it is being replaced). */
export function snapshotIn(dataDir: string, variant: string): Snapshot | null {
  const read = readSnapshotFile(join(dataDir, 'monitor', snapshotFileName(variant)));
  return read.ok ? read.snapshot : null;
}

/**
 * SIGKILLs the variant's worker process: waits for a process other than `lastKilled` (the
 * supervisor may not have seen the previous kill's exit yet) and returns the pid it killed.
 */
export async function killWorker(harness: Harness, variant: string, lastKilled: number | null): Promise<number> {
  const pid = await waitFor(`${variant} has a new process`, () => {
    const p = harness.workstation.supervisorInfo(variant)?.pid ?? undefined;
    return p !== undefined && p !== lastKilled ? p : undefined;
  }, 30_000, 5);
  process.kill(pid, 'SIGKILL');
  return pid;
}

/** Trades of one variant as comparable rows: ids lose the variant prefix, which is all that differs. */
export function tradesOf(journal: TradingJournal, variant: string): Omit<JournalTrade, 'variant'>[] {
  return journal.trades({ variant }).map(({ variant: _v, ...t }) => ({ ...t, id: t.id.slice(variant.length) }));
}

/** The variant's stored state with its own name replaced, to compare two variants' states. */
export function neutralState(journal: TradingJournal, variant: string): unknown {
  const json = journal.loadState(variant)?.json ?? 'null';
  return JSON.parse(json.split(variant).join('VARIANT')) as unknown;
}
