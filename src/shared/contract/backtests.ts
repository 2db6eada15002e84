import { z } from 'zod';
import { command, query } from '../contractKit.js';
import { strategyDisplaySchema } from '../strategyDisplay.js';
import { DEFAULT_HISTORY_BARS, MAX_HISTORY_BARS, barHistorySchema } from './history.js';
import {
  backtestJobSchema,
  backtestQueueInfoSchema,
  backtestResultSchema,
  backtestSummarySchema,
  sweepAggregateSchema,
  sweepConfigSchema,
} from '../backtest.js';

/**
 * Backtests and sweeps: jobs run by the workstation's job-runner process, results kept in
 * kestrel.db. Progress arrives as the `backtestProgress` event (≤ 10/s per job), status changes
 * as `backtestUpdated`.
 */

const idParam = z.object({ id: z.string().min(1).max(64) });
const started = z.object({ ok: z.boolean(), message: z.string(), id: z.string() });

export const backtestStrategySchema = z.object({ name: z.string(), summary: z.string() });

export const sweepViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  config: z.custom<z.infer<typeof sweepConfigSchema>>((v) => typeof v === 'object' && v !== null),
  /** The swept parameter of each run, by run id. */
  points: z.record(z.string(), z.record(z.string(), z.union([z.number(), z.string(), z.boolean()]))),
  runs: z.array(backtestSummarySchema),
  aggregate: sweepAggregateSchema,
});
export type SweepView = z.infer<typeof sweepViewSchema>;

/** A page of a backtest's K-line: one instrument of its universe, window bars within its range. */
export const backtestBarsParamsSchema = z.object({
  id: z.string().min(1).max(64),
  vtSymbol: z.string().regex(/^[^.\s]+\.[A-Za-z0-9_]+$/, 'vtSymbol is SYMBOL.EXCHANGE, e.g. rb2501.SHFE'),
  /** Exclusive upper bound, local-as-UTC seconds (the chart's first bar); absent: the range's end. */
  before: z.coerce.number().int().optional(),
  count: z.coerce.number().int().min(1).max(MAX_HISTORY_BARS).default(DEFAULT_HISTORY_BARS),
});

export const backtestBarsSchema = barHistorySchema.extend({
  windowMinutes: z.number().int(),
  /** What the job's strategy draws (lines, panes, marks), from its own parameters. */
  display: strategyDisplaySchema,
});
export type BacktestBars = z.infer<typeof backtestBarsSchema>;

export const backtestEntries = {
  listBacktestStrategies: query(z.object({}), z.array(backtestStrategySchema), '/api/backtest-strategies', 'the strategies a backtest can run'),
  getBacktestQueue: query(z.object({}), backtestQueueInfoSchema, '/api/backtest-queue', "where jobs run (this machine's threads or a Redis queue) and which controls that offers"),
  listBacktests: query(z.object({}), z.array(backtestSummarySchema), '/api/backtests', 'every backtest, newest first (queue and history)'),
  getBacktest: query(idParam, backtestResultSchema, '/api/backtests/:id', 'one backtest: statistics, trades, equity (thinned), months'),
  getBacktestBars: query(
    backtestBarsParamsSchema,
    backtestBarsSchema,
    '/api/backtests/:id/bars',
    "a backtest's K-line: window bars of one of its instruments within its range, with the strategy's marks (hasMore: older bars in range)",
  ),
  exportBacktest: query(
    idParam.extend({ what: z.enum(['trades', 'equity']) }),
    z.object({ filename: z.string(), csv: z.string() }),
    '/api/backtests/:id/export',
    "a backtest's trades or whole equity curve as CSV",
  ),
  startBacktest: command(backtestJobSchema, started, '/api/backtests/start', 'queue a backtest job'),
  pauseBacktest: command(idParam, started, '/api/backtests/:id/pause', 'pause a queued or running backtest'),
  resumeBacktest: command(idParam, started, '/api/backtests/:id/resume', 'resume a paused backtest'),
  cancelBacktest: command(idParam, started, '/api/backtests/:id/cancel', 'cancel a backtest (a running one stops within 100 ms)'),
  rerunBacktest: command(idParam, started, '/api/backtests/:id/rerun', 'run an interrupted, failed or finished job again, as a new backtest'),
  setBacktestQueuePaused: command(z.object({ paused: z.boolean() }), z.object({ ok: z.boolean(), message: z.string() }), '/api/backtests/queue', 'pause or resume the whole backtest queue'),
  startSweep: command(sweepConfigSchema, started.extend({ runs: z.number().int() }), '/api/sweeps/start', 'queue a sweep: one job per grid or random point'),
  getSweep: query(idParam, sweepViewSchema, '/api/sweeps/:id', 'a sweep: its runs and their aggregate'),
} as const;
