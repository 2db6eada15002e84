import { describe, expect, it } from 'vitest';
import { productOf } from '../../../src/shared/bar.js';
import { ActiveContracts, pickDominant, type ActiveContractsState } from '../../../src/core/strategy/activeContract.js';

describe('productOf', () => {
  it.each([
    ['rb2501', 'rb'],
    ['rb2501.SHFE', 'rb'],
    ['i9999', 'i'],
    ['i9999.SIM', 'i'],
    ['SR501.CZCE', 'SR'],
    ['600000.SSE', '600000'],
  ])('%s → %s', (symbol, product) => {
    expect(productOf(symbol)).toBe(product);
  });
});

describe('pickDominant', () => {
  it('takes the highest open interest, then the higher volume, then the smaller symbol', () => {
    expect(
      pickDominant([
        { symbol: 'rb2501.SHFE', volume: 900, openInterest: 1000 },
        { symbol: 'rb2505.SHFE', volume: 100, openInterest: 1500 },
        { symbol: 'rb2510.SHFE', volume: 50, openInterest: 20 },
      ]),
    ).toBe('rb2505.SHFE');
    expect(
      pickDominant([
        { symbol: 'rb2501.SHFE', volume: 100, openInterest: 1500 },
        { symbol: 'rb2505.SHFE', volume: 200, openInterest: 1500 },
      ]),
    ).toBe('rb2505.SHFE');
    expect(
      pickDominant([
        { symbol: 'rb2505.SHFE', volume: 200, openInterest: 1500 },
        { symbol: 'rb2501.SHFE', volume: 200, openInterest: 1500 },
      ]),
    ).toBe('rb2501.SHFE');
  });

  it('ignores non-finite figures and returns null without candidates', () => {
    expect(pickDominant([])).toBeNull();
    expect(pickDominant([{ symbol: 'rb2501.SHFE', volume: 1, openInterest: Number.NaN }])).toBeNull();
    expect(
      pickDominant([
        { symbol: 'rb2501.SHFE', volume: 1, openInterest: Number.POSITIVE_INFINITY },
        { symbol: 'rb2505.SHFE', volume: 1, openInterest: 3 },
      ]),
    ).toBe('rb2505.SHFE');
  });
});

describe('ActiveContracts', () => {
  it('switches only when the dominant contract beats the current one by the ratio', () => {
    const map = new ActiveContracts({ rb: 'rb2501.SHFE' });
    const roll = (oi2501: number, oi2505: number, switchRatio = 1.1) =>
      map.update(
        'rb',
        [
          { symbol: 'rb2501.SHFE', volume: 10, openInterest: oi2501 },
          { symbol: 'rb2505.SHFE', volume: 10, openInterest: oi2505 },
        ],
        { switchRatio },
      );
    expect(roll(1000, 1050)).toEqual({ product: 'rb', previous: 'rb2501.SHFE', current: 'rb2501.SHFE', changed: false });
    expect(roll(1000, 1101)).toEqual({ product: 'rb', previous: 'rb2501.SHFE', current: 'rb2505.SHFE', changed: true });
    expect(map.isActive('rb2505.SHFE')).toBe(true);
    expect(map.isActive('rb2501.SHFE')).toBe(false);
  });

  it('round-trips its state and rejects a contract of another product', () => {
    const map = new ActiveContracts({ rb: 'rb2505.SHFE', i: 'i2505.DCE' });
    const state = JSON.parse(JSON.stringify(map.toState())) as ActiveContractsState;
    expect(state).toEqual({ version: 1, contracts: { i: 'i2505.DCE', rb: 'rb2505.SHFE' } });
    expect(ActiveContracts.fromState(state).entries()).toEqual(map.entries());
    expect(() => map.set('rb', 'hc2505.SHFE')).toThrow(/not of product rb/);
  });
});
