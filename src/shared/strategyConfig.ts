import { z } from 'zod';
import { riskLimitsSchema } from './risk.js';
import { signalParamsSchema } from './signalParams.js';

/**
 * Parameters of the MACD-TD strategy and its paper broker (DOMAIN.md "MACD-TD strategy",
 * "Paper broker"). One variant = one such config. Settings validate it with this schema; the
 * strategy in src/core parses it again so that defaults are filled the same way everywhere.
 */

/** A stop-loss or take-profit distance from the entry fill price. */
export const protectiveLevelSchema = z.object({
  unit: z.enum(['ticks', 'percent']),
  /** Ticks (whole or fractional) or percent of the entry price (1 = 1 %). */
  value: z.number().finite().positive(),
});
export type ProtectiveLevel = z.infer<typeof protectiveLevelSchema>;

export const commissionSchema = z.discriminatedUnion('kind', [
  /** Money per lot per fill, both ways (open and close). */
  z.object({ kind: z.literal('perLot'), amount: z.number().finite().nonnegative() }),
  /** Share of the traded value (price × volume × multiplier) per fill, both ways; 0.0001 = 1 bp. */
  z.object({ kind: z.literal('rate'), rate: z.number().finite().nonnegative().max(0.1) }),
]);
export type Commission = z.infer<typeof commissionSchema>;

export const contractSpecSchema = z.object({
  priceTick: z.number().finite().positive(),
  contractMultiplier: z.number().finite().positive(),
});
export type ContractSpec = z.infer<typeof contractSpecSchema>;

/** The paper broker's parameters (DOMAIN.md "Paper broker"): every strategy's parameters include them. */
export const brokerParamsSchema = z.object({
  /** Contract spec of every product of the variant unless `contracts` names the product. */
  priceTick: z.number().finite().positive().default(1),
  contractMultiplier: z.number().finite().positive().default(10),
  /** Per product ("rb", "i"): overrides priceTick / contractMultiplier. */
  contracts: z.record(z.string().regex(/^[A-Za-z0-9]+$/, 'a product is letters/digits, e.g. rb'), contractSpecSchema).default({}),
  /** Market and stop fills: buy pays this many ticks above, sell receives this many below. */
  slippageTicks: z.number().int().nonnegative().default(1),
  commission: commissionSchema.default({ kind: 'perLot', amount: 0 }),
});
export type BrokerParams = z.infer<typeof brokerParamsSchema>;

/**
 * What every strategy's parameters start from: the broker's and the risk gate's. A strategy's
 * schema extends it, so one flat `params` object configures the whole trading path of a variant.
 */
export const tradingParamsSchema = brokerParamsSchema.extend(riskLimitsSchema.shape);
export type TradingParams = z.infer<typeof tradingParamsSchema>;

export const macdTdConfigSchema = tradingParamsSchema.extend({
  /** Lots per entry. */
  orderVolume: z.number().int().positive().default(1),
  stopLoss: protectiveLevelSchema.nullable().default(null),
  takeProfit: protectiveLevelSchema.nullable().default(null),
  /** A TD setup 9 confirms an entry when it completed on this window bar or the (n − 1) before it. */
  nineWithinBars: z.number().int().min(1).max(100).default(3),
  signal: signalParamsSchema.prefault({}),
});
export type MacdTdConfig = z.infer<typeof macdTdConfigSchema>;
export type MacdTdConfigInput = z.input<typeof macdTdConfigSchema>;

/** Parses a config, with a message that names each wrong field (`where` says whose config). */
export function parseMacdTdConfig(input: unknown, where = 'MACD-TD config'): MacdTdConfig {
  return parseWith(macdTdConfigSchema, input, where);
}

/** Parses with any schema, throwing one message that names each wrong field. */
export function parseWith<T>(schema: z.ZodType<T>, input: unknown, where: string): T {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`);
  throw new Error(`${where}: ${problems.join('; ')}`);
}
