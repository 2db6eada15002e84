import { z } from 'zod';

/**
 * What a strategy shows (its `display`), so the chart and the Dashboard draw from the strategy
 * instead of assuming MACD-TD: the lines over the price, the panes under it, the marks and the
 * signal badges, each with its label made from the variant's own parameters.
 */
export const strategyDisplaySchema = z.object({
  /** Lines over the price pane: which bar-point field, and its label ("EMA20"). */
  lines: z.array(z.object({ field: z.enum(['emaFast', 'emaSlow']), label: z.string() })).default([]),
  /** Panes under the price: the MACD pane ("MACD 12 26 9"). */
  panes: z.array(z.object({ kind: z.literal('macd'), label: z.string() })).default([]),
  /** Marks on the bars: TD sequential 9 and 13. */
  marks: z.array(z.enum(['td'])).default([]),
  /** Signal badges on the Dashboard, in order. */
  badges: z.array(z.enum(['emaState', 'tdSetup', 'tdCountdown', 'dullness', 'divergence'])).default([]),
  /** Fixed horizontal lines over the price (a grid's levels), each labelled. */
  priceLines: z.array(z.object({ price: z.number(), label: z.string() })).max(500).default([]),
  /** Draw the variant's resting orders as lines at their prices. */
  orders: z.boolean().default(false),
  /** Draw the variant's recent fills as marks on their bars. */
  fills: z.boolean().default(false),
});
export type StrategyDisplay = z.infer<typeof strategyDisplaySchema>;
/** What a strategy's definition returns: fields it does not use may be left out. */
export type StrategyDisplayInput = z.input<typeof strategyDisplaySchema>;
