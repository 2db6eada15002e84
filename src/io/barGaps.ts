/**
 * Where 1-minute bars are missing: runs of minutes without a bar inside the trading sessions
 * of the bar's exchange, found by streaming the store's bars in chunks (never the whole
 * series in memory).
 *
 * China futures exchanges (and the demo's SIM) are judged against core's TradingCalendar, so a
 * lunch break, a night or a weekend is never a gap, and a gap never runs across one. Any other
 * exchange is taken as trading every minute of the day (crypto), and only runs of at least two
 * minutes are gaps there: a single quiet minute without a trade is common and not a hole.
 */
import { CHINA_FUTURES_SESSIONS, TradingCalendar, type SessionSpec } from '../core/market/tradingCalendar.js';
import type { BarKey, BarStore } from './barStore.js';

export type GapCalendarName = 'china-futures' | 'cffex' | 'continuous';

export interface GapCalendar {
  name: GapCalendarName;
  /** null: every minute of every day is expected. */
  sessions: readonly SessionSpec[] | null;
  /** The shortest run of missing minutes that counts as a gap. */
  minMinutes: number;
}

/** CFFEX (index and bond futures) trades 09:30–11:30 and 13:00–15:00, without a night session. */
export const CFFEX_SESSIONS: readonly SessionSpec[] = [
  { start: '09:30', end: '11:30' },
  { start: '13:00', end: '15:00' },
];

const CHINA_FUTURES_EXCHANGES = new Set(['SHFE', 'DCE', 'CZCE', 'INE', 'GFEX', 'SIM']);

export function gapCalendarFor(exchange: string): GapCalendar {
  const upper = exchange.toUpperCase();
  if (upper === 'CFFEX') return { name: 'cffex', sessions: CFFEX_SESSIONS, minMinutes: 1 };
  if (CHINA_FUTURES_EXCHANGES.has(upper)) return { name: 'china-futures', sessions: CHINA_FUTURES_SESSIONS, minMinutes: 1 };
  return { name: 'continuous', sessions: null, minMinutes: 2 };
}

export interface MinuteGap {
  /** First missing minute's start, local-as-UTC seconds. */
  from: number;
  /** Last missing minute's start (inclusive). */
  to: number;
  minutes: number;
}

/** A scan that has seen no bar: what a symbol without data has. */
export function emptyGapScan(): GapScan {
  return { firstBar: null, lastBar: null, barsScanned: 0, gaps: [], totalGaps: 0, missingMinutes: 0, truncated: false, emptySessions: 0 };
}

export interface GapScan {
  firstBar: number | null;
  lastBar: number | null;
  barsScanned: number;
  gaps: MinuteGap[];
  totalGaps: number;
  missingMinutes: number;
  truncated: boolean;
  emptySessions: number;
}

const MINUTE = 60;

/**
 * Bars in, gaps out, one bar time at a time (ascending). Gaps lie strictly between the first
 * and the last bar: the stretch before the first and after the last is "no data", not a hole.
 * With sessions, a session without a single bar is counted in `emptySessions` and not listed
 * (a holiday, a product without a night session — the calendar knows neither — or a recorder
 * that was down all session).
 */
export class GapFinder {
  private readonly calendar: TradingCalendar | null;
  private readonly minMinutes: number;
  private readonly maxListed: number;
  private readonly scan: GapScan = emptyGapScan();
  /** The last bar judged (inside a session, when there are sessions), and the end of its session. */
  private previous: number | null = null;
  private previousSessionEnd = 0;

  constructor(calendar: GapCalendar, opts: { maxListed?: number } = {}) {
    this.calendar = calendar.sessions ? new TradingCalendar(calendar.sessions) : null;
    this.minMinutes = calendar.minMinutes;
    this.maxListed = opts.maxListed ?? 1000;
  }

  push(barTime: number): void {
    const t = barTime - (((barTime % MINUTE) + MINUTE) % MINUTE);
    this.scan.barsScanned += 1;
    if (this.scan.firstBar === null) this.scan.firstBar = t;
    this.scan.lastBar = t;
    const previous = this.previous;
    if (previous !== null && t <= previous) return;
    const calendar = this.calendar;
    if (calendar === null) {
      if (previous !== null) this.missing(previous + MINUTE, t);
      this.previous = t;
      return;
    }
    // A bar outside every session (a night session longer than the calendar's) is no reference.
    const sessionStart = calendar.sessionStartsAt(t);
    const sessionEnd = calendar.sessionEndsAt(t);
    if (sessionStart === null || sessionEnd === null) return;
    if (previous !== null) {
      if (t < this.previousSessionEnd) {
        this.missing(previous + MINUTE, t);
      } else {
        this.missing(previous + MINUTE, this.previousSessionEnd);
        let session = calendar.firstOpenMinuteAtOrAfter(this.previousSessionEnd);
        while (session < sessionStart) {
          this.scan.emptySessions += 1;
          const end = calendar.sessionEndsAt(session);
          if (end === null) break;
          session = calendar.firstOpenMinuteAtOrAfter(end);
        }
        this.missing(sessionStart, t);
      }
    }
    this.previous = t;
    this.previousSessionEnd = sessionEnd;
  }

  /** The minutes [from, endExclusive) have no bar. */
  private missing(from: number, endExclusive: number): void {
    const minutes = (endExclusive - from) / MINUTE;
    if (minutes < this.minMinutes || minutes <= 0) return;
    this.scan.totalGaps += 1;
    this.scan.missingMinutes += minutes;
    if (this.scan.gaps.length < this.maxListed) this.scan.gaps.push({ from, to: endExclusive - MINUTE, minutes });
    else this.scan.truncated = true;
  }

  result(): GapScan {
    return { ...this.scan, gaps: [...this.scan.gaps] };
  }
}

/** Scans one key's bars in [from, to] (inclusive, local-as-UTC seconds) chunk by chunk. */
export async function findBarGaps(
  store: BarStore,
  key: BarKey,
  opts: { from?: number; to?: number; maxListed?: number; chunkSize?: number; calendar?: GapCalendar } = {},
): Promise<GapScan & { calendar: GapCalendar }> {
  const calendar = opts.calendar ?? gapCalendarFor(key.exchange);
  const finder = new GapFinder(calendar, opts.maxListed === undefined ? {} : { maxListed: opts.maxListed });
  const range = {
    ...(opts.from === undefined ? {} : { from: opts.from }),
    ...(opts.to === undefined ? {} : { to: opts.to }),
    ...(opts.chunkSize === undefined ? {} : { chunkSize: opts.chunkSize }),
  };
  for await (const chunk of store.loadRange(key, range)) {
    for (const bar of chunk) finder.push(bar.time);
  }
  return { ...finder.result(), calendar };
}
