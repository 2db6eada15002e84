import { z } from 'zod';

/**
 * The risk gate's vocabulary (DOMAIN.md "Risk gate"), declared once: core's RiskGate, the
 * worker's alerts, the snapshot's counters and the Dashboard all use these names.
 */

/** Why the gate refused an order intent. The first three are freezes: the decision is suppressed, not refused. */
export const RISK_REFUSAL_REASONS = [
  'halted',
  'restoring',
  'degraded',
  'reducing',
  'sessionEnd',
  'dailyOpenLimitProduct',
  'dailyOpenLimitGlobal',
  'maxPosition',
  'allocator',
  'awaitingAllocation',
] as const;
export type RiskRefusalReason = (typeof RISK_REFUSAL_REASONS)[number];
export const riskRefusalReasonSchema = z.enum(RISK_REFUSAL_REASONS);

/** Refusals by a freeze (the variant is not trading) rather than by a limit. */
export const FREEZE_REASONS: ReadonlySet<RiskRefusalReason> = new Set(['halted', 'restoring', 'degraded']);

/**
 * Refusals a strategy should simply try again on a later bar, neither a limit hit nor alerted: the
 * freezes, and a buy held while the allocator's answer (asked over IPC) is on its way.
 */
export const RETRY_REASONS: ReadonlySet<RiskRefusalReason> = new Set([...FREEZE_REASONS, 'awaitingAllocation']);

/** nautilus_trader's RiskEngine states: every rule applies / only reducing intents pass / nothing passes. */
export const RISK_GATE_STATES = ['ACTIVE', 'REDUCING', 'HALTED'] as const;
export type RiskGateStateName = (typeof RISK_GATE_STATES)[number];
export const riskGateStateSchema = z.enum(RISK_GATE_STATES);

/** The gate's limits. Every strategy's parameters include them (see tradingParamsSchema). */
export const riskLimitsSchema = z.object({
  /** Opens per product per trading day (the day rolls at 21:00). */
  maxDailyOpenPerProduct: z.number().int().nonnegative().default(3),
  /** Opens across all products of the variant per trading day. */
  maxDailyOpenGlobal: z.number().int().nonnegative().default(10),
  /** Go flat before a session end that is followed by a long pause (15:00, the night's end); no opens then. */
  closeAtSessionEnd: z.boolean().default(false),
  /** A session end counts for closeAtSessionEnd when the market then stays closed this long (lunch: 120). */
  sessionEndMinPauseMinutes: z.number().int().positive().default(180),
  /** Lots per instrument and direction, pending opens included; null: no limit. */
  maxPositionPerInstrument: z.number().int().positive().nullable().default(null),
  /** Money: when the trading day's realised + unrealised loss passes it, only reducing intents pass until the next day; null: no limit. */
  maxDailyLoss: z.number().finite().positive().nullable().default(null),
});
export type RiskLimits = z.infer<typeof riskLimitsSchema>;
