import { z } from 'zod';

const period = z.number().int().min(1).max(10_000);

/**
 * The signal engine's periods (DOMAIN.md "Indicators", "Signals"), declared here once: a
 * variant's settings validate with this schema, and core's SignalEngine takes the type and the
 * defaults derived from it, so the two can never disagree.
 */
export const signalParamsSchema = z.object({
  /** MACD fast EMA period. */
  fast: period.default(12),
  /** MACD slow EMA period. */
  slow: period.default(26),
  /** MACD signal (dea) EMA period. */
  signal: period.default(9),
  /** EMA state fast period. */
  emaFast: period.default(20),
  /** EMA state slow period. */
  emaSlow: period.default(60),
  /** L: dullness lookback in window bars. */
  lookback: period.default(20),
  /** M: divergence comparison window in window bars. */
  compare: period.default(50),
  /** R: divergence recent window, and how long a divergence stays active. */
  recent: period.default(5),
});
export type SignalParams = z.infer<typeof signalParamsSchema>;

export const SIGNAL_PARAM_KEYS = signalParamsSchema.keyof().options;

export const DEFAULT_SIGNAL_PARAMS: Readonly<SignalParams> = Object.freeze(signalParamsSchema.parse({}));
