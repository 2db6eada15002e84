import { z } from 'zod';
import { commissionSchema } from './strategyConfig.js';
import { exchangeTimeParamSchema, tradePeriodRowSchema, tradeTotalsSchema } from './contract/trades.js';
import { parseDatetime } from './time.js';
import { tradeFillSchema, type TradeFill } from './trade.js';

/**
 * Backtests and sweeps as records: the job a trader describes (config file, form, API), the
 * progress a running job reports, and the result kept in SQLite. Declared once here; the CLI,
 * the workstation, the job runner and the screens all derive from these.
 */

export const vtSymbolSchema = z.string().regex(/^[^.\s]+\.[A-Za-z0-9_]+$/, 'a vtSymbol is SYMBOL.EXCHANGE, e.g. rb2501.SHFE');

/** Trading costs, applied by the paper broker; each strategy maps them onto its own config. */
export const backtestCostsSchema = z.object({
  slippageTicks: z.number().int().nonnegative().optional(),
  commission: commissionSchema.optional(),
});
export type BacktestCosts = z.infer<typeof backtestCostsSchema>;

export const backtestJobSchema = z
  .object({
    /** A label for lists; defaults to strategy + symbols. */
    name: z.string().min(1).max(128).optional(),
    /** A registered strategy name, e.g. "macd-td". */
    strategy: z.string().min(1).max(64),
    /** The strategy's parameters, validated by the strategy's own schema. */
    params: z.record(z.string(), z.unknown()).default({}),
    /** The universe: every vtSymbol's 1-minute bars, merged on the time axis. */
    symbols: z.array(vtSymbolSchema).min(1).max(64),
    /** Inclusive, exchange time; a bare date as `to` includes that whole day. */
    from: exchangeTimeParamSchema,
    to: exchangeTimeParamSchema,
    windowMinutes: z
      .number()
      .int()
      .min(1)
      .max(60)
      .refine((n) => 60 % n === 0, 'windowMinutes must divide 60 (1, 2, 3, 5, 10, 15, 20, 30, 60)'),
    costs: backtestCostsSchema.default({}),
    /** Initial funds: the equity curve and the % figures start from it. */
    capital: z.number().finite().positive().default(1_000_000),
    /** Higher runs first; equal priorities run in submission order. */
    priority: z.number().int().min(0).max(9).default(5),
  })
  .superRefine((job, ctx) => {
    const range = rangeOfJob(job);
    if (range.from > range.to) ctx.addIssue({ code: 'custom', path: ['to'], message: `the range ${job.from} … ${job.to} is empty (to is before from)` });
    if (new Set(job.symbols).size !== job.symbols.length) ctx.addIssue({ code: 'custom', path: ['symbols'], message: 'a vtSymbol is listed twice' });
  });
export type BacktestJob = z.infer<typeof backtestJobSchema>;
export type BacktestJobInput = z.input<typeof backtestJobSchema>;

/** The job's inclusive range as local-as-UTC seconds (a bare `to` date ends at 23:59:59). */
export function rangeOfJob(job: { from: string; to: string }): { from: number; to: number } {
  const from = parseDatetime(job.from.length === 10 ? `${job.from} 00:00:00` : job.from) ?? Number.NaN;
  const to = parseDatetime(job.to.length === 10 ? `${job.to} 23:59:59` : job.to) ?? Number.NaN;
  return { from, to };
}

export const backtestStatusSchema = z.enum(['queued', 'running', 'paused', 'completed', 'cancelled', 'failed', 'interrupted']);
export type BacktestStatus = z.infer<typeof backtestStatusSchema>;

/** What a running job reports, at most 10 times a second. */
export const backtestProgressSchema = z.object({
  id: z.string(),
  status: backtestStatusSchema,
  /** 0..100 */
  percent: z.number().min(0).max(100),
  barsDone: z.number().int().nonnegative(),
  barsTotal: z.number().int().nonnegative(),
  /** Exchange time of the bar in progress, 'YYYY-MM-DD HH:MM:SS'; null before the first. */
  currentTime: z.string().nullable(),
  trades: z.number().int().nonnegative(),
  barsPerSecond: z.number().nonnegative(),
});
export type BacktestProgress = z.infer<typeof backtestProgressSchema>;

/** A backtest's trade is the fill itself (src/shared/trade.ts). */
export const backtestTradeSchema = tradeFillSchema;
export type BacktestTrade = TradeFill;

export const backtestEquityPointSchema = z.object({
  time: z.number(),
  equity: z.number(),
  drawdown: z.number(),
});
export type BacktestEquityPoint = z.infer<typeof backtestEquityPointSchema>;

/** The statistics of DOMAIN.md (finite or null), the same totals the Trades screen shows. */
export const backtestStatisticsSchema = tradeTotalsSchema;
export type BacktestStatistics = z.infer<typeof backtestStatisticsSchema>;

/** The names a sweep can rank by: every statistic that is a number. */
export const RANKED_STATISTICS = ['totalPnl', 'sharpe', 'winRate', 'maxDrawdown', 'maxDrawdownPct', 'averagePnl', 'trades', 'commission'] as const;
export type RankedStatistic = (typeof RANKED_STATISTICS)[number];
/** Lower is better for these; higher for the rest. */
export const LOWER_IS_BETTER: ReadonlySet<RankedStatistic> = new Set(['maxDrawdown', 'maxDrawdownPct', 'commission']);

export const backtestSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  sweepId: z.string().nullable(),
  status: backtestStatusSchema,
  job: z.custom<BacktestJob>((v) => typeof v === 'object' && v !== null),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  barsDone: z.number().int().nonnegative(),
  barsTotal: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative().nullable(),
  barsPerSecond: z.number().nonnegative().nullable(),
  statistics: backtestStatisticsSchema.nullable(),
  kestrelVersion: z.string(),
  error: z.string().nullable(),
});
export type BacktestSummary = z.infer<typeof backtestSummarySchema>;

export const backtestResultSchema = backtestSummarySchema.extend({
  trades: z.array(backtestTradeSchema),
  /** Thinned for display (at most a few thousand points, every extreme kept). */
  equity: z.array(backtestEquityPointSchema),
  months: z.array(tradePeriodRowSchema),
});
export type BacktestResultView = z.infer<typeof backtestResultSchema>;

/** One parameter axis of a sweep: explicit values, or min..max by step (inclusive). */
export const sweepAxisSchema = z.union([
  z.object({ values: z.array(z.union([z.number(), z.string(), z.boolean()])).min(1).max(10_000) }),
  z
    .object({ min: z.number().finite(), max: z.number().finite(), step: z.number().finite().positive() })
    .refine((a) => a.max >= a.min, { message: 'max is below min: the axis is empty', path: ['max'] })
    .refine((a) => (a.max - a.min) / a.step <= 10_000, { message: 'more than 10,000 values on one axis', path: ['step'] }),
]);
export type SweepAxis = z.infer<typeof sweepAxisSchema>;

export const sweepConfigSchema = z
  .object({
    name: z.string().min(1).max(128).optional(),
    /** The job every point starts from; each point overrides the swept params. */
    job: backtestJobSchema,
    /** Dotted parameter path ("signal.fast", "stopLoss.value") → its values. */
    parameters: z.record(z.string().min(1), sweepAxisSchema),
    /** grid: every combination; random: `samples` points drawn from the grid with `seed`. */
    mode: z.enum(['grid', 'random']).default('grid'),
    samples: z.number().int().positive().max(100_000).optional(),
    seed: z.number().int().default(1),
  })
  .superRefine((s, ctx) => {
    if (Object.keys(s.parameters).length === 0) ctx.addIssue({ code: 'custom', path: ['parameters'], message: 'a sweep varies at least one parameter' });
    if (s.mode === 'random' && s.samples === undefined) ctx.addIssue({ code: 'custom', path: ['samples'], message: 'random mode needs samples (how many points)' });
  });
export type SweepConfig = z.infer<typeof sweepConfigSchema>;
export type SweepConfigInput = z.input<typeof sweepConfigSchema>;

/** aggregated.json: counts, best by each statistic, means skipping non-finite values. */
export const sweepAggregateSchema = z.object({
  sweepId: z.string(),
  counts: z.object({ total: z.number().int(), completed: z.number().int(), failed: z.number().int(), cancelled: z.number().int() }),
  best: z.record(z.string(), z.object({ runId: z.string(), params: z.record(z.string(), z.unknown()), value: z.number() }).nullable()),
  means: z.record(z.string(), z.number().nullable()),
});
export type SweepAggregate = z.infer<typeof sweepAggregateSchema>;

/** Where the workstation's jobs run, as the Backtests screen shows it (and which controls it offers). */
export const backtestQueueInfoSchema = z.object({
  kind: z.enum(['local', 'redis']),
  /** The Redis address without its password; null when local. */
  address: z.string().nullable(),
  /** The BullMQ queue's name; null when local. */
  name: z.string().nullable(),
  /** Why pause and resume (of a job or of the queue) are not offered; null when they are. */
  pauseUnavailable: z.string().nullable(),
});
export type BacktestQueueInfo = z.infer<typeof backtestQueueInfoSchema>;

/** BullMQ has no pause of a job a worker holds, and pausing the shared queue would stop other clients' jobs. */
export const REMOTE_PAUSE_UNAVAILABLE = 'pause is not available on the Redis queue: a backtest-worker cannot hold a job it has started (cancel works)';
