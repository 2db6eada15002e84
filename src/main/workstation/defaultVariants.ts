import type { VariantConfigInput } from '../../shared/config.js';

/**
 * What a fresh data directory runs when the demo is on and no variants are configured:
 * the 15- and 30-minute variants of one product (the pair a trader compares), and one
 * more product, all on the simulated market.
 */
export const DEMO_VARIANTS: readonly VariantConfigInput[] = [
  { name: 'demo-15m', vtSymbol: 'rb9999.SIM', windowMinutes: 15 },
  { name: 'demo-30m', vtSymbol: 'rb9999.SIM', windowMinutes: 30 },
  { name: 'demo-i-15m', vtSymbol: 'i9999.SIM', windowMinutes: 15 },
];
