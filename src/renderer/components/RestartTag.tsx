import { formatWallClock } from '../lib/format.js';
import { useClock } from '../stores/clock.js';
import { RESTART_NOTE_MS, type RestartNote } from '../stores/variants.js';

/** Seconds, then whole minutes: the tag must fit beside the pid in a table cell. */
function shortAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 1) return 'just now';
  return s < 60 ? `${s} s ago` : `${Math.floor(s / 60)} min ago`;
}

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
      restarted {shortAge(now - note.at)}
    </span>
  );
}
