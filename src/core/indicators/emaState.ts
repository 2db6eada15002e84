/**
 * EMA state (DOMAIN.md): `bull` when ema_fast > ema_slow and close > ema_fast, `bear` when
 * mirrored, else `neutral`. Equalities are neutral: a close sitting on the fast EMA has not
 * confirmed either side.
 */
export type EmaStateName = 'bull' | 'bear' | 'neutral';

export function emaStateOf(close: number, emaFast: number, emaSlow: number): EmaStateName {
  if (emaFast > emaSlow && close > emaFast) return 'bull';
  if (emaFast < emaSlow && close < emaFast) return 'bear';
  return 'neutral';
}
