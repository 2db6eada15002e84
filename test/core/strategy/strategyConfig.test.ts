import { describe, expect, it } from 'vitest';
import { SignalEngine, resolveSignalParams } from '../../../src/core/signalEngine.js';
import { macdTdConfigSchema, parseMacdTdConfig } from '../../../src/shared/strategyConfig.js';

describe('MACD-TD config schema', () => {
  it('fills every default, and the engine runs on the very signal parameters the settings hold', () => {
    const c = macdTdConfigSchema.parse({});
    expect(new SignalEngine().params).toEqual(c.signal);
    expect(resolveSignalParams({ fast: 5 })).toEqual({ ...c.signal, fast: 5 });
    expect(c).toMatchObject({ orderVolume: 1, slippageTicks: 1, stopLoss: null, takeProfit: null, closeAtSessionEnd: false, nineWithinBars: 3 });
  });

  it('names the wrong fields', () => {
    expect(() => parseMacdTdConfig({ orderVolume: 0, stopLoss: { unit: 'points', value: 3 }, signal: { fast: 1.5 } }, 'variant rb-15m')).toThrow(
      /^variant rb-15m: .*orderVolume: .*; stopLoss\.unit: .*; signal\.fast: /,
    );
    expect(() => parseMacdTdConfig({ commission: { kind: 'rate', rate: 0.5 } })).toThrow(/commission\.rate/);
  });
});
