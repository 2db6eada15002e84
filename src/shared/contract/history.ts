import { z } from 'zod';
import { query } from '../contractKit.js';
import { barPointSchema, tdMarkSchema, variantNameSchema } from '../snapshot.js';

/**
 * History on demand: the window bars before a time, with the indicator values and TD marks the
 * live worker computes, computed in the main process by the very same pipeline (core's
 * AnalysisPipeline, fed from the bar store). A chart scrolled to its left edge asks for the
 * bars before its first one and prepends them.
 */
export const MAX_HISTORY_BARS = 2000;
export const DEFAULT_HISTORY_BARS = 500;

export const barHistorySchema = z.object({
  /** Closed window bars, ascending, all strictly before `before`. */
  bars: z.array(barPointSchema),
  /** TD marks completed on those bars, ascending by time. */
  marks: z.array(tdMarkSchema),
  /** Whether the store holds window bars older than the first one returned. */
  hasMore: z.boolean(),
});
export type BarHistory = z.infer<typeof barHistorySchema>;

export const barHistoryParamsSchema = z.object({
  vtSymbol: z.string().regex(/^[^.\s]+\.[A-Za-z0-9_]+$/, 'vtSymbol is SYMBOL.EXCHANGE, e.g. rb2501.SHFE'),
  windowMinutes: z.coerce
    .number()
    .int()
    .refine((n) => n >= 1 && 60 % n === 0, 'windowMinutes must divide 60 (1, 2, 3, 5, 10, 15, 20, 30, 60)'),
  /** Exclusive upper bound, local-as-UTC seconds (a chart's first bar time); absent: up to the last closed bar. */
  before: z.coerce.number().int().optional(),
  count: z.coerce.number().int().min(1).max(MAX_HISTORY_BARS).default(DEFAULT_HISTORY_BARS),
  /** Whose signal parameters to use; absent: the defaults. */
  variant: variantNameSchema.optional(),
});

export const historyEntries = {
  getBarHistory: query(
    barHistoryParamsSchema,
    barHistorySchema,
    '/api/history/bars',
    'closed window bars before a time, with MACD/EMA values and TD marks, computed from the bar store',
  ),
};
