import type { BacktestCosts } from '../../shared/backtest.js';
import { fieldErrorsOfIssues, type FieldError } from '../../shared/contractKit.js';
import { strategyNames, strategyParamsSchemaOf } from '../../shared/strategyParams.js';
import type { TradingParams } from '../../shared/strategyConfig.js';

/**
 * The strategies a backtest can name, and how each validates its parameters: the registry's
 * strategies with their own parameter schemas (src/shared/strategyParams.ts), the job's costs
 * applied. Everything else in the backtest path is strategy-agnostic: it asks this one lookup.
 */
export interface BacktestStrategyEntry<P = unknown> {
  readonly name: string;
  readonly summary: string;
  /** Parameters with the job's costs applied, or every wrong field (paths relative to params). */
  parse(params: Record<string, unknown>, costs: BacktestCosts): { ok: true; params: P } | { ok: false; fields: FieldError[] };
}

const SUMMARIES: Readonly<Record<string, string>> = {
  'macd-td': 'MACD divergence/dullness entries confirmed by TD 9 or the EMA state (DOMAIN.md)',
};

function entryOf(name: string): BacktestStrategyEntry<TradingParams> | null {
  const schema = strategyParamsSchemaOf(name);
  if (schema === null) return null;
  return {
    name,
    summary: SUMMARIES[name] ?? name,
    parse(params, costs) {
      const merged: Record<string, unknown> = { ...params };
      if (costs.slippageTicks !== undefined) merged.slippageTicks = costs.slippageTicks;
      if (costs.commission !== undefined) merged.commission = costs.commission;
      // A misspelt parameter must not silently run on its default: unknown keys are field errors.
      const strict: NonNullable<typeof schema> = 'strict' in schema && typeof schema.strict === 'function' ? (schema.strict as () => NonNullable<typeof schema>).call(schema) : schema;
      const result = strict.safeParse(merged);
      return result.success ? { ok: true, params: result.data } : { ok: false, fields: fieldErrorsOfIssues(result.error.issues) };
    },
  };
}

/** Every strategy a backtest can run, by name. */
export function backtestStrategyNames(): readonly string[] {
  return strategyNames();
}

/** The strategy called `name`, or null when there is none. */
export function lookupBacktestStrategy(name: string): BacktestStrategyEntry | null {
  return entryOf(name) as BacktestStrategyEntry | null;
}
