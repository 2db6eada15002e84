import { z } from 'zod';
import { command, query } from '../contractKit.js';
import { exchangeTimeParamSchema } from './trades.js';

/**
 * Market data: what the configured bar store holds (vnpy's dbbaroverview), where 1-minute bars
 * are missing inside trading sessions, and importing a user's CSV/JSON file into it (the same
 * importer as `kestrel import`). Times are exchange time, 'YYYY-MM-DD HH:MM:SS'.
 */

export const barStoreInfoSchema = z.object({
  kind: z.enum(['sqlite', 'mysql']),
  /** "SQLite /path/kestrel.db", "MySQL root@127.0.0.1:3306/vnpy": never a password. */
  description: z.string(),
  /** Whether an import may write into it (a read-only vnpy file or MySQL user cannot take one). */
  writable: z.boolean(),
});
export type BarStoreInfo = z.infer<typeof barStoreInfoSchema>;

export const barOverviewRowSchema = z.object({
  symbol: z.string(),
  exchange: z.string(),
  vtSymbol: z.string(),
  interval: z.string(),
  count: z.number().int().nonnegative(),
  /** First and last bar, exchange time 'YYYY-MM-DD HH:MM:SS'. */
  start: z.string(),
  end: z.string(),
});
export type BarOverviewRow = z.infer<typeof barOverviewRowSchema>;

export const barOverviewSchema = z.object({
  store: barStoreInfoSchema,
  rows: z.array(barOverviewRowSchema),
});
export type BarOverviewResult = z.infer<typeof barOverviewSchema>;

export const MAX_LISTED_GAPS = 1000;

const vtSymbolParam = z.string().regex(/^[^.\s]+\.[A-Za-z0-9_]+$/, 'vtSymbol is SYMBOL.EXCHANGE, e.g. rb2501.SHFE');

export const barGapsParamsSchema = z.object({
  vtSymbol: vtSymbolParam,
  /** Only 1-minute bars have gaps worth listing. */
  interval: z.literal('1m').default('1m'),
  /** Inclusive bounds, exchange time; a bare date is the whole day. Absent: the stored range. */
  from: exchangeTimeParamSchema.optional(),
  to: exchangeTimeParamSchema.optional(),
});

export const barGapSchema = z.object({
  /** First missing minute (its bar's start), exchange time. */
  from: z.string(),
  /** Last missing minute, inclusive: `from` … `to` is `minutes` minutes. */
  to: z.string(),
  minutes: z.number().int().positive(),
});
export type BarGap = z.infer<typeof barGapSchema>;

export const gapCalendarSchema = z.object({
  /** 'china-futures' (SHFE, DCE, CZCE, INE, GFEX and the demo's SIM), 'cffex', or 'continuous' (any other exchange). */
  name: z.enum(['china-futures', 'cffex', 'continuous']),
  /** The sessions judged, 'HH:MM–HH:MM' exchange time; empty for 'continuous' (every minute of the day). */
  sessions: z.array(z.string()),
  /** The shortest gap listed: 1 inside sessions, 2 on a continuous calendar. */
  minMinutes: z.number().int().positive(),
});

export const barGapsSchema = z.object({
  vtSymbol: z.string(),
  interval: z.literal('1m'),
  calendar: gapCalendarSchema,
  /** The first and last bar scanned; gaps lie strictly between them. Null when no bar is in range. */
  firstBar: z.string().nullable(),
  lastBar: z.string().nullable(),
  barsScanned: z.number().int().nonnegative(),
  /** The first MAX_LISTED_GAPS gaps, in time order. */
  gaps: z.array(barGapSchema),
  /** Every gap found, and their minutes, whether listed or not. */
  totalGaps: z.number().int().nonnegative(),
  missingMinutes: z.number().int().nonnegative(),
  truncated: z.boolean(),
  /**
   * Sessions of the calendar without a single bar (a holiday, a product without a night
   * session, or a recorder that was down all session): counted, not listed as gaps.
   */
  emptySessions: z.number().int().nonnegative(),
});
export type BarGapsResult = z.infer<typeof barGapsSchema>;

/** The largest file an import takes through the API (the CLI has no such limit). */
export const MAX_IMPORT_CONTENT_CHARS = 50 * 1024 * 1024;
/** JSON escaping (`\n`, `\"`) makes the request body a little larger than the file. */
export const MAX_IMPORT_BODY_BYTES = Math.ceil(MAX_IMPORT_CONTENT_CHARS * 1.125) + 64 * 1024;

export const importHeaderSchema = z.enum(['use', 'skip', 'none']);
export type ImportHeaderMode = z.infer<typeof importHeaderSchema>;

export const importBarsParamsSchema = z.object({
  /** The file's own name, used in every message (line numbers refer to it). */
  fileName: z
    .string()
    .min(1, 'the file name is empty')
    .max(255)
    .refine((n) => !/[\\/\u0000]/.test(n), 'a file name, not a path'),
  content: z.string().min(1, 'the file is empty').max(MAX_IMPORT_CONTENT_CHARS, 'the file is larger than 50 MB; import it with `kestrel import`'),
  format: z.enum(['csv', 'json']),
  symbol: z.string().trim().min(1, 'the symbol is empty').max(64).regex(/^[^.\s]+$/, 'a symbol has no dots or spaces, e.g. rb2501'),
  exchange: z.string().trim().min(1, 'the exchange is empty').max(32).regex(/^[A-Za-z0-9_]+$/, 'an exchange is letters, digits or _, e.g. SHFE'),
  interval: z.enum(['1m', '1h', 'd', 'w']).default('1m'),
  /** As `kestrel import --columns`: `datetime=Date,open=Open,…` (header names) or `date=0,time=1,…` (positions). */
  columns: z.string().max(1000).optional(),
  /** `auto`, `epoch-s`, `epoch-ms` or a strftime-like pattern (`%Y%m%d %H%M`). */
  datetimeFormat: z.string().max(100).optional(),
  /** The zone the file's times are written in (IANA, UTC, +08:00); absent: already exchange time. */
  tz: z.string().max(64).optional(),
  /** The exchange's zone, whose naive local time the store keeps; absent: the same as tz. */
  exchangeTz: z.string().max(64).optional(),
  header: importHeaderSchema.default('use'),
  delimiter: z.string().min(1).max(4).optional(),
});
export type ImportBarsParams = z.input<typeof importBarsParamsSchema>;

export const importBarsResultSchema = z.object({
  ok: z.boolean(),
  message: z.string(),
  fileName: z.string(),
  vtSymbol: z.string(),
  interval: z.string(),
  rowsRead: z.number().int().nonnegative(),
  rowsWritten: z.number().int().nonnegative(),
  first: z.string().nullable(),
  last: z.string().nullable(),
  /** Rows whose datetime was before the previous row's. */
  outOfOrder: z.number().int().nonnegative(),
  /** Rows repeating an earlier datetime (the last one is stored). */
  repeated: z.number().int().nonnegative().default(0),
  /** A repeated datetime with different values, naming both lines (the file was stored). */
  warnings: z.array(z.string()).default([]),
  /** Where the bars went. */
  store: z.string(),
});
export type ImportBarsResult = z.infer<typeof importBarsResultSchema>;

export const dataEntries = {
  barOverview: query(
    z.object({}),
    barOverviewSchema,
    '/api/data/overview',
    'what the configured bar store holds: one row per symbol, exchange and interval (count, first, last)',
  ),
  barGaps: query(
    barGapsParamsSchema,
    barGapsSchema,
    '/api/data/gaps',
    'runs of missing 1-minute bars inside trading sessions, first 1,000 listed, all counted',
  ),
  importBars: command(
    importBarsParamsSchema,
    importBarsResultSchema,
    '/api/data/import',
    'import a CSV or JSON file of bars into the bar store: all rows or none, re-importing changes nothing',
    { maxBodyBytes: MAX_IMPORT_BODY_BYTES },
  ),
};
