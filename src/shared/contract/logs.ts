import { z } from 'zod';
import { boolParam, query, stream } from '../contractKit.js';

/**
 * Logs: every `.log` under `<data>/logs/` — ours (JSON lines) and anybody's (plain text,
 * level detected). Files are addressed by their path relative to the logs folder, e.g.
 * `demo-15m/strategy.log`; a path that leaves the folder is refused.
 */
export const logLevelNameSchema = z.enum(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']);
export type LogLevelName = z.infer<typeof logLevelNameSchema>;

/** The main process's own log, relative to the logs folder. */
export const MAIN_LOG_FILE = 'kestrel/main.log';

const logFileParam = z
  .string()
  .min(1)
  .max(512)
  .refine((p) => !p.split(/[\\/]/).includes('..') && !p.startsWith('/'), 'a log file is a path inside the logs folder');

export const logFileSchema = z.object({
  file: z.string(),
  /** The variant folder it sits in, if any. */
  variant: z.string().nullable(),
  bytes: z.number().int().nonnegative(),
  modifiedAt: z.string(),
  /** Line-offset index: built in the background; `lines` is known once it is done. */
  index: z.object({ done: z.boolean(), progress: z.number().min(0).max(1), lines: z.number().int().nullable() }),
});
export type LogFile = z.infer<typeof logFileSchema>;

export const logLineSchema = z.object({
  /**
   * 1-based line number in the file; null while it cannot be known yet (a page read from the
   * end of a file whose line index is still being built).
   */
  lineNo: z.number().int().positive().nullable(),
  /** ISO or as written; null when the line has no recognisable time. */
  time: z.string().nullable(),
  level: logLevelNameSchema.nullable(),
  variant: z.string().nullable(),
  message: z.string(),
  /** The other fields of a JSON line, shown as columns. */
  fields: z.record(z.string(), z.unknown()),
  /** The line as written, cut to a sane length for display. */
  raw: z.string(),
});
export type LogLine = z.infer<typeof logLineSchema>;

export const logPageSchema = z.object({
  file: z.string(),
  page: z.number().int().positive(),
  pageSize: z.number().int().positive(),
  /** Lines matching the filter, when known (null while the index is still being built). */
  totalLines: z.number().int().nullable(),
  totalPages: z.number().int().nullable(),
  lines: z.array(logLineSchema),
  index: z.object({ done: z.boolean(), progress: z.number().min(0).max(1) }),
});
export type LogPage = z.infer<typeof logPageSchema>;

export const logSearchEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hit'), line: logLineSchema }),
  z.object({
    type: z.literal('progress'),
    scannedBytes: z.number().int().nonnegative(),
    totalBytes: z.number().int().nonnegative(),
    hits: z.number().int().nonnegative(),
  }),
]);
export type LogSearchEvent = z.infer<typeof logSearchEventSchema>;

const pageNumber = z.coerce.number().int().positive();

export const logEntries = {
  listLogFiles: query(z.object({}), z.array(logFileSchema), '/api/logs/files', 'every log file under the logs folder'),
  listLogLines: query(
    z.object({
      file: logFileParam,
      page: pageNumber.default(1),
      pageSize: z.coerce.number().int().min(1).max(1000).default(200),
      level: logLevelNameSchema.optional(),
      keyword: z.string().max(200).optional(),
      /** Jump to time: the page holding the first line at or after this time ('YYYY-MM-DD HH:MM:SS' or ISO). */
      at: z.string().max(40).optional(),
      /**
       * Page counted from the end of the file (1 = the last page, the newest `pageSize` lines);
       * the answer's `page` then counts from the end too.
       */
      fromEnd: boolParam.optional(),
    }),
    logPageSchema,
    '/api/logs/list',
    'one page of a log file, filtered by level and keyword',
  ),
} as const;

export const logStreams = {
  /** Follows a file: the last lines, then every new line as it is written. */
  tailLog: stream(
    // Without a file: the workstation's own log (what a web client's log view calls for).
    z.object({ file: logFileParam.default(MAIN_LOG_FILE), level: logLevelNameSchema.optional(), last: z.coerce.number().int().min(0).max(1000).default(100) }),
    logLineSchema,
    '/api/logs/stream',
    'the last lines of a log, then new lines as they are written',
  ),
  /** Streams hits as the file is scanned; cancelled when the client goes away. */
  searchLog: stream(
    z.object({
      file: logFileParam,
      pattern: z.string().min(1).max(500),
      regex: boolParam.default(false),
      caseSensitive: boolParam.default(false),
      level: logLevelNameSchema.optional(),
      limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
    }),
    logSearchEventSchema,
    '/api/logs/search',
    'keyword or regular-expression search, streamed',
  ),
} as const;
