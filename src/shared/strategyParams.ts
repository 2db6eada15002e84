import type { z } from 'zod';
import { gridParamsSchema } from './gridParams.js';
import { macdTdConfigSchema, type TradingParams } from './strategyConfig.js';

/**
 * Strategy name → its parameter schema, so that Settings validate a variant's `params` by its
 * `strategy`. Built-in strategies are listed here; core's registry adds others (a test's
 * strategy, loaded from KESTREL_STRATEGY_MODULES) through registerStrategyParams.
 */
type ParamsSchema = z.ZodType<TradingParams>;

const schemas = new Map<string, ParamsSchema>([
  ['macd-td', macdTdConfigSchema],
  ['grid', gridParamsSchema],
]);

export function registerStrategyParams(name: string, schema: ParamsSchema): void {
  schemas.set(name, schema);
}

export function strategyParamsSchemaOf(name: string): ParamsSchema | null {
  return schemas.get(name) ?? null;
}

export function strategyNames(): string[] {
  return [...schemas.keys()].sort();
}
