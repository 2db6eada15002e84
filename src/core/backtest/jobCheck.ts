import type { BacktestJob } from '../../shared/backtest.js';
import type { FieldError } from '../../shared/contractKit.js';
import { backtestStrategyNames, lookupBacktestStrategy } from './strategyCatalog.js';

/**
 * What the job schema cannot know: whether the strategy exists, whether its parameters fit that
 * strategy's own schema, and whether the bar store has each symbol. Every wrong field, by path
 * in the job (`strategy`, `params.signal.fast`, `symbols.1`).
 */
export function jobProblems(job: BacktestJob, knownVtSymbols: ReadonlySet<string> | null): FieldError[] {
  const problems: FieldError[] = [];
  const strategy = lookupBacktestStrategy(job.strategy);
  if (strategy === null) {
    problems.push({ path: 'strategy', message: `unknown strategy "${job.strategy}"; known: ${backtestStrategyNames().join(', ')}` });
  } else {
    const parsed = strategy.parse(job.params, job.costs);
    if (!parsed.ok) for (const f of parsed.fields) problems.push({ path: f.path ? `params.${f.path}` : 'params', message: f.message });
  }
  if (knownVtSymbols !== null) {
    job.symbols.forEach((s, i) => {
      if (!knownVtSymbols.has(s)) problems.push({ path: `symbols.${i}`, message: `no 1-minute bars of ${s} in the bar store` });
    });
  }
  return problems;
}
