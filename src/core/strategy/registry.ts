import { registerStrategyParams } from '../../shared/strategyParams.js';
import type { TradingParams } from '../../shared/strategyConfig.js';
import { gridDefinition } from './grid/gridStrategy.js';
import { macdTdDefinition } from './macdTdStrategy.js';
import { bindStrategy, type BoundStrategy, type StrategyDefinition } from './strategy.js';

/**
 * Strategy name → implementation. The worker, journal, restore and snapshot look strategies
 * up here and never name one. A strategy outside src (a test's) is registered by the worker
 * from the modules listed in KESTREL_STRATEGY_MODULES (each default-exports a definition with
 * its zod `paramsSchema`), or in-process with registerStrategy.
 */
type Binder = (input: unknown, where: string) => BoundStrategy;

const binders = new Map<string, Binder>([
  ['macd-td', (input, where) => bindStrategy(macdTdDefinition, input, where)],
  ['grid', (input, where) => bindStrategy(gridDefinition, input, where)],
]);

/** A definition plus its params schema (a zod schema, for Settings validation in main). */
export interface RegisteredDefinition<P extends TradingParams> extends StrategyDefinition<P> {
  paramsSchema: Parameters<typeof registerStrategyParams>[1] & { parse(input: unknown): P };
}

export function registerStrategy<P extends TradingParams>(def: RegisteredDefinition<P>): void {
  binders.set(def.name, (input, where) => bindStrategy(def, input, where));
  registerStrategyParams(def.name, def.paramsSchema);
}

export function isRegisteredStrategy(name: string): boolean {
  return binders.has(name);
}

/** The strategy `name` bound to a variant's params; throws naming the variant and field when they are wrong. */
export function strategyFor(name: string, params: unknown, where: string): BoundStrategy {
  const bind = binders.get(name);
  if (bind === undefined) throw new Error(`${where}: unknown strategy ${JSON.stringify(name)} (known: ${[...binders.keys()].sort().join(', ')})`);
  return bind(params, where);
}
