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
