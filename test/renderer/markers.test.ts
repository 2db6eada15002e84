import { describe, expect, it } from 'vitest';
import { markersFor } from '../../src/renderer/chart/klineChart.js';

const colors = { up: 'UP', down: 'DOWN', mark13: 'M13' };

describe('markersFor', () => {
  it('puts sell marks above the high and buy marks below the low, and merges a 9 and a 13 on one bar', () => {
    const markers = markersFor(
      [
        { time: 300, side: 'sell', kind: 9, price: 1 },
        { time: 100, side: 'buy', kind: 9, price: 1 },
        { time: 100, side: 'buy', kind: 13, price: 1 },
        { time: 200, side: 'sell', kind: 13, price: 1 },
      ],
      colors,
    );
    expect(markers.map((m) => [m.time, m.position, m.shape, m.text, m.color])).toEqual([
      [100, 'belowBar', 'arrowUp', '9·13', 'M13'],
      [200, 'aboveBar', 'arrowDown', '13', 'M13'],
      [300, 'aboveBar', 'arrowDown', '9', 'DOWN'],
    ]);
  });
});
