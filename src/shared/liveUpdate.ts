import { z } from 'zod';
import { pendingRollSchema } from './contractRoll.js';
import {
  barPointSchema,
  orderSchema,
  positionSchema,
  restoreInfoSchema,
  signalStateSchema,
  tdMarkSchema,
  tradeRowSchema,
  type InstrumentSnapshot,
  type Snapshot,
} from './snapshot.js';

/**
 * A variant's live tail: what a chart and a book need per update, never the whole series. Main
 * derives it from a snapshot file (any publisher) and our own workers send it over their IPC
 * channel as each bar is processed, so both paths cut the tail here, the same way.
 */
/** What the live chart needs per update: the tail, never the whole series. */
export const instrumentUpdateSchema = z.object({
  vtSymbol: z.string(),
  windowMinutes: z.number().int(),
  /** The last few closed window bars (the newest last); applied with series.update(). */
  recent: z.array(barPointSchema),
  forming: barPointSchema.nullable(),
  marks: z.array(tdMarkSchema),
  signals: signalStateSchema,
  lastBarAt: z.string().nullable(),
  barCount: z.number().int(),
});
/**
 * The variant's book as the dashboard shows it: small (a few positions and resting orders, the
 * last few trades), so that it rides on every update instead of a snapshot refetch.
 */
export const tradingUpdateSchema = z.object({
  positions: z.array(positionSchema),
  orders: z.array(orderSchema),
  pnl: z.object({ realized: z.number(), unrealized: z.number(), today: z.number() }),
  counters: z.record(z.string(), z.number()),
  /** The newest few trades, oldest first; the snapshot holds more. */
  recentTrades: z.array(tradeRowSchema),
  restore: restoreInfoSchema.nullable(),
  /** product → active contract, and rolls waiting for trading to resume (as in the snapshot). */
  activeContracts: z.record(z.string(), z.string()).optional(),
  pendingRolls: z.array(pendingRollSchema).optional(),
});
export type TradingUpdate = z.infer<typeof tradingUpdateSchema>;
export type InstrumentUpdate = z.infer<typeof instrumentUpdateSchema>;

/** Live-update tail sizes: enough for a chart to patch itself with series.update(). */
export const RECENT_BARS = 3;
export const RECENT_MARKS = 10;
/** Trades on each update: enough to mark a fill on the chart; the snapshot holds the rest. */
export const RECENT_TRADES = 5;

export function instrumentTailOf(i: InstrumentSnapshot): InstrumentUpdate {
  return {
    vtSymbol: i.vtSymbol,
    windowMinutes: i.windowMinutes,
    recent: i.bars.slice(-RECENT_BARS),
    forming: i.forming,
    marks: i.marks.slice(-RECENT_MARKS),
    signals: i.signals,
    lastBarAt: i.lastBarAt,
    barCount: i.bars.length,
  };
}

export function tradingTailOf(s: Pick<Snapshot, 'positions' | 'orders' | 'pnl' | 'counters' | 'recentTrades' | 'restore' | 'activeContracts' | 'pendingRolls'>): TradingUpdate {
  return {
    positions: s.positions,
    orders: s.orders,
    pnl: s.pnl,
    counters: s.counters,
    recentTrades: s.recentTrades.slice(-RECENT_TRADES),
    restore: s.restore,
    activeContracts: s.activeContracts,
    pendingRolls: s.pendingRolls,
  };
}

/** The latest 1-minute bar any instrument has processed ('YYYY-MM-DD HH:MM:SS' orders as text). */
export function lastBarAtOf(instruments: readonly { lastBarAt: string | null }[]): string | null {
  return instruments.reduce<string | null>((latest, i) => (i.lastBarAt !== null && (latest === null || i.lastBarAt > latest) ? i.lastBarAt : latest), null);
}
