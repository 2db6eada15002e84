import type { MacdTdRunnerState } from '../core/strategy/macdTdRunner.js';
import type { StoredState } from '../io/tradingJournal.js';

/**
 * The slim, versioned state of a variant as stored in `variant_state`: the strategy's
 * positions, orders, counters and active contracts, and each pipeline's indicator
 * checkpoint — scalars and fixed-size windows, never bars or indicator series, so its size
 * does not grow with the number of bars processed.
 */
export const VARIANT_STATE_VERSION = 2;

export interface VariantState {
  version: typeof VARIANT_STATE_VERSION;
  variant: string;
  paramsHash: string;
  /** The contract the pipeline follows. */
  vtSymbol: string;
  /** The last 1-minute bar this state includes; restore continues after it. */
  lastMinuteTime: number | null;
  /** The kill switch, so a restarted worker stays halted. */
  halted: boolean;
  runner: MacdTdRunnerState;
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
 * switch: a variant saved then was not halted.
 */
const MIGRATIONS: Record<number, Migration> = {
  1: (old) => ({ ...old, version: 2, halted: false }),
};

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
  if (typeof state.vtSymbol !== 'string') problems.push('vtSymbol is missing');
  if (state.lastMinuteTime !== null && typeof state.lastMinuteTime !== 'number') problems.push('lastMinuteTime is not a number');
  if (typeof state.halted !== 'boolean') problems.push('halted is not a boolean');
  if (typeof state.runner !== 'object' || state.runner === null) problems.push('runner is missing');
  if (problems.length > 0) throw new UnreadableStateError(`the state row of ${variant} is not a variant state: ${problems.join(', ')}`);
  return state as unknown as VariantState;
}
