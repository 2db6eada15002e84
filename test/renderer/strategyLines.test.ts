import { describe, expect, it } from 'vitest';
import { strategyDisplaySchema } from '../../src/shared/strategyDisplay.js';
import { strategyLinesOf } from '../../src/renderer/chart/strategyLines.js';
import { strategyFor } from '../../src/core/strategy/registry.js';

describe('strategy lines on the K-line chart', () => {
  it("draws a grid's levels and its resting limit orders, from the strategy's display", () => {
    const grid = strategyFor('grid', { lower: 100, upper: 104, levels: 3, size: { kind: 'quantity', lots: 1 } }, 'g');
    const orders = [
      { side: 'buy' as const, type: 'limit', price: 100, volume: 1 },
      { side: 'sell' as const, type: 'limit', price: 104, volume: 2 },
      { side: 'sell' as const, type: 'market', price: null, volume: 1 },
    ];
    expect(strategyLinesOf(grid.display, orders)).toEqual([
      { price: 100, title: 'G0', kind: 'level' },
      { price: 102, title: 'G1', kind: 'level' },
      { price: 104, title: 'G2', kind: 'level' },
      { price: 100, title: 'buy 1', kind: 'buy' },
      { price: 104, title: 'sell 2', kind: 'sell' },
    ]);
  });

  it('draws nothing for a strategy that asks for no lines (MACD-TD), nor without a display', () => {
    const macd = strategyFor('macd-td', {}, 'm');
    expect(strategyLinesOf(macd.display, [{ side: 'buy', type: 'limit', price: 1, volume: 1 }])).toEqual([]);
    expect(strategyLinesOf(null, [])).toEqual([]);
    expect(strategyLinesOf(strategyDisplaySchema.parse({ orders: true }), [{ side: 'sell', type: 'limit', price: 5, volume: 1 }])).toHaveLength(1);
  });
});
