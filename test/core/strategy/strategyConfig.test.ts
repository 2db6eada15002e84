import { describe, expect, it } from 'vitest';
import { DEFAULT_SIGNAL_PARAMS } from '../../../src/core/signalEngine.js';
import { macdTdConfigSchema, parseMacdTdConfig } from '../../../src/shared/strategyConfig.js';

describe('MACD-TD config schema', () => {
  it('fills every default, with the signal parameters equal to the engine\'s', () => {
    const c = macdTdConfigSchema.parse({});
    expect(c.signal).toEqual({ ...DEFAULT_SIGNAL_PARAMS });
    expect(c).toMatchObject({ orderVolume: 1, slippageTicks: 1, stopLoss: null, takeProfit: null, closeAtSessionEnd: false, nineWithinBars: 3 });
  });

  it('names the wrong fields', () => {
    expect(() => parseMacdTdConfig({ orderVolume: 0, stopLoss: { unit: 'points', value: 3 }, signal: { fast: 1.5 } }, 'variant rb-15m')).toThrow(
      /^variant rb-15m: .*orderVolume: .*; stopLoss\.unit: .*; signal\.fast: /,
    );
    expect(() => parseMacdTdConfig({ commission: { kind: 'rate', rate: 0.5 } })).toThrow(/commission\.rate/);
  });
});
