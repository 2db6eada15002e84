import type { LogLevelName } from './contract/logs.js';

/** Severity order of the log levels: a level filter keeps lines at or above the chosen one. */
export const LOG_LEVELS: readonly LogLevelName[] = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];

const RANK: Record<LogLevelName, number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 };

export function levelRank(level: LogLevelName): number {
  return RANK[level];
}

/** A line passes a level filter when its level is known and at least as severe as `min`. */
export function levelAtLeast(level: LogLevelName | null, min: LogLevelName | undefined | null): boolean {
  if (!min) return true;
  return level !== null && RANK[level] >= RANK[min];
}
