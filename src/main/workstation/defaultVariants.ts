import type { AllocationGroupInput } from '../../shared/allocation.js';
import type { VariantConfigInput } from '../../shared/config.js';

/** Protective orders sized so that the demo shows whole round trips within a session or two. */
const DEMO_PARAMS = {
  stopLoss: { unit: 'ticks', value: 30 },
  takeProfit: { unit: 'ticks', value: 60 },
  maxDailyOpenPerProduct: 5,
} as const;

/**
 * What a fresh data directory runs when the demo is on and no variants are configured:
 * the 15- and 30-minute variants of one product (the pair a trader compares), one more
 * product, and a universe of two products named without a contract (each resolved to its
 * dominant contract in the store, as a trader names `rb.SHFE`), so the screens show a
 * variant with several instruments; all on the simulated market and trading on paper.
 */
export const DEMO_VARIANTS: readonly VariantConfigInput[] = [
  { name: 'demo-15m', vtSymbol: 'rb9999.SIM', windowMinutes: 15, params: DEMO_PARAMS },
  { name: 'demo-30m', vtSymbol: 'rb9999.SIM', windowMinutes: 30, params: DEMO_PARAMS },
  { name: 'demo-i-15m', vtSymbol: 'i9999.SIM', windowMinutes: 15, params: { ...DEMO_PARAMS, priceTick: 0.5, contractMultiplier: 100 } },
  { name: 'demo-multi-15m', vtSymbol: 'rb.SIM', universe: ['m.SIM'], windowMinutes: 15, params: DEMO_PARAMS },
];

/** One crypto demo grid: a band of ±4 % around the simulated pair's start price, 1,000 USDT a level. */
function demoGrid(name: string, vtSymbol: string, mid: number, priceTick: number, contractMultiplier: number): VariantConfigInput {
  return {
    name,
    strategy: 'grid',
    vtSymbol,
    windowMinutes: 1,
    params: {
      lower: mid * 0.96,
      upper: mid * 1.04,
      levels: 13,
      spacing: 'geometric',
      size: { kind: 'quote', amount: 1_000 },
      // The simulated pairs revert to their start price: the demo grids wait out an excursion instead of stopping.
      stopBelow: null,
      stopAbove: null,
      group: CRYPTO_DEMO_GROUP_NAME,
      priceTick,
      contractMultiplier,
      slippageTicks: 0,
    },
  };
}

export const CRYPTO_DEMO_GROUP_NAME = 'crypto-demo';

/** With `demo.crypto`: grids on the three simulated pairs of CRYPTO_DEMO_INSTRUMENTS (exchange SIMC). */
export const CRYPTO_DEMO_VARIANTS: readonly VariantConfigInput[] = [
  demoGrid('grid-btc', 'BTCUSDT.SIMC', 60_000, 0.1, 0.0001),
  demoGrid('grid-eth', 'ETHUSDT.SIMC', 3_000, 0.01, 0.001),
  demoGrid('grid-sol', 'SOLUSDT.SIMC', 150, 0.001, 0.1),
];

/**
 * The demo grids' allocation group: 20,000 USDT, 80 % usable, EQUAL → 5,333 per pair, capped at
 * 20 % (4,000): four of a grid's twelve 1,000-USDT levels, while a pair near its middle wants six,
 * so buys are blocked from the start and whenever a pair falls.
 */
export const CRYPTO_DEMO_GROUP: AllocationGroupInput = {
  name: CRYPTO_DEMO_GROUP_NAME,
  totalFunds: 20_000,
  globalMaxUsage: 0.8,
  strategy: 'EQUAL',
  symbols: CRYPTO_DEMO_VARIANTS.map((v) => ({ symbol: v.vtSymbol, maxUsagePct: 0.2 })),
  members: CRYPTO_DEMO_VARIANTS.map((v) => v.name),
};
