import type { AllocationGroupConfig } from '../../shared/allocation.js';

/**
 * Target weights of an allocation group's symbols (they sum to 1), by strategy:
 * EQUAL 1/n each; WEIGHTED the configured weights, normalised; DYNAMIC ∝ 1 / stdev of the
 * last K window-close returns. DYNAMIC falls back to EQUAL while any symbol has fewer than
 * two returns or a flat series (zero stdev): an infinite weight is no allocation.
 */
export function targetWeights(group: AllocationGroupConfig, closes: ReadonlyMap<string, readonly number[]>): Map<string, number> {
  const symbols = group.symbols.map((s) => s.symbol);
  const equal = new Map(symbols.map((s) => [s, 1 / symbols.length]));
  if (group.strategy === 'EQUAL') return equal;
  if (group.strategy === 'WEIGHTED') {
    const sum = group.symbols.reduce((a, s) => a + s.weight, 0);
    return new Map(group.symbols.map((s) => [s.symbol, s.weight / sum]));
  }
  const inverse = new Map<string, number>();
  for (const symbol of symbols) {
    const sd = returnStdev(closes.get(symbol) ?? [], group.lookback);
    if (sd === null || sd === 0) return equal;
    inverse.set(symbol, 1 / sd);
  }
  const sum = [...inverse.values()].reduce((a, b) => a + b, 0);
  return new Map([...inverse].map(([s, v]) => [s, v / sum]));
}

/**
 * Sample standard deviation (n − 1, as pandas' `.std()`) of the simple returns
 * `c_t / c_{t-1} − 1` of the last `lookback` returns; null with fewer than two returns.
 */
export function returnStdev(closes: readonly number[], lookback: number): number | null {
  const tail = closes.slice(-(lookback + 1));
  const returns: number[] = [];
  for (let i = 1; i < tail.length; i++) {
    const prev = tail[i - 1] as number;
    returns.push((tail[i] as number) / prev - 1);
  }
  if (returns.length < 2) return null;
  const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
  const variance = returns.reduce((a, r) => a + (r - mean) ** 2, 0) / (returns.length - 1);
  return Math.sqrt(variance);
}
