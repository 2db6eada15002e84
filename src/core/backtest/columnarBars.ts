import type { OhlcvBar, StoredBar } from '../../shared/bar.js';

/**
 * One instrument's 1-minute bars as columns (typed arrays, ascending time): what the Arrow cache
 * hands a backtest, views onto one SharedArrayBuffer when a sweep's threads share them.
 */
export const BAR_COLUMNS = ['time', 'open', 'high', 'low', 'close', 'volume', 'turnover', 'openInterest'] as const;
export type BarColumn = (typeof BAR_COLUMNS)[number];

/** The columns alone (generated bars, a bench): any typed array of numbers per column. */
export type BarRows = { readonly [C in BarColumn]: ArrayLike<number> };

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

/** Row `i` as a bar object: the one row → bar conversion (a backtest builds one only when it must). */
export function barAt(cols: BarRows, i: number): OhlcvBar {
  return {
    time: cols.time[i] as number,
    open: cols.open[i] as number,
    high: cols.high[i] as number,
    low: cols.low[i] as number,
    close: cols.close[i] as number,
    volume: cols.volume[i] as number,
    turnover: cols.turnover[i] as number,
    openInterest: cols.openInterest[i] as number,
  };
}

/** Row `i` as a bar store row of `symbol` on `exchange` (benches and tools that fill a store from columns). */
export function storedBarAt(cols: BarRows, i: number, symbol: string, exchange: string): StoredBar {
  return { symbol, exchange, interval: '1m', ...barAt(cols, i) };
}
