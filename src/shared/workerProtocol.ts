import { z } from 'zod';
import { alertLevelSchema } from './alertLevels.js';
import { barSourceSchema, variantConfigSchema } from './config.js';
import { riskRefusalReasonSchema } from './risk.js';
import { instrumentUpdateSchema, tradingUpdateSchema } from './liveUpdate.js';
import { variantStatusSchema } from './snapshot.js';

/** What the supervisor hands a worker at start (in the KESTREL_WORKER env variable). */
export const workerLaunchSchema = z.object({
  variant: variantConfigSchema,
  dataDir: z.string(),
  barSource: barSourceSchema,
  /** 'simulated' when the bar store is fed by the demo market: snapshots must say so. */
  sourceLabel: z.enum(['simulated', 'sqlite', 'mysql', 'replay']),
  /** How many window bars of history restore aims for. */
  restoreWindowBars: z.number().int().positive().default(600),
  /**
   * Trading halted (kill switch): the worker computes but sends no order. null = as the
   * variant's saved state says (a halt survives restarts); true/false = the supervisor's word.
   */
  halted: z.boolean().nullable().default(null),
  /** Wall-clock seconds between two 1-minute bars of this source (60 / demo speed for the demo). */
  expectedBarSeconds: z.number().positive().default(60),
  /** The allocation group the variant is a member of (Settings → Allocation groups); null: no allocator. */
  allocation: z.object({ group: z.string(), requestTimeoutMs: z.number().int().positive() }).nullable().optional(),
});
export type WorkerLaunch = z.infer<typeof workerLaunchSchema>;
export type WorkerLaunchInput = z.input<typeof workerLaunchSchema>;
export const WORKER_LAUNCH_ENV = 'KESTREL_WORKER';
/**
 * V8 flags every host gives a strategy worker. A worker's live heap is ~11 MB whatever the bars
 * processed (measured after forced GCs); what grew was V8's headroom: the default young
 * generation (two 16 MB semi-spaces) and an old space let to grow before a major GC. A worker
 * handles a bar a minute, so it trades speed it does not need (about a quarter of a catch-up
 * replay's) for ~30 MB less resident memory, flat (bench/workerMemory.bench.ts).
 */
export const WORKER_V8_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--optimize-for-size'];

/** One metric family as prom-client's getMetricsAsJSON() describes it. */
export const metricFamilySchema = z.object({
  name: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/),
  help: z.string(),
  type: z.enum(['counter', 'gauge', 'histogram', 'summary']),
  values: z.array(
    z.object({
      value: z.number(),
      labels: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
      metricName: z.string().optional(),
    }),
  ),
  aggregator: z.string().optional(),
});
export type MetricFamily = z.infer<typeof metricFamilySchema>;

export const toWorkerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stop') }),
  z.object({ type: z.literal('halt'), halted: z.boolean() }),
  /** Halt, then close every position at the next bar's open. */
  z.object({ type: z.literal('flatten') }),
  /** The allocator authority's answer to an allocationRequest (DOMAIN.md: check-and-reserve). */
  z.object({ type: z.literal('allocationDecision'), requestId: z.string(), granted: z.boolean(), reason: z.string().nullable() }),
]);
export type ToWorker = z.infer<typeof toWorkerSchema>;

/** An alert a worker raises; the supervisor adds the variant and hands it to the AlertCenter. */
export const workerAlertSchema = z.object({
  level: alertLevelSchema,
  title: z.string(),
  message: z.string(),
  /** Alerts with one key share a quiet period. */
  key: z.string().optional(),
});
export type WorkerAlert = z.infer<typeof workerAlertSchema>;

export const fromWorkerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('status'), status: variantStatusSchema, message: z.string().nullable() }),
  workerAlertSchema.extend({ type: z.literal('alert') }),
  /**
   * The worker's own Prometheus series (process metrics, bar latency, restore duration) as
   * prom-client's getMetricsAsJSON() gives them; sent on each heartbeat and after a restore.
   * The main process labels them with the variant and serves them beside its own.
   */
  z.object({
    type: z.literal('metrics'),
    families: z.array(metricFamilySchema),
    /**
     * The risk gate's refusals per reason since the previous metrics message of this process
     * (restore's replay not counted): deltas, so that main's counter never counts one twice,
     * whatever the restarts and whatever the restored state held.
     */
    refusals: z.partialRecord(riskRefusalReasonSchema, z.number().int().nonnegative()).optional(),
  }),
  /** Before a buy: reserve `amount` (quote currency) of the group's funds for `symbol`. */
  z.object({ type: z.literal('allocationRequest'), requestId: z.string(), group: z.string(), symbol: z.string(), amount: z.number() }),
  /** Funds given back: a resting buy cancelled, or a position reduced by a sell (at its cost). */
  z.object({ type: z.literal('allocationRelease'), group: z.string(), symbol: z.string(), amount: z.number(), cause: z.enum(['cancel', 'sell']) }),
  /**
   * Bars processed: each instrument's live tail and the book, sent as the bars are processed so
   * that main emits them at once instead of waiting for the snapshot file (which stays, written
   * at a bounded rate, for a restarted main and as the protocol of external publishers).
   */
  z.object({ type: z.literal('live'), updatedAt: z.string(), instruments: z.array(instrumentUpdateSchema), trading: tradingUpdateSchema }),
  /** After restore: this worker's whole use per symbol (open positions at cost + resting buys); replaces what main held. */
  z.object({ type: z.literal('allocationReport'), group: z.string(), usage: z.array(z.object({ symbol: z.string(), amount: z.number() })) }),
]);
export type FromWorker = z.infer<typeof fromWorkerSchema>;
