/**
 * `--datetime-format` for bar imports: strftime-like patterns (`%Y-%m-%d %H:%M:%S`, `%Y%m%d`,
 * `%d/%m/%Y %H:%M`), `epoch-s` / `epoch-ms` (instants), or `auto` (the default).
 *
 * A parsed wall time is local-as-UTC seconds of the file's own clock; an epoch is an instant.
 * The importer turns either into the exchange's naive local time (see timeZone.ts).
 */
import { daysFromCivil } from './datetimeText.js';

export class DatetimeFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatetimeFormatError';
  }
}

export interface DatetimeFormat {
  /** As the user wrote it, for messages. */
  readonly description: string;
  /** true: the values are instants (epoch); false: wall-clock times of the file's zone. */
  readonly isEpoch: boolean;
  /** Seconds (wall as local-as-UTC, or epoch), or null when the text does not match. */
  parse(text: string): number | null;
  /** As parse, plus the UTC offset the text itself carries (ISO 8601 `Z`, `+08:00`), null when none. */
  read(text: string): WrittenDatetime | null;
}

export interface WrittenDatetime {
  /** The wall time as written (local-as-UTC), or the epoch for an epoch format. */
  seconds: number;
  /** Seconds east of UTC written with the time; null: the text names no offset. */
  utcOffset: number | null;
}

/** A format with no offsets of its own: read is parse. */
function withoutOffsets(format: Omit<DatetimeFormat, 'read'>): DatetimeFormat {
  return {
    ...format,
    read(text: string): WrittenDatetime | null {
      const seconds = format.parse(text);
      return seconds === null ? null : { seconds, utcOffset: null };
    },
  };
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

/** Whole-second local-as-UTC time of a calendar datetime, or null when it is not one. */
export function wallTime(y: number, mo: number, d: number, h: number, mi: number, s: number): number | null {
  if (!(mo >= 1 && mo <= 12 && d >= 1 && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && s >= 0 && s <= 59)) return null;
  const dim = mo === 2 && !isLeap(y) ? 28 : (DAYS_IN_MONTH[mo - 1] ?? 0);
  if (d > dim) return null;
  return daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s;
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function epochFormat(unit: 's' | 'ms'): DatetimeFormat {
  const scale = unit === 'ms' ? 1000 : 1;
  return withoutOffsets({
    description: `epoch-${unit}`,
    isEpoch: true,
    parse(text: string): number | null {
      const t = text.trim();
      if (!NUMBER_RE.test(t)) return null;
      const seconds = Number(t) / scale;
      return Number.isInteger(seconds) ? seconds : null;
    },
  });
}

/** Zero fraction only: a bar starts on a whole second. */
function zeroFraction(fraction: string | undefined): boolean {
  return fraction === undefined || /^0*$/.test(fraction);
}

// ISO 8601 and pandas write an offset after the time: `Z`, `+08:00`, `+0800`, `+08`.
const AUTO_DASHED =
  /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:\s*(Z|[+-]\d{2}(?::?\d{2})?))?)?$/i;
const AUTO_COMPACT = /^(\d{4})(\d{2})(\d{2})(?:[ T]?(\d{2}):?(\d{2})(?::?(\d{2}))?)?$/;

/** `Z`, `+08:00`, `-0530`, `+08` → seconds east of UTC; null when out of range. */
function offsetSeconds(text: string): number | null {
  if (/^z$/i.test(text)) return 0;
  const digits = text.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  if (hours > 14 || minutes > 59) return null;
  return (text.startsWith('-') ? -1 : 1) * (hours * 3600 + minutes * 60);
}

function readAuto(text: string): WrittenDatetime | null {
  const t = text.trim();
  const dashed = AUTO_DASHED.exec(t);
  const m = dashed ?? AUTO_COMPACT.exec(t);
  if (!m) return null;
  if (!zeroFraction(m[7])) return null;
  const seconds = wallTime(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? '0'), Number(m[5] ?? '0'), Number(m[6] ?? '0'));
  if (seconds === null) return null;
  const offsetText = dashed ? dashed[8] : undefined;
  if (offsetText === undefined) return { seconds, utcOffset: null };
  const utcOffset = offsetSeconds(offsetText);
  return utcOffset === null ? null : { seconds, utcOffset };
}

const AUTO: DatetimeFormat = {
  description: 'auto (YYYY-MM-DD[ HH:MM[:SS]][Z|±HH:MM], YYYY/MM/DD …, YYYYMMDD[ HHMMSS])',
  isEpoch: false,
  parse: (text) => readAuto(text)?.seconds ?? null,
  read: readAuto,
};

type Slot = 'Y' | 'y' | 'm' | 'b' | 'd' | 'H' | 'I' | 'p' | 'M' | 'S' | 'f';
const TOKENS: Record<string, { re: string; slot: Slot } | { expand: string }> = {
  Y: { re: '(\\d{4})', slot: 'Y' },
  y: { re: '(\\d{2})', slot: 'y' },
  m: { re: '(\\d{1,2})', slot: 'm' },
  b: { re: '([A-Za-z]{3})', slot: 'b' },
  d: { re: '(\\d{1,2})', slot: 'd' },
  H: { re: '(\\d{1,2})', slot: 'H' },
  I: { re: '(\\d{1,2})', slot: 'I' },
  p: { re: '([AaPp][Mm])', slot: 'p' },
  M: { re: '(\\d{1,2})', slot: 'M' },
  S: { re: '(\\d{1,2})', slot: 'S' },
  f: { re: '(\\d{1,9})', slot: 'f' },
  F: { expand: '%Y-%m-%d' },
  T: { expand: '%H:%M:%S' },
};
export const SUPPORTED_DIRECTIVES = '%Y %y %m %b %d %H %I %p %M %S %f %F %T %%';

function compilePattern(pattern: string): DatetimeFormat {
  let expanded = pattern;
  for (let i = 0; i < 3; i++) expanded = expanded.replace(/%([FT])/g, (_m, k: 'F' | 'T') => (TOKENS[k] as { expand: string }).expand);
  const slots: Slot[] = [];
  let re = '^';
  for (let i = 0; i < expanded.length; i++) {
    const ch = expanded[i] as string;
    if (ch !== '%') {
      re += /\s/.test(ch) ? '\\s+' : ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
      continue;
    }
    const k = expanded[++i];
    if (k === '%') {
      re += '%';
      continue;
    }
    const token = k === undefined ? undefined : TOKENS[k];
    if (!token || 'expand' in token) {
      throw new DatetimeFormatError(
        `--datetime-format "${pattern}": %${k ?? ''} is not supported; use ${SUPPORTED_DIRECTIVES}, epoch-s or epoch-ms`,
      );
    }
    if (slots.includes(token.slot)) {
      throw new DatetimeFormatError(`--datetime-format "${pattern}": %${k} appears twice`);
    }
    slots.push(token.slot);
    re += token.re;
  }
  re += '$';
  const has = (s: Slot): boolean => slots.includes(s);
  if (!has('Y') && !has('y')) throw new DatetimeFormatError(`--datetime-format "${pattern}": no year (%Y or %y)`);
  if (!has('m') && !has('b')) throw new DatetimeFormatError(`--datetime-format "${pattern}": no month (%m or %b)`);
  if (!has('d')) throw new DatetimeFormatError(`--datetime-format "${pattern}": no day (%d)`);
  if (has('I') !== has('p')) throw new DatetimeFormatError(`--datetime-format "${pattern}": %I needs %p and %p needs %I`);
  const regex = new RegExp(re);
  const index = (s: Slot): number => slots.indexOf(s) + 1;
  const at = (m: RegExpExecArray, s: Slot): string | undefined => (has(s) ? m[index(s)] : undefined);
  return withoutOffsets({
    description: pattern,
    isEpoch: false,
    parse(text: string): number | null {
      const m = regex.exec(text.trim());
      if (!m) return null;
      let year: number;
      const Y = at(m, 'Y');
      if (Y !== undefined) year = Number(Y);
      else {
        // Python's strptime pivot: 69..99 → 1900s, 00..68 → 2000s.
        const yy = Number(at(m, 'y'));
        year = yy < 69 ? 2000 + yy : 1900 + yy;
      }
      let month: number;
      const b = at(m, 'b');
      if (b !== undefined) {
        month = MONTHS.indexOf(b.toLowerCase()) + 1;
        if (month === 0) return null;
      } else month = Number(at(m, 'm'));
      let hour = Number(at(m, 'H') ?? '0');
      const I = at(m, 'I');
      if (I !== undefined) {
        const h12 = Number(I);
        if (h12 < 1 || h12 > 12) return null;
        const pm = (at(m, 'p') ?? '').toLowerCase() === 'pm';
        hour = (h12 % 12) + (pm ? 12 : 0);
      }
      if (!zeroFraction(at(m, 'f'))) return null;
      return wallTime(year, month, Number(at(m, 'd')), hour, Number(at(m, 'M') ?? '0'), Number(at(m, 'S') ?? '0'));
    },
  });
}

/**
 * `auto` (or undefined), `epoch-s`, `epoch-ms`, or a strftime-like pattern.
 * @throws DatetimeFormatError for an unsupported directive or a pattern without a date.
 */
export function compileDatetimeFormat(spec: string | undefined): DatetimeFormat {
  const s = spec?.trim();
  if (s === undefined || s === '' || s === 'auto') return AUTO;
  if (s === 'epoch-s' || s === 'epoch') return epochFormat('s');
  if (s === 'epoch-ms') return epochFormat('ms');
  if (!s.includes('%')) {
    throw new DatetimeFormatError(
      `--datetime-format "${spec}" is neither auto, epoch-s, epoch-ms nor a pattern with ${SUPPORTED_DIRECTIVES}`,
    );
  }
  return compilePattern(s);
}
