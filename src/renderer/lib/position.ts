import type { TradingUpdate } from '../../shared/api.js';
import { formatPrice, pricePrecisionOf } from './format.js';

type Position = TradingUpdate['positions'][number];

/** One instrument's net holding: long minus short volume, at the average price of the side held. */
export interface NetPosition {
  vtSymbol: string;
  direction: 'long' | 'short';
  volume: number;
  avgPrice: number;
}

/**
 * Net holdings per instrument, in the order the instruments first appear; flat ones left out.
 * The price is the volume-weighted average of the positions on the net side (a book holding
 * both sides of one contract is shown by its net, the legs are in the tooltip).
 */
export function netPositions(positions: readonly Position[]): NetPosition[] {
  const bySymbol = new Map<string, { long: number; longCost: number; short: number; shortCost: number }>();
  for (const p of positions) {
    if (!Number.isFinite(p.volume) || p.volume <= 0) continue;
    const acc = bySymbol.get(p.vtSymbol) ?? { long: 0, longCost: 0, short: 0, shortCost: 0 };
    if (p.direction === 'long') {
      acc.long += p.volume;
      acc.longCost += p.volume * p.avgPrice;
    } else {
      acc.short += p.volume;
      acc.shortCost += p.volume * p.avgPrice;
    }
    bySymbol.set(p.vtSymbol, acc);
  }
  const out: NetPosition[] = [];
  for (const [vtSymbol, acc] of bySymbol) {
    const net = acc.long - acc.short;
    // Lots are whole or short decimals: a difference below this is a float residue, not a holding.
    if (Math.abs(net) < 1e-9) continue;
    out.push(
      net > 0
        ? { vtSymbol, direction: 'long', volume: net, avgPrice: acc.longCost / acc.long }
        : { vtSymbol, direction: 'short', volume: -net, avgPrice: acc.shortCost / acc.short },
    );
  }
  return out;
}

/** Whole lots as such; fractional ones (crypto, shares) with up to 4 decimals. */
export function formatLots(volume: number): string {
  return Number.isInteger(volume) ? String(volume) : String(Number(volume.toFixed(4)));
}

/** "3521", "3521.5", "3521.33": an average needs no more than two decimals in a cell. */
export function formatAvgPrice(price: number): string {
  return formatPrice(price, pricePrecisionOf([price], 2));
}

/** "L 2 @ 3521" / "S 1 @ 3490.5". */
export function formatNetPosition(p: NetPosition): string {
  return `${p.direction === 'long' ? 'L' : 'S'} ${formatLots(p.volume)} @ ${formatAvgPrice(p.avgPrice)}`;
}
