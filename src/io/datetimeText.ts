/**
 * Fast conversion of stored datetime text ('YYYY-MM-DD HH:MM:SS', optionally with fractional
 * seconds as MySQL DATETIME(3) or peewee writes them) into local-as-UTC seconds.
 *
 * shared/time.ts parseDatetime is the general parser; this one is for the hot read path of the
 * bar stores (millions of rows), so it reads character codes instead of running a regex and
 * building a Date per row. It falls back to parseDatetime for anything that is not the fixed shape.
 */
import { parseDatetime } from '../shared/time.js';

const ZERO = 48;

function digit(text: string, i: number): number {
  const d = text.charCodeAt(i) - ZERO;
  return d >= 0 && d <= 9 ? d : NaN;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = m > 2 ? m - 3 : m + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Stored datetime text → local-as-UTC seconds; NaN when the text is not a datetime. */
export function storedDatetimeToTime(text: string): number {
  if (text.length >= 19 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45 && text.charCodeAt(13) === 58) {
    const y = digit(text, 0) * 1000 + digit(text, 1) * 100 + digit(text, 2) * 10 + digit(text, 3);
    const mo = digit(text, 5) * 10 + digit(text, 6);
    const d = digit(text, 8) * 10 + digit(text, 9);
    const h = digit(text, 11) * 10 + digit(text, 12);
    const mi = digit(text, 14) * 10 + digit(text, 15);
    const s = digit(text, 17) * 10 + digit(text, 18);
    // NaN fails every comparison below, so a stray character lands in the slow path.
    if (mo >= 1 && mo <= 12 && d >= 1 && d <= (DAYS_IN_MONTH[mo - 1] ?? 0) && h <= 23 && mi <= 59 && s <= 59) {
      if (mo !== 2 || d <= 28 || (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) {
        return daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s;
      }
    }
  }
  const slow = parseDatetime(text);
  return slow ?? NaN;
}
