import { z } from 'zod';
import { query } from '../contractKit.js';
import { variantStatusSchema } from '../snapshot.js';

/**
 * The REST surface web clients of trading bots expect (seed 002): a dashboard status, quick
 * stats and the Prometheus exposition behind the token. Money is the account currency; the
 * figures come from the variants' last snapshots and the trades journal.
 */

const money = z.number().finite();

export const symbolStatusSchema = z.object({
  variant: z.string(),
  /** The instrument the variant trades now (its active contract). */
  vtSymbol: z.string().nullable(),
  status: z.union([variantStatusSchema, z.literal('stale')]),
  /** Realised plus unrealised pnl of the variant. */
  balance: money,
  /** Lots held, long minus short. */
  netPosition: z.number().finite(),
  lastTrade: z
    .object({ time: z.number(), side: z.enum(['buy', 'sell']), offset: z.enum(['open', 'close']), price: money, volume: z.number().finite() })
    .nullable(),
});
export type SymbolStatus = z.infer<typeof symbolStatusSchema>;

export const dashboardStatusSchema = z.object({
  /** Open positions at their average price × volume × contract multiplier. */
  totalValue: money,
  /** Realised plus unrealised pnl over every variant. */
  totalPnl: money,
  activePositions: z.number().int().nonnegative(),
  system: z.object({
    /** Share of all cores busy since the previous call (0–100); null on the first. */
    cpuPercent: z.number().min(0).max(100).nullable(),
    memory: z.object({ totalBytes: z.number(), freeBytes: z.number(), processRssBytes: z.number() }),
    /** Seconds since the machine and the workstation started. */
    uptimeSeconds: z.number(),
    processUptimeSeconds: z.number(),
    loadAverage: z.array(z.number()).length(3),
  }),
  symbols: z.array(symbolStatusSchema),
});
export type DashboardStatus = z.infer<typeof dashboardStatusSchema>;

export const quickStatsSchema = z.object({
  variants: z.object({ total: z.number().int(), running: z.number().int() }),
  totalPnl: money,
  todayPnl: money,
  /** Fills journalled (all variants, all runs) and how many of them closed a position. */
  fills: z.number().int().nonnegative(),
  closedTrades: z.number().int().nonnegative(),
  /** wins / closed trades; null without any. */
  winRate: z.number().min(0).max(1).nullable(),
  openPositions: z.number().int().nonnegative(),
  openAlerts: z.number().int().nonnegative(),
});
export type QuickStats = z.infer<typeof quickStatsSchema>;

/** The Prometheus text exposition's content type, for the REST answer of getMetrics. */
export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

export const dashboardEntries = {
  getDashboardStatus: query(z.object({}), dashboardStatusSchema, '/api/dashboard/status', 'total value, pnl and positions; the machine; each variant’s symbol, status, balance and last trade'),
  getQuickStats: query(z.object({}), quickStatsSchema, '/api/dashboard/quick-stats', 'the few numbers a status bar shows'),
  getMetrics: query(z.object({}), z.string(), '/api/metrics', 'the Prometheus exposition (as GET /metrics on the metrics port), behind the token', { restText: PROMETHEUS_TEXT }),
} as const;
