import type { BacktestEquityPoint } from '../../shared/backtest.js';

/**
 * An equity curve cut to at most ~`maxPoints` for display: per bucket its lowest and highest
 * point, in time order, so that no peak and no drawdown trough disappears from the chart. The
 * whole curve stays in the store for export.
 */
export function thinEquity(points: readonly BacktestEquityPoint[], maxPoints = 2000): BacktestEquityPoint[] {
  if (points.length <= maxPoints) return points.slice();
  const buckets = Math.max(1, Math.floor((maxPoints - 2) / 2));
  const size = (points.length - 2) / buckets;
  const out: BacktestEquityPoint[] = [points[0] as BacktestEquityPoint];
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor(b * size);
    const end = Math.min(points.length - 1, 1 + Math.floor((b + 1) * size));
    if (end <= start) continue;
    let lo = start;
    let hi = start;
    for (let i = start + 1; i < end; i++) {
      const e = (points[i] as BacktestEquityPoint).equity;
      if (e < (points[lo] as BacktestEquityPoint).equity) lo = i;
      if (e > (points[hi] as BacktestEquityPoint).equity) hi = i;
    }
    out.push(points[Math.min(lo, hi)] as BacktestEquityPoint);
    if (lo !== hi) out.push(points[Math.max(lo, hi)] as BacktestEquityPoint);
  }
  out.push(points[points.length - 1] as BacktestEquityPoint);
  return out;
}
