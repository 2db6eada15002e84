import { z } from 'zod';

/**
 * Contract rolls (DOMAIN.md "MACD-TD strategy", Contract roll): what a roll does with an open
 * position — move it to the new contract, close it, or keep it where it is.
 */
export const ROLL_POLICIES = ['move', 'close', 'keep'] as const;
export type RollPolicy = (typeof ROLL_POLICIES)[number];

/**
 * A roll whose orders a freeze (halted, degraded) held back: the product already trades the new
 * contract; the position is moved or closed when trading resumes. Kept in the engine's state and
 * shown in the snapshot.
 */
export const pendingRollSchema = z.object({
  product: z.string().min(1),
  from: z.string().min(1),
  to: z.string().min(1),
  /** The trading day whose first bar decided the roll. */
  tradingDay: z.string(),
  policy: z.enum(ROLL_POLICIES),
});
export type PendingRoll = z.infer<typeof pendingRollSchema>;
