/**
 * Time zones for importing files whose times are not the exchange's naive local time:
 * IANA names through Intl.DateTimeFormat (no time-zone database of our own), fixed offsets
 * (`+08:00`, `UTC+8`, `-0530`) and `UTC`.
 *
 * Kestrel keeps bar times as "local-as-UTC" seconds (see shared/bar.ts): the exchange's wall
 * clock read as if it were UTC. So a conversion takes a wall time in one zone to the same
 * instant's wall time in another.
 */

export class TimeZoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeZoneError';
  }
}

const OFFSET_RE = /^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$/i;
/** Offsets change at most at quarter hours; cache per 15-minute bucket of the instant. */
const BUCKET_SECONDS = 900;
const CACHE_LIMIT = 200_000;

export class TimeZone {
  readonly name: string;
  private readonly fixedOffset: number | null;
  private readonly format: Intl.DateTimeFormat | null;
  private readonly cache = new Map<number, number>();

  private constructor(name: string, fixedOffset: number | null, format: Intl.DateTimeFormat | null) {
    this.name = name;
    this.fixedOffset = fixedOffset;
    this.format = format;
  }

  /**
   * `UTC`, an IANA name (`Asia/Shanghai`, `Europe/Berlin`) or a fixed offset (`+08:00`, `UTC-5`).
   * @throws TimeZoneError naming the zone when it is none of these.
   */
  static of(name: string): TimeZone {
    const trimmed = name.trim();
    if (/^(utc|gmt|z)$/i.test(trimmed)) return new TimeZone('UTC', 0, null);
    const m = OFFSET_RE.exec(trimmed);
    if (m) {
      const hours = Number(m[2]);
      const minutes = Number(m[3] ?? '0');
      if (hours > 14 || minutes > 59) throw new TimeZoneError(`time zone "${name}": offset out of range`);
      const sign = m[1] === '-' ? -1 : 1;
      return new TimeZone(trimmed, sign * (hours * 3600 + minutes * 60), null);
    }
    let format: Intl.DateTimeFormat;
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: trimmed,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new TimeZoneError(
        `time zone "${name}" is not known; use an IANA name such as Asia/Shanghai or Europe/Berlin, UTC, or an offset such as +08:00`,
      );
    }
    return new TimeZone(format.resolvedOptions().timeZone, null, format);
  }

  /** Seconds to add to an instant (epoch seconds) to get this zone's wall clock as local-as-UTC. */
  offsetAt(epochSeconds: number): number {
    if (this.fixedOffset !== null) return this.fixedOffset;
    const bucket = Math.floor(epochSeconds / BUCKET_SECONDS);
    const cached = this.cache.get(bucket);
    if (cached !== undefined) return cached;
    const offset = this.computeOffset(bucket * BUCKET_SECONDS);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(bucket, offset);
    return offset;
  }

  /** An instant → this zone's wall clock (local-as-UTC seconds). */
  toWall(epochSeconds: number): number {
    return epochSeconds + this.offsetAt(epochSeconds);
  }

  /**
   * This zone's wall clock → the instant. A wall time that occurs twice (clocks set back) is the
   * first occurrence; one that never occurs (clocks set forward) is moved forward by the gap,
   * as Python's and Java's zone libraries do (the importer refuses such a time first: gapAt).
   */
  toEpoch(wall: number): number {
    if (this.fixedOffset !== null) return wall - this.fixedOffset;
    const { before, after, first } = this.instantsOf(wall);
    if (first !== null) return first;
    // In a gap: read the wall time with the offset in force before the change.
    return wall - Math.min(before, after);
  }

  /**
   * How far the clocks jumped over this wall time, in seconds, when it never occurs in this zone
   * (a daylight-saving gap); null when it does occur.
   */
  gapAt(wall: number): number | null {
    if (this.fixedOffset !== null) return null;
    const { before, after, first } = this.instantsOf(wall);
    return first === null ? Math.abs(after - before) : null;
  }

  /** The offsets a day either side of a wall time, and its first instant (null: it falls in a gap). */
  private instantsOf(wall: number): { before: number; after: number; first: number | null } {
    const before = this.offsetAt(wall - 86_400);
    const after = this.offsetAt(wall + 86_400);
    let first: number | null = null;
    for (const offset of before === after ? [before] : [before, after]) {
      const epoch = wall - offset;
      if (this.offsetAt(epoch) === offset && (first === null || epoch < first)) first = epoch;
    }
    return { before, after, first };
  }

  private computeOffset(epochSeconds: number): number {
    const format = this.format as Intl.DateTimeFormat;
    const parts = format.formatToParts(new Date(epochSeconds * 1000));
    let y = 0;
    let mo = 0;
    let d = 0;
    let h = 0;
    let mi = 0;
    let s = 0;
    for (const p of parts) {
      switch (p.type) {
        case 'year':
          y = Number(p.value);
          break;
        case 'month':
          mo = Number(p.value);
          break;
        case 'day':
          d = Number(p.value);
          break;
        case 'hour':
          h = Number(p.value);
          break;
        case 'minute':
          mi = Number(p.value);
          break;
        case 'second':
          s = Number(p.value);
          break;
        default:
          break;
      }
    }
    return Date.UTC(y, mo - 1, d, h, mi, s) / 1000 - epochSeconds;
  }
}

/** A wall time in one zone → the same instant's wall time in another. */
export function convertWall(wall: number, from: TimeZone, to: TimeZone): number {
  if (from === to || from.name === to.name) return wall;
  return to.toWall(from.toEpoch(wall));
}

/**
 * Exchanges whose local time Kestrel knows without being told: China's futures and stock
 * exchanges (and the demo's SIM, which runs on China time). Anything else needs --exchange-tz
 * before a time written with a UTC offset can be stored as its local time.
 */
const CHINA_EXCHANGES = new Set(['SHFE', 'INE', 'DCE', 'CZCE', 'CFFEX', 'GFEX', 'SSE', 'SZSE', 'BSE', 'SGE', 'SIM']);

export function exchangeTimeZone(exchange: string): TimeZone | null {
  return CHINA_EXCHANGES.has(exchange.trim().toUpperCase()) ? TimeZone.of('Asia/Shanghai') : null;
}
