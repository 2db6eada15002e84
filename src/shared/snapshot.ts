import { z } from 'zod';
import type { OhlcvBar } from './bar.js';
import { pendingRollSchema } from './contractRoll.js';
import { riskGateStateSchema } from './risk.js';
import { strategyDisplaySchema } from './strategyDisplay.js';
import { tradeFillSchema } from './trade.js';

/**
 * The monitoring contract: what a worker (ours, or any other process) publishes in
 * `<data>/monitor/snapshot_<variant>.json`. Bounded by construction: at most
 * MAX_SNAPSHOT_BARS window bars per instrument, at most MAX_SNAPSHOT_MARKS marks.
 * The JSON Schema in resources/ is generated from this (scripts/snapshot-schema.ts).
 */
export const SNAPSHOT_VERSION = 1;
export const MAX_SNAPSHOT_BARS = 500;
export const MAX_SNAPSHOT_MARKS = 200;
export const MAX_SNAPSHOT_TRADES = 100;

export const variantStatusSchema = z.enum([
  'starting',
  'restoring',
  'running',
  'degraded',
  'halted',
  'stopped',
  'crashed',
]);
export type VariantStatus = z.infer<typeof variantStatusSchema>;

const finite = z.number().finite();
const nullableFinite = finite.nullable();

/** A closed or forming window bar with the indicator values computed at its close. */
export const barPointSchema = z.object({
  time: z.number().int(),
  open: finite,
  high: finite,
  low: finite,
  close: finite,
  volume: finite,
  turnover: finite.default(0),
  openInterest: finite.default(0),
  dif: nullableFinite.default(null),
  dea: nullableFinite.default(null),
  macd: nullableFinite.default(null),
  emaFast: nullableFinite.default(null),
  emaSlow: nullableFinite.default(null),
});
export type BarPoint = z.infer<typeof barPointSchema>;

/** The indicator values a chart point carries; NaN/Infinity (not yet defined) become null. */
export interface PointIndicators {
  dif: number;
  dea: number;
  macd: number;
  emaFast: number;
  emaSlow: number;
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * A bar as charts receive it, from a live worker's analysis or the history service's alike;
 * `indicators` null for a bar whose indicators are not computed (a forming bar before any).
 */
export function barPointOf(bar: OhlcvBar, indicators: PointIndicators | null): BarPoint {
  return {
    time: bar.time,
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
    volume: bar.volume,
    turnover: bar.turnover,
    openInterest: bar.openInterest,
    dif: indicators ? finiteOrNull(indicators.dif) : null,
    dea: indicators ? finiteOrNull(indicators.dea) : null,
    macd: indicators ? finiteOrNull(indicators.macd) : null,
    emaFast: indicators ? finiteOrNull(indicators.emaFast) : null,
    emaSlow: indicators ? finiteOrNull(indicators.emaSlow) : null,
  };
}

export const sideSchema = z.enum(['buy', 'sell']);
export const tdMarkSchema = z.object({
  time: z.number().int(),
  side: sideSchema,
  /** 9 = setup completed, 13 = countdown completed */
  kind: z.union([z.literal(9), z.literal(13)]),
  price: finite,
});
export type TdMark = z.infer<typeof tdMarkSchema>;

export const dullnessStateSchema = z.enum(['none', 'dull', 'structure']);
export const signalStateSchema = z.object({
  emaState: z.enum(['bull', 'bear', 'neutral']).default('neutral'),
  tdSetup: z.object({ side: sideSchema.nullable(), count: z.number().int() }).default({ side: null, count: 0 }),
  tdCountdown: z
    .object({ side: sideSchema.nullable(), count: z.number().int() })
    .default({ side: null, count: 0 }),
  bottomDullness: z.object({ state: dullnessStateSchema, since: z.number().int().nullable() }).default({ state: 'none', since: null }),
  topDullness: z.object({ state: dullnessStateSchema, since: z.number().int().nullable() }).default({ state: 'none', since: null }),
  bottomDivergence: z.object({ active: z.boolean(), since: z.number().int().nullable() }).default({ active: false, since: null }),
  topDivergence: z.object({ active: z.boolean(), since: z.number().int().nullable() }).default({ active: false, since: null }),
});
export type SignalState = z.infer<typeof signalStateSchema>;

export const instrumentSnapshotSchema = z.object({
  vtSymbol: z.string().min(1),
  windowMinutes: z.number().int().positive(),
  bars: z.array(barPointSchema).max(MAX_SNAPSHOT_BARS),
  forming: barPointSchema.nullable().default(null),
  marks: z.array(tdMarkSchema).max(MAX_SNAPSHOT_MARKS).default([]),
  signals: signalStateSchema.default(signalStateSchema.parse({})),
  /** Start of the last 1-minute bar processed, 'YYYY-MM-DD HH:MM:SS' exchange time. */
  lastBarAt: z.string().nullable().default(null),
  minuteBarsProcessed: z.number().int().nonnegative().default(0),
});
export type InstrumentSnapshot = z.infer<typeof instrumentSnapshotSchema>;

export const positionSchema = z.object({
  vtSymbol: z.string(),
  direction: z.enum(['long', 'short']),
  volume: finite,
  avgPrice: finite,
  unrealizedPnl: finite.default(0),
});
export const orderSchema = z.object({
  id: z.string(),
  vtSymbol: z.string(),
  side: sideSchema,
  offset: z.enum(['open', 'close']),
  type: z.enum(['market', 'limit', 'stop']),
  price: nullableFinite,
  volume: finite,
  status: z.string(),
  createdAt: z.number().int(),
});
/** A fill as published: the trade record, with pnl and commission optional for other publishers. */
export const tradeRowSchema = tradeFillSchema.extend({
  time: tradeFillSchema.shape.time.int(),
  pnl: tradeFillSchema.shape.pnl.default(null),
  commission: tradeFillSchema.shape.commission.default(0),
});

export const restoreInfoSchema = z.object({
  phase: z.enum(['idle', 'loading', 'replaying', 'done', 'degraded']),
  minuteBarsReplayed: z.number().int().nonnegative(),
  windowBarsRestored: z.number().int().nonnegative(),
  message: z.string().nullable().default(null),
  finishedAt: z.string().nullable().default(null),
  /** Decisions computed during replay that were not sent, as the rule says. */
  suppressedDecisions: z.number().int().nonnegative().default(0),
  /** Whether the state came from the journal (exact continuation) or was rebuilt by replay. */
  from: z.enum(['state', 'replay', 'none']).default('none'),
});

export const snapshotSchema = z.object({
  version: z.literal(SNAPSHOT_VERSION),
  variant: z.string().min(1),
  strategy: z.string().min(1),
  status: variantStatusSchema,
  /** 'simulated' when the bars come from the demo market: the UI must say so. */
  source: z.enum(['simulated', 'sqlite', 'mysql', 'replay', 'external']),
  pid: z.number().int().nullable().default(null),
  /** Wall-clock ISO time of writing; moves while the market is open. */
  updatedAt: z.string(),
  instruments: z.array(instrumentSnapshotSchema).max(20),
  /** What the strategy shows (lines, panes, marks, badges); null from a publisher that does not say. */
  display: strategyDisplaySchema.nullable().default(null),
  /** product → active contract. */
  activeContracts: z.record(z.string(), z.string()).default({}),
  /** Rolls decided while trading was frozen, whose orders wait for trading to resume. */
  pendingRolls: z.array(pendingRollSchema).max(20).default([]),
  /** The risk gate's state; null from a publisher without one. */
  risk: riskGateStateSchema.nullable().default(null),
  positions: z.array(positionSchema).default([]),
  orders: z.array(orderSchema).default([]),
  recentTrades: z.array(tradeRowSchema).max(MAX_SNAPSHOT_TRADES).default([]),
  counters: z.record(z.string(), z.number()).default({}),
  pnl: z.object({ realized: finite, unrealized: finite, today: finite }).default({ realized: 0, unrealized: 0, today: 0 }),
  restore: restoreInfoSchema.nullable().default(null),
  message: z.string().nullable().default(null),
});
export type Snapshot = z.infer<typeof snapshotSchema>;
export type SnapshotInput = z.input<typeof snapshotSchema>;

export function snapshotFileName(variant: string): string {
  return `snapshot_${variant}.json`;
}

/** Variant names become file names: keep them to a safe alphabet. */
export const variantNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a variant name is 1-64 letters, digits, "_", "." or "-"');
