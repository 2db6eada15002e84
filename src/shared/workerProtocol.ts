import { z } from 'zod';
import { barSourceSchema, variantConfigSchema } from './config.js';
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
});
export type WorkerLaunch = z.infer<typeof workerLaunchSchema>;
export type WorkerLaunchInput = z.input<typeof workerLaunchSchema>;
export const WORKER_LAUNCH_ENV = 'KESTREL_WORKER';

export const toWorkerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stop') }),
  z.object({ type: z.literal('halt'), halted: z.boolean() }),
  /** The allocator authority's answer to an allocationRequest (DOMAIN.md: check-and-reserve). */
  z.object({ type: z.literal('allocationDecision'), requestId: z.string(), granted: z.boolean(), reason: z.string().nullable() }),
]);
export type ToWorker = z.infer<typeof toWorkerSchema>;

export const fromWorkerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('status'), status: variantStatusSchema, message: z.string().nullable() }),
  z.object({ type: z.literal('stopped') }),
  z.object({
    type: z.literal('alert'),
    level: z.enum(['INFO', 'WARNING', 'ERROR', 'CRITICAL']),
    title: z.string(),
    message: z.string(),
    key: z.string().optional(),
  }),
  /** Before a buy: reserve `amount` (quote currency) of the group's funds for `symbol`. */
  z.object({ type: z.literal('allocationRequest'), requestId: z.string(), group: z.string(), symbol: z.string(), amount: z.number() }),
  /** Funds given back: a resting buy cancelled, or a position reduced by a sell (at its cost). */
  z.object({ type: z.literal('allocationRelease'), group: z.string(), symbol: z.string(), amount: z.number(), cause: z.enum(['cancel', 'sell']) }),
  /** After restore: this worker's whole use per symbol (open positions at cost + resting buys); replaces what main held. */
  z.object({ type: z.literal('allocationReport'), group: z.string(), usage: z.array(z.object({ symbol: z.string(), amount: z.number() })) }),
  z.object({ type: z.literal('trade'), tradeId: z.string(), vtSymbol: z.string(), side: z.enum(['buy', 'sell']), offset: z.enum(['open', 'close']), price: z.number(), volume: z.number() }),
]);
export type FromWorker = z.infer<typeof fromWorkerSchema>;
