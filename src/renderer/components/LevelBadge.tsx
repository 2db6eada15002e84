import type { AlertLevel } from '../../shared/api.js';
import type { LogLevelName } from '../../shared/contract/logs.js';

/**
 * A level as a badge, for alerts and log lines alike: the colour comes from the level. Log lines
 * sit in a narrow column, so there WARNING and CRITICAL are shortened; a line without a level shows
 * a dash.
 */
export function LevelBadge({ level, kind }: { level: AlertLevel | LogLevelName | null; kind: 'alert' | 'log' }) {
  if (kind === 'alert') {
    return (
      <span className={`alert-level level-${(level ?? 'info').toLowerCase()}`} data-testid="alert-level">
        {level}
      </span>
    );
  }
  if (!level) return <span className="log-level log-level-none">—</span>;
  return <span className={`log-level log-level-${level}`}>{level === 'WARNING' ? 'WARN' : level === 'CRITICAL' ? 'CRIT' : level}</span>;
}
