import { z } from 'zod';
import { alertLevelSchema } from './alertLevels.js';
import { ApiError, command, fieldErrorsOfIssues, query, type CallContext, type ContractEntry, type FieldError, type StreamEntry } from './contractKit.js';
import { backtestEntries } from './contract/backtests.js';
import { backtestProgressSchema, backtestSummarySchema } from './backtest.js';
import { dashboardEntries } from './contract/dashboard.js';
import { allocationEntries, allocationEvents } from './contract/allocation.js';
import { dataEntries } from './contract/data.js';
import { historyEntries } from './contract/history.js';
import { logEntries, logStreams } from './contract/logs.js';
import { settingsEntries } from './contract/settings.js';
import { tradeEntries } from './contract/trades.js';
import { instrumentUpdateSchema, tradingUpdateSchema } from './liveUpdate.js';
import { snapshotSchema, variantNameSchema, variantStatusSchema } from './snapshot.js';

export { alertLevelSchema, type AlertLevel } from './alertLevels.js';

/**
 * The one API contract. Every query and command is declared here once, with its
 * parameter and result schemas and its REST route; every event with its payload schema.
 * The preload bridge, the ipcMain registration, the REST/WebSocket/SSE server and the
 * renderer's clients are all generated from these tables, so a channel name or a route
 * is never written by hand anywhere else.
 */

export const variantSummarySchema = z.object({
  variant: z.string(),
  strategy: z.string(),
  status: z.union([variantStatusSchema, z.literal('stale')]),
  pid: z.number().int().nullable(),
  /** Wall-clock ISO time of the last snapshot. */
  updatedAt: z.string().nullable(),
  /** Exchange-time start of the last 1-minute bar processed. */
  lastBarAt: z.string().nullable(),
  vtSymbol: z.string().nullable(),
  windowMinutes: z.number().int().nullable(),
  source: z.string().nullable(),
  restarts: z.number().int().nonnegative(),
  /** Published by a process Kestrel does not supervise (e.g. a Python strategy). */
  external: z.boolean(),
  /**
   * The kill switch is on for this variant. Separate from `status`, because a halted variant
   * can also be degraded or restoring, and `status` shows only one of them.
   */
  halted: z.boolean(),
  message: z.string().nullable(),
});
export type VariantSummary = z.infer<typeof variantSummarySchema>;

export const statusSchema = z.object({
  app: z.literal('kestrel'),
  version: z.string(),
  host: z.enum(['electron', 'node']),
  startedAt: z.string(),
  dataDir: z.string(),
  controlEnabled: z.boolean(),
  demo: z.object({
    enabled: z.boolean(),
    speed: z.number(),
    /** Exchange time of the simulated market's last minute, when the demo runs. */
    simulatedTime: z.string().nullable(),
  }),
  variants: z.object({ total: z.number().int(), running: z.number().int() }),
});
export type Status = z.infer<typeof statusSchema>;

export const alertSchema = z.object({
  id: z.string(),
  time: z.string(),
  level: alertLevelSchema,
  variant: z.string().nullable(),
  title: z.string(),
  message: z.string(),
  context: z.record(z.string(), z.unknown()).default({}),
  acknowledged: z.boolean(),
});
export type Alert = z.infer<typeof alertSchema>;

export const commandResultSchema = z.object({
  ok: z.boolean(),
  message: z.string(),
});
export type CommandResult = z.infer<typeof commandResultSchema>;

const variantParam = z.object({ variant: variantNameSchema });
const noParams = z.object({});

export const contract = {
  listVariants: query(noParams, z.array(variantSummarySchema), '/api/variants', 'every variant: supervised and external'),
  getSnapshot: query(variantParam, snapshotSchema, '/api/variants/:variant/snapshot', "a variant's last good snapshot"),
  getStatus: query(noParams, statusSchema, '/api/status', 'the workstation itself'),
  listAlerts: query(noParams, z.array(alertSchema), '/api/alerts', 'recent alerts, newest first'),
  startVariant: command(variantParam, commandResultSchema, '/api/variants/:variant/start', 'start a stopped variant'),
  stopVariant: command(variantParam, commandResultSchema, '/api/variants/:variant/stop', 'stop a variant gracefully'),
  restartVariant: command(variantParam, commandResultSchema, '/api/variants/:variant/restart', 'stop, then start'),
  setTradingHalted: command(
    z.object({ variant: variantNameSchema.optional(), halted: z.boolean() }),
    commandResultSchema,
    '/api/halt',
    'the kill switch: halt (or resume) trading for one variant, or all when none is named',
  ),
  flattenVariant: command(
    z.object({ variant: variantNameSchema.optional() }),
    commandResultSchema,
    '/api/flatten',
    'the emergency stop: halt one variant, or all when none is named, and close every open position at the next bar open',
  ),
  acknowledgeAlert: command(
    z.object({ id: z.string().min(1) }),
    commandResultSchema,
    '/api/alerts/:id/acknowledge',
    'mark an alert as seen',
  ),
  ...logEntries,
  ...historyEntries,
  ...tradeEntries,
  ...dataEntries,
  ...settingsEntries,
  ...backtestEntries,
  ...dashboardEntries,
  ...allocationEntries,
} as const satisfies Record<string, ContractEntry>;

/** Answers that arrive item by item (log tail, log search). */
export const streams = {
  ...logStreams,
} as const satisfies Record<string, StreamEntry>;

export { instrumentUpdateSchema, tradingUpdateSchema, type TradingUpdate } from './liveUpdate.js';
export const variantUpdateSchema = z.object({
  summary: variantSummarySchema,
  instruments: z.array(instrumentUpdateSchema),
  /** Absent while the variant has no snapshot. */
  trading: tradingUpdateSchema.optional(),
});
export type VariantUpdate = z.infer<typeof variantUpdateSchema>;
export type { InstrumentUpdate } from './liveUpdate.js';

export const events = {
  variantUpdated: variantUpdateSchema,
  variantRemoved: z.object({ variant: z.string() }),
  alertRaised: alertSchema,
  alertAcknowledged: z.object({ id: z.string() }),
  backtestProgress: backtestProgressSchema,
  backtestUpdated: backtestSummarySchema,
  ...allocationEvents,
} as const satisfies Record<string, z.ZodType>;

export type Contract = typeof contract;
export type EntryName = keyof Contract;
export type QueryName = { [K in EntryName]: Contract[K]['kind'] extends 'query' ? K : never }[EntryName];
export type ParamsOf<K extends EntryName> = z.input<Contract[K]['params']>;
export type ValidParamsOf<K extends EntryName> = z.output<Contract[K]['params']>;
export type ResultOf<K extends EntryName> = z.output<Contract[K]['result']>;
export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;
export type Unsubscribe = () => void;

export type StreamName = keyof typeof streams;
export type StreamParamsOf<S extends StreamName> = z.input<(typeof streams)[S]['params']>;
export type ValidStreamParamsOf<S extends StreamName> = z.output<(typeof streams)[S]['params']>;
export type StreamItemOf<S extends StreamName> = z.output<(typeof streams)[S]['item']>;
/** Called once when a stream ends: null when it completed, else why it stopped. */
export type StreamEnd = (error: string | null) => void;

export const entryNames = Object.keys(contract) as EntryName[];
export const streamNames = Object.keys(streams) as StreamName[];
export const eventNames = Object.keys(events) as EventName[];

/** The API as the renderer sees it, whichever host serves it. */
export type KestrelApi = { [K in EntryName]: (params: ParamsOf<K>) => Promise<ResultOf<K>> } & {
  readonly events: { [E in EventName]: (listener: (payload: EventPayload<E>) => void) => Unsubscribe };
  /** Starts a stream; the returned function cancels it. */
  readonly streams: {
    [S in StreamName]: (params: StreamParamsOf<S>, onItem: (item: StreamItemOf<S>) => void, onEnd?: StreamEnd) => Unsubscribe;
  };
};

/** The workstation's side: one handler per contract entry, given validated params. */
export type ApiHandlers = {
  [K in EntryName]: (params: ValidParamsOf<K>, ctx: CallContext) => Promise<ResultOf<K>>;
};

/** Channel names are derived, never written: `kestrel:<entry>` and `kestrel:event:<event>`. */
export const ipcChannel = (name: EntryName): string => `kestrel:${name}`;
export const ipcEventChannel = (name: EventName): string => `kestrel:event:${name}`;

/** The workstation's side of streams: emit items until done; stop when `signal` aborts. */
export type StreamHandlers = {
  [S in StreamName]: (
    params: ValidStreamParamsOf<S>,
    emit: (item: StreamItemOf<S>) => void,
    signal: AbortSignal,
    ctx: CallContext,
  ) => Promise<void>;
};

export const ipcStreamChannel = (name: StreamName, part: 'start' | 'item' | 'end' | 'cancel'): string =>
  `kestrel:stream:${name}:${part}`;

export function parseStreamParams<S extends StreamName>(name: S, params: unknown): ValidStreamParamsOf<S> {
  const result = streams[name].params.safeParse(params ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'params';
    throw new ApiError(400, `${name}: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data as ValidStreamParamsOf<S>;
}

/** Validates params for an entry; a ZodError becomes a 400 naming the field (every wrong field in `fields`). */
export function parseParams<K extends EntryName>(name: K, params: unknown): ValidParamsOf<K> {
  const result = contract[name].params.safeParse(params ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'params';
    throw new ApiError(400, `${name}: ${where}: ${issue?.message ?? 'invalid'}`, fieldErrorsOfIssues(result.error.issues));
  }
  return result.data as ValidParamsOf<K>;
}

/**
 * Errors cross IPC as values: Electron strips an Error thrown in a handler down to a
 * message with a prefix, which would lose the HTTP-like status the UI acts on.
 */
export type IpcReply = { ok: true; result: unknown } | { ok: false; status: number; error: string; fields?: FieldError[] };

export {
  ApiError,
  apiErrorFromData,
  apiErrorToData,
  type ApiErrorData,
  fieldErrorsOf,
  fieldErrorsOfIssues,
  type FieldError,
  fillPath,
  type CallContext,
  type ContractEntry,
  type StreamEntry,
  type RestRoute,
  type HttpMethod,
} from './contractKit.js';
