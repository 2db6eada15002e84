import type { StrategyDisplay } from '../../shared/strategyDisplay.js';
import type { StrategyLine } from './klineChart.js';

/** The lines a strategy's display asks for: its fixed price lines, then (with `orders`) each resting limit order. */
export function strategyLinesOf(display: StrategyDisplay | null, orders: readonly { side: 'buy' | 'sell'; type: string; price: number | null; volume: number }[]): StrategyLine[] {
  if (display === null) return [];
  const lines: StrategyLine[] = display.priceLines.map((l) => ({ price: l.price, title: l.label, kind: 'level' }));
  if (display.orders) {
    for (const o of orders) if (o.price !== null && o.type === 'limit') lines.push({ price: o.price, title: `${o.side} ${String(o.volume)}`, kind: o.side });
  }
  return lines;
}

