import type { BacktestCosts } from '../../shared/backtest.js';
import { fieldErrorsOfIssues, type FieldError } from '../../shared/contractKit.js';
import { macdTdConfigSchema, type MacdTdConfig } from '../../shared/strategyConfig.js';

/**
 * The strategies a backtest can name, and how each validates its parameters. Everything else in
 * the backtest path is strategy-agnostic: it asks this one lookup. When the strategy seam lands,
 * this is the function to point at its registry.
 */
export interface BacktestStrategyEntry<P = unknown> {
  readonly name: string;
  readonly summary: string;
  /** Parameters with the job's costs applied, or every wrong field (paths relative to params). */
  parse(params: Record<string, unknown>, costs: BacktestCosts): { ok: true; params: P } | { ok: false; fields: FieldError[] };
}

const macdTd: BacktestStrategyEntry<MacdTdConfig> = {
  name: 'macd-td',
  summary: 'MACD divergence/dullness entries confirmed by TD 9 or the EMA state (DOMAIN.md)',
  parse(params, costs) {
    const merged: Record<string, unknown> = { ...params };
    if (costs.slippageTicks !== undefined) merged.slippageTicks = costs.slippageTicks;
    if (costs.commission !== undefined) merged.commission = costs.commission;
    const result = macdTdConfigSchema.strict().safeParse(merged);
    return result.success ? { ok: true, params: result.data } : { ok: false, fields: fieldErrorsOfIssues(result.error.issues) };
  },
};

const STRATEGIES: readonly BacktestStrategyEntry[] = [macdTd as BacktestStrategyEntry];

export const BACKTEST_STRATEGY_NAMES: readonly string[] = STRATEGIES.map((s) => s.name);

/** The strategy called `name`, or null when there is none. */
export function lookupBacktestStrategy(name: string): BacktestStrategyEntry | null {
  return STRATEGIES.find((s) => s.name === name) ?? null;
}
