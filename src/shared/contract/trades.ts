import { z } from 'zod';
import { query } from '../contractKit.js';
import { parseDatetime } from '../time.js';
import { journalTradeSchema, tradeSideSchema } from '../trade.js';

/**
 * Trades: the fills the strategy workers journal in `<data>/kestrel.db` (table `trades`), and
 * the statistics of a filtered set of them (DOMAIN.md "Statistics", computed by core's
 * tradeStatistics; the host never invents a number of its own).
 *
 * Times are exchange time: `time` is local-as-UTC seconds, `datetime` the same minute as the
 * journal writes it ('YYYY-MM-DD HH:MM:SS').
 */


export const statisticsPeriodSchema = z.enum(['day', 'week', 'month']);
export type StatisticsPeriodName = z.infer<typeof statisticsPeriodSchema>;

/** The names web clients of trading bots send (`period=daily|weekly|monthly`), beside ours. */
const PERIOD_ALIASES = { daily: 'day', weekly: 'week', monthly: 'month' } as const satisfies Record<string, StatisticsPeriodName>;
export const statisticsPeriodParamSchema = z
  .enum([...statisticsPeriodSchema.options, ...(Object.keys(PERIOD_ALIASES) as (keyof typeof PERIOD_ALIASES)[])])
  .transform((name): StatisticsPeriodName => (name in PERIOD_ALIASES ? PERIOD_ALIASES[name as keyof typeof PERIOD_ALIASES] : (name as StatisticsPeriodName)));

/** 'YYYY-MM-DD' (the whole day) or 'YYYY-MM-DD HH:MM[:SS]', exchange time. */
export const exchangeTimeParamSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$/, "'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS' (exchange time)")
  .refine((text) => parseDatetime(text.length === 10 ? `${text} 00:00:00` : text) !== null, 'not a calendar date and time');

/**
 * Bounds are inclusive. A bare date as `from` starts at its 00:00:00, as `to` ends at its
 * 23:59:59: calendar dates of the exchange clock, not trading days (a fill at 21:30 on Monday
 * is in Monday's range although it belongs to Tuesday's trading day).
 */
export const tradeFilterSchema = z.object({
  variant: z.string().min(1).max(128).optional(),
  /** vtSymbol, e.g. rb2505.SHFE */
  symbol: z.string().min(1).max(128).optional(),
  side: tradeSideSchema.optional(),
  from: exchangeTimeParamSchema.optional(),
  to: exchangeTimeParamSchema.optional(),
});
export type TradeFilterParams = z.infer<typeof tradeFilterSchema>;

/** A journalled fill with its time also as exchange-time text 'YYYY-MM-DD HH:MM:SS'. */
export const tradeSchema = journalTradeSchema.extend({ datetime: z.string() });
export type Trade = z.infer<typeof tradeSchema>;

export const tradePageSchema = z.object({
  /** Newest first. */
  rows: z.array(tradeSchema),
  /** Fills matching the filter, all pages. */
  total: z.number().int().nonnegative(),
  page: z.number().int().positive(),
  pageSize: z.number().int().positive(),
});
export type TradePage = z.infer<typeof tradePageSchema>;

export const tradeSymbolsSchema = z.object({
  variants: z.array(z.string()),
  symbols: z.array(z.string()),
});
export type TradeSymbols = z.infer<typeof tradeSymbolsSchema>;

const money = z.number().finite();
const ratio = z.number().finite().nullable();

export const tradeTotalsSchema = z.object({
  /** Journal rows matched: opening and closing fills. */
  fills: z.number().int().nonnegative(),
  /** Closing fills: round trips, or the parts of them that partial closes ended. */
  trades: z.number().int().nonnegative(),
  wins: z.number().int().nonnegative(),
  losses: z.number().int().nonnegative(),
  /** wins / trades; null without trades. */
  winRate: ratio,
  totalPnl: money,
  averagePnl: ratio,
  /** Every fill's commission, opening ones included (already inside the net pnl). */
  commission: money,
  /** Largest fall of the realised equity curve from its running peak, in money. */
  maxDrawdown: money,
  /** The same in % of the peak (0.05 = 5 %); null unless a starting capital is given. */
  maxDrawdownPct: ratio,
  /** Annualised by the period; null for fewer than two periods or zero variance. */
  sharpe: ratio,
});
export type TradeTotals = z.infer<typeof tradeTotalsSchema>;

export const tradePeriodRowSchema = z.object({
  /** 'YYYY-MM-DD' (trading day), 'YYYY-Www' (ISO week) or 'YYYY-MM'. */
  period: z.string(),
  /** First calendar day of the period. */
  start: z.string(),
  trades: z.number().int().nonnegative(),
  wins: z.number().int().nonnegative(),
  losses: z.number().int().nonnegative(),
  winRate: ratio,
  pnl: money,
  /** Realised pnl from the first period's start through this one. */
  cumulativePnl: money,
});
export type TradePeriodRow = z.infer<typeof tradePeriodRowSchema>;

export const tradeSymbolRowSchema = z.object({
  vtSymbol: z.string(),
  trades: z.number().int().nonnegative(),
  wins: z.number().int().nonnegative(),
  winRate: ratio,
  pnl: money,
  commission: money,
});
export type TradeSymbolRow = z.infer<typeof tradeSymbolRowSchema>;

export const equityPointSchema = z.object({
  /** Fill time of the closing trade, local-as-UTC seconds. */
  time: z.number(),
  equity: money,
});
export type EquityPointRow = z.infer<typeof equityPointSchema>;

export const tradeStatisticsResultSchema = z.object({
  period: statisticsPeriodSchema,
  periodsPerYear: z.number().positive(),
  /** The starting capital the curve and the % figures start from; null: the curve starts at 0. */
  capital: z.number().nullable(),
  totals: tradeTotalsSchema,
  /** Every period from the first trade's to the last trade's, quiet ones with pnl 0. */
  periods: z.array(tradePeriodRowSchema),
  bySymbol: z.array(tradeSymbolRowSchema),
  /** Realised equity after each closing fill, in time order. */
  equity: z.array(equityPointSchema),
});
export type TradeStatisticsResult = z.infer<typeof tradeStatisticsResultSchema>;

export const tradeEntries = {
  listTrades: query(
    tradeFilterSchema.extend({
      page: z.coerce.number().int().positive().default(1),
      pageSize: z.coerce.number().int().min(1).max(1000).default(100),
    }),
    tradePageSchema,
    '/api/trades/list',
    'journalled fills, newest first, filtered and paged',
  ),
  listTradeSymbols: query(
    z.object({}),
    tradeSymbolsSchema,
    '/api/trades/symbols',
    'the variants and vtSymbols that have fills (for the filters)',
  ),
  tradeStatistics: query(
    tradeFilterSchema.extend({
      period: statisticsPeriodParamSchema.default('day'),
      /** Starting capital: gives the drawdown in % and Sharpe on returns in %. */
      capital: z.coerce.number().finite().positive().optional(),
    }),
    tradeStatisticsResultSchema,
    '/api/trades/statistics',
    'win rate, pnl, drawdown, Sharpe, per period and per symbol, and the equity curve of the filtered fills',
  ),
} as const;
