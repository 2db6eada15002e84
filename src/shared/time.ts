/**
 * Conversions between vnpy's naive local datetime text and Kestrel's local-as-UTC seconds
 * (see bar.ts). Pure arithmetic on purpose: no Date parsing of local strings, which would
 * drag the machine's time zone in.
 */

const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?/;

/** 'YYYY-MM-DD HH:MM[:SS]' → local-as-UTC seconds, or null if the text is not such a datetime. */
export function parseDatetime(text: string): number | null {
  const m = DATETIME_RE.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [
    number, number, number, number, number, number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 2024-02-31 over into March; a datetime that rolls over is not a datetime.
  if (new Date(ms).getUTCDate() !== d) return null;
  return ms / 1000;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** local-as-UTC seconds → 'YYYY-MM-DD HH:MM:SS' */
export function formatDatetime(time: number): string {
  const d = new Date(time * 1000);
  return (
    `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`
  );
}

export const SECONDS_PER_MINUTE = 60;
export const SECONDS_PER_DAY = 86_400;

/** Minute of the day (0..1439) of a local-as-UTC time. */
export function minuteOfDay(time: number): number {
  return Math.floor((((time % SECONDS_PER_DAY) + SECONDS_PER_DAY) % SECONDS_PER_DAY) / 60);
}

/** 0 = Sunday … 6 = Saturday, of the local date. */
export function weekdayOf(time: number): number {
  return new Date(time * 1000).getUTCDay();
}

/** The wall clock's "now" as local-as-UTC seconds in a fixed-offset zone (China: +8h, no DST). */
export function nowInZone(offsetHours: number, nowMs: number = Date.now()): number {
  return Math.floor(nowMs / 1000) + offsetHours * 3600;
}
