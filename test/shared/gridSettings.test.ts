import { describe, expect, it } from 'vitest';
import { settingsSchema } from '../../src/shared/config.js';

const grid = (group: string | null, name = 'grid-btc', vtSymbol = 'BTCUSDT.BINANCE') => ({
  name,
  strategy: 'grid',
  vtSymbol,
  windowMinutes: 1,
  params: { lower: 20_000, upper: 30_000, levels: 11, size: { kind: 'quote', amount: 500 }, group, priceTick: 0.01, contractMultiplier: 0.001 },
});
const group = { name: 'crypto', totalFunds: 10_000, symbols: [{ symbol: 'BTCUSDT.BINANCE' }], members: ['grid-btc'] };

function fieldErrors(input: unknown): Record<string, string> {
  const r = settingsSchema.safeParse(input);
  return r.success ? {} : Object.fromEntries(r.error.issues.map((i) => [i.path.join('.'), i.message]));
}

describe('grid variants in Settings', () => {
  it('accepts a grid that is a member of its group and trades one of its symbols', () => {
    expect(fieldErrors({ variants: [grid('crypto')], allocation: { groups: [group] } })).toEqual({});
    expect(fieldErrors({ variants: [grid(null)] })).toEqual({});
  });

  it('names the field when the group is unknown, the grid not a member, or its symbol not in the group', () => {
    expect(fieldErrors({ variants: [grid('nope')], allocation: { groups: [group] } })).toEqual({ 'variants.0.params.group': 'no allocation group named nope (groups: crypto)' });
    expect(fieldErrors({ variants: [grid('crypto', 'grid-eth')], allocation: { groups: [group] } })).toEqual({
      'variants.0.params.group': "grid-eth is not a member of allocation group crypto: add it to the group's members",
    });
    expect(fieldErrors({ variants: [grid('crypto', 'grid-btc', 'ETHUSDT.BINANCE')], allocation: { groups: [group] } })).toEqual({
      'variants.0.params.group': "allocation group crypto has no symbol ETHUSDT.BINANCE: add it to the group's symbols",
    });
  });

  it("reports a grid's own parameter errors under params", () => {
    const bad = grid(null);
    bad.params.upper = 10_000;
    expect(fieldErrors({ variants: [bad] })).toEqual({ 'variants.0.params.upper': 'upper (10000) must be above lower (20000)' });
  });
});
