import { formatAge, formatWallClock } from '../lib/format.js';
import { useClock } from '../stores/clock.js';
import { RESTART_NOTE_MS, type RestartNote } from '../stores/variants.js';

/** "restarted 12 s ago" beside a pid, for a few minutes after the process changed. */
export function RestartTag({ note }: { note: RestartNote | undefined }) {
  const now = useClock((s) => s.now);
  if (!note || now - note.at > RESTART_NOTE_MS) return null;
  const from = note.fromPid === null ? '—' : String(note.fromPid);
  const to = note.toPid === null ? '—' : String(note.toPid);
  return (
    // Keyed by time so that each new restart replays the flash.
    <span
      key={note.at}
      className="restart-tag"
      data-testid="restart-tag"
      title={`process ${from} → ${to} at ${formatWallClock(note.at)}; ${note.restarts} restart(s) in total`}
    >
      restarted {formatAge(note.at, now)}
    </span>
  );
}
