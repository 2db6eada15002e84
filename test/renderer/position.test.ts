import { describe, expect, it } from 'vitest';
import { formatAvgPrice, formatNetPosition, netPositions } from '../../src/renderer/lib/position.js';

const pos = (vtSymbol: string, direction: 'long' | 'short', volume: number, avgPrice: number) => ({ vtSymbol, direction, volume, avgPrice, unrealizedPnl: 0 });

describe('net position of an Instances row', () => {
  it('is long or short by the net volume, at the average price of the side held', () => {
    expect(netPositions([])).toEqual([]);
    expect(netPositions([pos('rb.SIM', 'long', 2, 3521)]).map(formatNetPosition)).toEqual(['L 2 @ 3521']);
    expect(netPositions([pos('rb.SIM', 'short', 1, 3490.5)]).map(formatNetPosition)).toEqual(['S 1 @ 3490.5']);
    // 3 long at (1 @ 3500 + 2 @ 3510) / 3 = 3506.666…, 1 short against it: net long 2.
    const hedged = netPositions([pos('rb.SIM', 'long', 1, 3500), pos('rb.SIM', 'long', 2, 3510), pos('rb.SIM', 'short', 1, 3600)]);
    expect(hedged).toHaveLength(1);
    expect(hedged[0]?.direction).toBe('long');
    expect(hedged[0]?.volume).toBe(2);
    expect(hedged[0]?.avgPrice).toBeCloseTo(10520 / 3, 9);
    expect(formatNetPosition(hedged[0]!)).toBe('L 2 @ 3506.67');
    // Equal legs are flat; other instruments are kept in order.
    const two = netPositions([pos('a.X', 'long', 1, 10), pos('a.X', 'short', 1, 11), pos('b.X', 'short', 0.5, 2.25), pos('c.X', 'long', 3, 7)]);
    expect(two.map(formatNetPosition)).toEqual(['S 0.5 @ 2.25', 'L 3 @ 7']);
  });

  it('prints averages with at most two decimals and no trailing zeros', () => {
    expect(formatAvgPrice(3521)).toBe('3521');
    expect(formatAvgPrice(3521.5)).toBe('3521.5');
    expect(formatAvgPrice(0.125)).toBe('0.13');
  });
});
