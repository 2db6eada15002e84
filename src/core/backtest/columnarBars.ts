/**
 * One instrument's 1-minute bars as columns (typed arrays, ascending time): what the Arrow cache
 * hands a backtest, views onto one SharedArrayBuffer when a sweep's threads share them.
 */
export const BAR_COLUMNS = ['time', 'open', 'high', 'low', 'close', 'volume', 'turnover', 'openInterest'] as const;
export type BarColumn = (typeof BAR_COLUMNS)[number];

export type ColumnarBars = { readonly vtSymbol: string; readonly length: number } & { readonly [C in BarColumn]: Float64Array };

/** First index with time >= t (length when none). */
export function lowerBound(time: Float64Array, length: number, t: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((time[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The bars with from <= time <= to, as views (no copy). */
export function sliceRange(bars: ColumnarBars, from: number, to: number): ColumnarBars {
  const start = lowerBound(bars.time, bars.length, from);
  const end = Math.max(start, lowerBound(bars.time, bars.length, to + 1e-9));
  const out = { vtSymbol: bars.vtSymbol, length: end - start } as { vtSymbol: string; length: number } & Record<BarColumn, Float64Array>;
  for (const c of BAR_COLUMNS) out[c] = bars[c].subarray(start, end);
  return out;
}
