import { z } from 'zod';

/**
 * Alert levels in rising order, declared here once: the API's alerts, the worker protocol, the
 * channels' minimum level and the renderer's filters all derive from this list, so a new level
 * cannot reach one of them and not the others.
 */
export const ALERT_LEVELS = ['INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;
export const alertLevelSchema = z.enum(ALERT_LEVELS, { error: `the level is ${ALERT_LEVELS.slice(0, -1).join(', ')} or ${ALERT_LEVELS.at(-1) ?? ''}` });
export type AlertLevel = z.infer<typeof alertLevelSchema>;

/** Position in ALERT_LEVELS: a filter or a channel keeps what is at or above its minimum. */
export function alertLevelRank(level: AlertLevel): number {
  return ALERT_LEVELS.indexOf(level);
}

export function alertLevelAtLeast(level: AlertLevel, min: AlertLevel): boolean {
  return alertLevelRank(level) >= alertLevelRank(min);
}
