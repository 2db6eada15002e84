import type { GridParams, GridSize } from '../../../shared/gridParams.js';
import { roundToTick } from '../../market/simulatedMarket.js';

/**
 * The grid's price lines from `lower` to `upper` (both included), rounded to the price tick:
 * arithmetic = equal steps, geometric = equal ratios. Orders rest exactly on these prices, so a
 * fill on the grid is at one of them (or better, when a bar opens through a level).
 */
export function gridLevels(p: Pick<GridParams, 'lower' | 'upper' | 'levels' | 'spacing' | 'priceTick'>): number[] {
  const out: number[] = [];
  const n = p.levels - 1;
  for (let i = 0; i <= n; i++) {
    const raw = i === n ? p.upper : p.spacing === 'geometric' ? p.lower * Math.pow(p.upper / p.lower, i / n) : p.lower + ((p.upper - p.lower) * i) / n;
    out.push(roundToTick(raw, p.priceTick));
  }
  return out;
}

/** Lots to buy at a level: the configured quantity, or as many whole lots as the quote amount pays for (0: too little). */
export function lotsAt(size: GridSize, price: number, multiplier: number): number {
  if (size.kind === 'quantity') return size.lots;
  // A hair of tolerance so that an amount meant to buy exactly N lots is not floored to N − 1 by rounding.
  return Math.floor(size.amount / (price * multiplier) + 1e-9);
}
