import { z } from 'zod';
import { parseWith, tradingParamsSchema } from './strategyConfig.js';

/**
 * Parameters of the grid trader (DOMAIN.md "Grid trader and the global fund allocator"),
 * declared once: Settings validate a grid variant with this schema, core's grid strategy parses
 * it again so the defaults are filled the same way everywhere.
 *
 * Quantities are whole lots of the broker's `contractMultiplier` units: a crypto grid trading
 * 0.001 BTC per lot sets `contractMultiplier: 0.001` and `priceTick` to the pair's tick.
 */

/** The most grid levels a variant may have: the state keeps one small entry per level. */
export const GRID_MAX_LEVELS = 200;

export const gridSizeSchema = z.discriminatedUnion('kind', [
  /** The same number of lots at every level. */
  z.object({ kind: z.literal('quantity'), lots: z.number().int('lots are a whole number').positive('lots are at least 1') }),
  /** The same quote-currency amount at every level: lots = floor(amount / (level price × multiplier)). */
  z.object({ kind: z.literal('quote'), amount: z.number().finite().positive('the quote amount is a positive amount of money') }),
]);
export type GridSize = z.infer<typeof gridSizeSchema>;

export const GRID_SPACINGS = ['arithmetic', 'geometric'] as const;
export type GridSpacing = (typeof GRID_SPACINGS)[number];

export const gridParamsSchema = tradingParamsSchema
  .extend({
    lower: z.number({ error: 'lower is a price' }).finite().positive('lower is a positive price'),
    upper: z.number({ error: 'upper is a price' }).finite().positive('upper is a positive price'),
    /** Grid lines from lower to upper, both included. */
    levels: z.number().int('levels is a whole number').min(2, 'a grid has at least 2 levels').max(GRID_MAX_LEVELS, `a grid has at most ${String(GRID_MAX_LEVELS)} levels`),
    /** arithmetic: equal price steps; geometric: equal ratios. */
    spacing: z.enum(GRID_SPACINGS, { error: 'spacing is arithmetic or geometric' }).default('arithmetic'),
    size: gridSizeSchema,
    /** The grid stops (resting orders cancelled, inventory sold) when a close falls below lower − stopBelow; null: never. */
    stopBelow: z.number().finite().nonnegative('stopBelow is a price distance, 0 or more').nullable().default(0),
    /** The grid stops when a close rises above upper + stopAbove; null: never (it waits for the price to come back). */
    stopAbove: z.number().finite().nonnegative('stopAbove is a price distance, 0 or more').nullable().default(0),
    /** The allocation group (Settings → Allocation groups) whose allocator grants this grid's buys; null: none. */
    group: z.string().min(1).nullable().default(null),
    // A grid opens many times a day by design: the gate's daily open limits default far higher.
    maxDailyOpenPerProduct: z.number().int().nonnegative().default(100_000),
    maxDailyOpenGlobal: z.number().int().nonnegative().default(100_000),
  })
  .superRefine((p, ctx) => {
    if (!(p.upper > p.lower)) ctx.addIssue({ code: 'custom', path: ['upper'], message: `upper (${String(p.upper)}) must be above lower (${String(p.lower)})` });
    else if ((p.upper - p.lower) / (p.levels - 1) < p.priceTick) {
      ctx.addIssue({ code: 'custom', path: ['levels'], message: `${String(p.levels)} levels between ${String(p.lower)} and ${String(p.upper)} are closer than one price tick (${String(p.priceTick)})` });
    }
  });
export type GridParams = z.infer<typeof gridParamsSchema>;
export type GridParamsInput = z.input<typeof gridParamsSchema>;

export function parseGridParams(input: unknown, where = 'grid params'): GridParams {
  return parseWith(gridParamsSchema, input, where);
}
