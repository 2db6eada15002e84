/**
 * The futures trading calendar: which minutes are open, and which trading day a minute
 * belongs to. Times are local-as-UTC seconds (see src/shared/bar.ts), so all of this is
 * plain arithmetic on the exchange's own clock.
 *
 * Weekend rule: every session opens on Monday to Friday, counted by the calendar date on
 * which the session *starts*. A night session is therefore held Monday evening to Friday
 * evening (a session that runs past midnight, e.g. 21:00–02:30, spills into Tuesday to
 * Saturday mornings); there is never a Saturday or Sunday session start and so no
 * Sunday-night session. Holidays: none — every Monday to Friday trades, which is what a
 * demo needs and what a trader reading a simulated chart expects.
 *
 * Trading day: a minute at or after the roll hour (21:00) belongs to the next weekday; a
 * minute before it belongs to its own date, or to the following Monday if that date is a
 * Saturday or Sunday. So Friday's night session belongs to Monday, Monday 09:00 to Monday.
 */
import { SECONDS_PER_DAY, SECONDS_PER_MINUTE } from '../../shared/time.js';

export interface SessionSpec {
  /** 'HH:MM' exchange time, inclusive. */
  start: string;
  /** 'HH:MM' exchange time, exclusive ('24:00' allowed). An end at or before start runs past midnight. */
  end: string;
}

export const CHINA_FUTURES_SESSIONS: readonly SessionSpec[] = [
  { start: '09:00', end: '10:15' },
  { start: '10:30', end: '11:30' },
  { start: '13:30', end: '15:00' },
  { start: '21:00', end: '23:00' },
];

const MINUTES_PER_DAY = 1440;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;
/** 1970-01-01, day number 0, was a Thursday. */
const WEEKDAY_OF_DAY_ZERO = 4;
const SATURDAY = 6;
const SUNDAY = 0;

function parseClock(text: string, field: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  if (!m) throw new Error(`session ${field} "${text}" is not HH:MM`);
  const h = Number(m[1]);
  const mi = Number(m[2]);
  if (h > 24 || mi > 59 || (h === 24 && mi !== 0)) throw new Error(`session ${field} "${text}" is not a time of day`);
  return h * 60 + mi;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function weekdayOfDayNumber(day: number): number {
  return mod(day + WEEKDAY_OF_DAY_ZERO, 7);
}

function isWeekend(day: number): boolean {
  const w = weekdayOfDayNumber(day);
  return w === SATURDAY || w === SUNDAY;
}

/** 'YYYY-MM-DD' of a day number, by arithmetic (Hinnant's civil-from-days): a Date and its ISO text cost a microsecond. */
function formatDayNumber(day: number): string {
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  if (y < 1000 || y > 9999) return new Date(day * SECONDS_PER_DAY * 1000).toISOString().slice(0, 10);
  return `${String(y)}-${m < 10 ? '0' : ''}${String(m)}-${d < 10 ? '0' : ''}${String(d)}`;
}

export class TradingCalendar {
  /** Indexed by minute of the week, Sunday 00:00 = 0. */
  private readonly open = new Uint8Array(MINUTES_PER_WEEK);
  /** Minutes from this week-minute to the first open minute at or after it. */
  private readonly toNextOpen = new Int32Array(MINUTES_PER_WEEK);
  /** Minutes from this week-minute back to the last open minute strictly before it. */
  private readonly toPreviousOpen = new Int32Array(MINUTES_PER_WEEK);
  /** For open minutes: minutes since its session started / until its session ends (exclusive). */
  private readonly sinceSessionStart = new Int32Array(MINUTES_PER_WEEK);
  private readonly untilSessionEnd = new Int32Array(MINUTES_PER_WEEK);
  private readonly rollMinute: number;
  private lastDayNumber = Number.NaN;
  private lastDayText = '';
  readonly sessions: readonly SessionSpec[];

  /**
   * @param opts.nightRollHour hour (1..24) from which a minute belongs to the next trading
   *   day; 24 means trading day = calendar date (no night roll).
   */
  constructor(sessions: readonly SessionSpec[] = CHINA_FUTURES_SESSIONS, opts: { nightRollHour?: number } = {}) {
    const rollHour = opts.nightRollHour ?? 21;
    if (!Number.isInteger(rollHour) || rollHour < 1 || rollHour > 24) {
      throw new Error(`nightRollHour must be an integer 1..24, got ${rollHour}`);
    }
    if (sessions.length === 0) throw new Error('a trading calendar needs at least one session');
    this.rollMinute = rollHour * 60;
    this.sessions = sessions.map((s) => ({ ...s }));

    for (const s of sessions) {
      const start = parseClock(s.start, 'start');
      if (start === MINUTES_PER_DAY) throw new Error(`session start "${s.start}" must be before 24:00`);
      let end = parseClock(s.end, 'end');
      if (end <= start) end += MINUTES_PER_DAY;
      for (let weekday = 1; weekday <= 5; weekday++) {
        const base = weekday * MINUTES_PER_DAY;
        for (let m = start; m < end; m++) {
          const wm = (base + m) % MINUTES_PER_WEEK;
          if (this.open[wm] === 1) throw new Error(`session ${s.start}–${s.end} overlaps another session`);
          this.open[wm] = 1;
          this.sinceSessionStart[wm] = m - start;
          this.untilSessionEnd[wm] = end - m;
        }
      }
    }
    // Two passes backwards over the week so that the distances wrap from Saturday into Monday.
    let next = -1;
    for (let i = 2 * MINUTES_PER_WEEK - 1; i >= 0; i--) {
      const wm = i % MINUTES_PER_WEEK;
      if (this.open[wm] === 1) next = i;
      if (i < MINUTES_PER_WEEK) this.toNextOpen[wm] = next - i;
    }
    let previous = -1;
    for (let i = 0; i < 2 * MINUTES_PER_WEEK; i++) {
      const wm = i % MINUTES_PER_WEEK;
      if (i >= MINUTES_PER_WEEK) this.toPreviousOpen[wm] = i - previous;
      if (this.open[wm] === 1) previous = i;
    }
  }

  private static weekMinute(minute: number): number {
    const day = Math.floor(minute / MINUTES_PER_DAY);
    return weekdayOfDayNumber(day) * MINUTES_PER_DAY + mod(minute, MINUTES_PER_DAY);
  }

  /** Whether the minute containing `time` is open. */
  isOpen(time: number): boolean {
    const minute = Math.floor(time / SECONDS_PER_MINUTE);
    return this.open[TradingCalendar.weekMinute(minute)] === 1;
  }

  /** Start of the first open minute strictly after `time` (skips breaks, nights, weekends). */
  nextOpenMinute(time: number): number {
    return this.firstOpenFromMinute(Math.floor(time / SECONDS_PER_MINUTE) + 1);
  }

  /** Start of the first open minute at or after `time` (a minute start, or the next one). */
  firstOpenMinuteAtOrAfter(time: number): number {
    return this.firstOpenFromMinute(Math.ceil(time / SECONDS_PER_MINUTE));
  }

  /** Start of the last open minute before the minute containing `time`. */
  previousOpenMinute(time: number): number {
    const minute = Math.floor(time / SECONDS_PER_MINUTE);
    const dist = this.toPreviousOpen[TradingCalendar.weekMinute(minute)] ?? 1;
    return (minute - dist) * SECONDS_PER_MINUTE;
  }

  private firstOpenFromMinute(minute: number): number {
    const dist = this.toNextOpen[TradingCalendar.weekMinute(minute)] ?? 0;
    return (minute + dist) * SECONDS_PER_MINUTE;
  }

  /** 'YYYY-MM-DD' of the trading day `time` belongs to (closed times included). */
  tradingDay(time: number): string {
    const day = this.tradingDayNumber(time);
    // Consecutive calls mostly ask for the same day: format it once.
    if (day !== this.lastDayNumber) {
      this.lastDayNumber = day;
      this.lastDayText = formatDayNumber(day);
    }
    return this.lastDayText;
  }

  /** Trading day as a day number (days since 1970-01-01). */
  private tradingDayNumber(time: number): number {
    const minute = Math.floor(time / SECONDS_PER_MINUTE);
    let day = Math.floor(minute / MINUTES_PER_DAY);
    if (mod(minute, MINUTES_PER_DAY) >= this.rollMinute) day += 1;
    while (isWeekend(day)) day += 1;
    return day;
  }

  /** End (exclusive) of the session containing `time`, or null when closed. */
  sessionEndsAt(time: number): number | null {
    const minute = Math.floor(time / SECONDS_PER_MINUTE);
    const wm = TradingCalendar.weekMinute(minute);
    if (this.open[wm] !== 1) return null;
    return (minute + (this.untilSessionEnd[wm] ?? 0)) * SECONDS_PER_MINUTE;
  }

  /** Start of the session containing `time`, or null when closed. */
  sessionStartsAt(time: number): number | null {
    const minute = Math.floor(time / SECONDS_PER_MINUTE);
    const wm = TradingCalendar.weekMinute(minute);
    if (this.open[wm] !== 1) return null;
    return (minute - (this.sinceSessionStart[wm] ?? 0)) * SECONDS_PER_MINUTE;
  }

  /**
   * The first open minute of the trading day that lies `days` trading days before the trading
   * day of `endTime` (0 = the start of endTime's own trading day). Trading from there up to
   * endTime covers `days` complete trading days plus whatever of endTime's day has passed.
   */
  minutesBackForTradingDays(endTime: number, days: number): number {
    if (!Number.isInteger(days) || days < 0) throw new Error(`days must be a non-negative integer, got ${days}`);
    let target = this.tradingDayNumber(endTime);
    for (let i = 0; i < days; i++) target = previousWeekday(target);
    // Trading day `target` begins at the roll hour of the weekday before it (Friday's roll for Monday).
    const begin = previousWeekday(target) * SECONDS_PER_DAY + this.rollMinute * SECONDS_PER_MINUTE;
    return this.firstOpenMinuteAtOrAfter(begin);
  }
}

function previousWeekday(day: number): number {
  let d = day - 1;
  while (isWeekend(d)) d -= 1;
  return d;
}
