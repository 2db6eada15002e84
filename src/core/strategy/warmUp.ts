import type { TradingEngine } from './engine.js';

/**
 * Below this many window bars the indicators have not settled: compute, show, never trade. The
 * same rule holds for a variant starting without history and for a backtest's first bars, so a
 * backtest over a range trades exactly as a live variant fed the same bars from an empty store.
 */
export const MIN_WINDOW_BARS_TO_TRADE = 100;

/** The fewest window bars any of `vtSymbols` has in `engine` (0 for one not seen yet). */
export function fewestWindowBars(engine: TradingEngine, vtSymbols: readonly string[]): number {
  let min = Number.POSITIVE_INFINITY;
  for (const vt of vtSymbols) min = Math.min(min, engine.pipeline(vt)?.windowBarCount ?? 0);
  return min === Number.POSITIVE_INFINITY ? 0 : min;
}
