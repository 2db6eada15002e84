import type { EngineState } from '../core/strategy/engine.js';
import type { StoredState } from '../io/tradingJournal.js';

/**
 * The slim, versioned state of a variant as stored in `variant_state`: the trading engine's
 * positions, orders, gate counters and active contracts, the strategy's own state (whatever
 * strategy it is: an opaque versioned envelope), and each pipeline's indicator checkpoint —
 * scalars and fixed-size windows, never bars or indicator series, so its size does not grow
 * with the number of bars processed.
 */
export const VARIANT_STATE_VERSION = 3;

export interface VariantState {
  version: typeof VARIANT_STATE_VERSION;
  variant: string;
  /** The strategy's registered name. */
  strategy: string;
  paramsHash: string;
  /** The instruments followed (products resolved to their active contracts), sorted. */
  instruments: string[];
  /** The last 1-minute bar this state includes; restore continues after it. */
  lastMinuteTime: number | null;
  /** The kill switch, so a restarted worker stays halted. */
  halted: boolean;
  engine: EngineState;
}

/** Why a stored state cannot be used; the variant then starts flat in degraded mode. */
export class UnreadableStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableStateError';
  }
}

type Migration = (old: Record<string, unknown>) => Record<string, unknown>;

/**
 * Each entry lifts a state of version N to N + 1. Version 1 did not persist the kill
 * switch: a variant saved then was not halted. Version 2 held a MACD-TD runner (strategy,
 * broker and daily counters in one object); version 3 splits it into engine, gate and the
 * strategy's envelope. Its params hash is of another form, so a migrated state restores as
 * "parameters changed": positions and counters kept, indicators rebuilt by replay.
 */
const MIGRATIONS: Record<number, Migration> = {
  1: (old) => ({ ...old, version: 2, halted: false }),
  2: migrateRunnerState,
};

function migrateRunnerState(old: Record<string, unknown>): Record<string, unknown> {
  const runner = (old.runner ?? {}) as Record<string, unknown>;
  const strategy = (runner.strategy ?? {}) as Record<string, unknown>;
  const symbols = (strategy.symbols ?? {}) as Record<string, Record<string, unknown>>;
  const lastMinutes: Record<string, number> = {};
  const tracks: Record<string, Record<string, unknown>> = {};
  for (const [vt, t] of Object.entries(symbols)) {
    const { lastMinuteTime, ...rest } = t;
    if (typeof lastMinuteTime === 'number') lastMinutes[vt] = lastMinuteTime;
    tracks[vt] = rest;
  }
  const refused = typeof strategy.refusedByLimit === 'number' && strategy.refusedByLimit > 0 ? { dailyOpenLimitProduct: strategy.refusedByLimit } : {};
  const { runner: _runner, vtSymbol, ...rest } = old;
  return {
    ...rest,
    version: 3,
    strategy: 'macd-td',
    paramsHash: `v2:${String(old.paramsHash)}`,
    instruments: [vtSymbol],
    engine: {
      version: 1,
      strategy: 'macd-td',
      paramsHash: `v2:${String(old.paramsHash)}`,
      variant: old.variant,
      windowMinutes: runner.windowMinutes,
      pipelines: runner.pipelines ?? {},
      broker: strategy.broker,
      gate: { version: 1, counters: strategy.counters, reducingDay: null, refusals: refused },
      activeContracts: strategy.activeContracts,
      lastMinutes,
      dayStartEquity: strategy.dayStartEquity ?? 0,
      recentTrades: strategy.recentTrades ?? [],
      suppressedDecisions: strategy.suppressedDecisions ?? 0,
      strategyState: { version: 1, data: { symbols: tracks } },
    },
  };
}

export function decodeVariantState(stored: StoredState, variant: string): VariantState {
  let value: unknown;
  try {
    value = JSON.parse(stored.json);
  } catch (err) {
    throw new UnreadableStateError(`the state row of ${variant} is not valid JSON (${(err as Error).message}); it may be truncated`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UnreadableStateError(`the state row of ${variant} is not an object`);
  }
  let state = value as Record<string, unknown>;
  let version = typeof state.version === 'number' ? state.version : stored.version;
  if (version > VARIANT_STATE_VERSION) {
    throw new UnreadableStateError(`the state row of ${variant} has version ${version}, newer than this Kestrel (${VARIANT_STATE_VERSION})`);
  }
  while (version < VARIANT_STATE_VERSION) {
    const migrate = MIGRATIONS[version];
    if (!migrate) throw new UnreadableStateError(`the state row of ${variant} has version ${version}, which cannot be migrated`);
    state = migrate(state);
    version += 1;
  }
  const problems: string[] = [];
  if (state.variant !== variant) problems.push(`variant is ${JSON.stringify(state.variant)}`);
  if (typeof state.paramsHash !== 'string') problems.push('paramsHash is missing');
  if (typeof state.strategy !== 'string') problems.push('strategy is missing');
  if (!Array.isArray(state.instruments) || state.instruments.some((i) => typeof i !== 'string')) problems.push('instruments is not a list of vtSymbols');
  if (state.lastMinuteTime !== null && typeof state.lastMinuteTime !== 'number') problems.push('lastMinuteTime is not a number');
  if (typeof state.halted !== 'boolean') problems.push('halted is not a boolean');
  if (typeof state.engine !== 'object' || state.engine === null) problems.push('engine is missing');
  if (problems.length > 0) throw new UnreadableStateError(`the state row of ${variant} is not a variant state: ${problems.join(', ')}`);
  return state as unknown as VariantState;
}
