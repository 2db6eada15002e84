import type { LogLevelName, LogLine } from '../../shared/contract/logs.js';
import { LOG_LEVELS, levelRank } from '../../shared/logLevels.js';

/**
 * One log line → time, level, variant, message and the other fields. Two shapes:
 * JSON lines (ours, structlog, python-json-logger, …) and plain text (python logging,
 * loguru, logfmt, anything with a level word), whose level and leading time are detected.
 */

/** `raw` is cut to this many characters for display: a 5 MB line must not reach a table row. */
export const RAW_DISPLAY_CHARS = 4096;
/** A message longer than this is cut too; other string fields are cut shorter. */
const MESSAGE_CHARS = 4096;
const FIELD_CHARS = 1024;

/** Lower-case alias → level. Every alias is matched case-insensitively. */
const LEVEL_ALIASES: Readonly<Record<string, LogLevelName>> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  dbg: 'DEBUG',
  verbose: 'DEBUG',
  info: 'INFO',
  information: 'INFO',
  notice: 'INFO',
  warn: 'WARNING',
  warning: 'WARNING',
  error: 'ERROR',
  err: 'ERROR',
  severe: 'ERROR',
  critical: 'CRITICAL',
  crit: 'CRITICAL',
  fatal: 'CRITICAL',
  alert: 'CRITICAL',
  emerg: 'CRITICAL',
  emergency: 'CRITICAL',
  panic: 'CRITICAL',
};

export function normalizeLevel(text: string): LogLevelName | null {
  return LEVEL_ALIASES[text.trim().toLowerCase()] ?? null;
}

const JSON_TIME_KEYS = ['time', 'timestamp', 'ts', '@timestamp', 'datetime', 'asctime', 'date'] as const;
const JSON_LEVEL_KEYS = ['level', 'levelname', 'severity', 'lvl', 'loglevel', 'log_level'] as const;
const JSON_MESSAGE_KEYS = ['message', 'msg', 'event', 'text'] as const;

/** A leading timestamp: ISO 8601, 'YYYY-MM-DD HH:MM:SS[.,fff]', 'YYYY/MM/DD …', optionally in brackets. */
const LEADING_TIME_RE =
  /^\s*\[?(\d{4}[-/]\d{2}[-/]\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)\]?/;
/** logfmt and friends: level=error, lvl=WARN, "level":"ERROR" in a JSON line cut too short to parse. */
const KEYED_LEVEL_RE = /\b(?:level|levelname|lvl|severity|loglevel)["']?\s*[=:]\s*["']?([A-Za-z]+)/i;
/**
 * An upper-case level word standing on its own: `ERROR`, `[WARN]`, `- ERROR -`, `| INFO |`,
 * `<CRITICAL>`. Lower-case words are not levels here ("no error found" is an INFO line).
 */
const WORD_LEVEL_RE =
  /(?<![A-Za-z0-9_])(TRACE|DEBUG|INFO|NOTICE|WARNING|WARN|ERROR|ERR|SEVERE|CRITICAL|CRIT|FATAL|ALERT|EMERGENCY|EMERG|PANIC)(?![A-Za-z0-9_])/;
/** "Error: …", "warning: …" at the start of a line (after its time). */
const LEADING_WORD_LEVEL_RE = /^(error|warning|warn|fatal|critical|info|debug)\s*:/i;
/** The level is looked for near the start: a level word deep in a message is part of the message. */
const LEVEL_SEARCH_CHARS = 200;
/** Decorations between a timestamp or level and the message. */
const LEADING_SEPARATORS_RE = /^[\s\-:|>\]]+/;

export interface ParsedLogText {
  time: string | null;
  level: LogLevelName | null;
  variant: string | null;
  message: string;
  fields: Record<string, unknown>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Strings cut at `max` characters without splitting a surrogate pair. */
function cutChars(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

function boundedField(value: unknown): unknown {
  if (typeof value === 'string') return cutChars(value, FIELD_CHARS);
  if (value !== null && typeof value === 'object') {
    const json = JSON.stringify(value);
    if (json.length > FIELD_CHARS) return cutChars(json, FIELD_CHARS);
  }
  return value;
}

function timeFromJson(value: unknown): string | null {
  if (typeof value === 'string') return value.length > 0 ? value : null;
  if (typeof value === 'number' && Number.isFinite(value)) {
    // Epoch seconds or milliseconds, whichever makes a plausible date.
    const ms = Math.abs(value) < 1e11 ? value * 1000 : value;
    const d = new Date(ms);
    return Number.isNaN(d.getTime()) ? null : d.toISOString();
  }
  return null;
}

function parseJsonObject(obj: Record<string, unknown>): ParsedLogText {
  const used = new Set<string>();
  let time: string | null = null;
  for (const key of JSON_TIME_KEYS) {
    if (key in obj) {
      time = timeFromJson(obj[key]);
      if (time !== null) {
        used.add(key);
        break;
      }
    }
  }
  let level: LogLevelName | null = null;
  for (const key of JSON_LEVEL_KEYS) {
    const value = obj[key];
    if (typeof value === 'string') {
      level = normalizeLevel(value);
      if (level !== null) {
        used.add(key);
        break;
      }
    }
  }
  let variant: string | null = null;
  if (typeof obj.variant === 'string') {
    variant = obj.variant;
    used.add('variant');
  }
  let message = '';
  for (const key of JSON_MESSAGE_KEYS) {
    const value = obj[key];
    if (typeof value === 'string') {
      message = cutChars(value, MESSAGE_CHARS);
      used.add(key);
      break;
    }
  }
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) if (!used.has(key)) fields[key] = boundedField(value);
  return { time, level, variant, message, fields };
}

function tryJson(text: string): Record<string, unknown> | null {
  const first = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  if (text.charCodeAt(first) !== 0x7b /* { */) {
    const trimmed = text.trimStart();
    if (!trimmed.startsWith('{')) return null;
  }
  try {
    const value: unknown = JSON.parse(first ? text.slice(1) : text);
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

/** The level of a plain-text line, from the text after its leading time. */
function plainLevel(rest: string): { level: LogLevelName | null; wordAt: number; wordLength: number } {
  const head = rest.length > LEVEL_SEARCH_CHARS ? rest.slice(0, LEVEL_SEARCH_CHARS) : rest;
  const keyed = KEYED_LEVEL_RE.exec(head);
  if (keyed?.[1]) {
    const level = normalizeLevel(keyed[1]);
    if (level) return { level, wordAt: -1, wordLength: 0 };
  }
  const word = WORD_LEVEL_RE.exec(head);
  if (word?.[1]) {
    const level = normalizeLevel(word[1]);
    if (level) return { level, wordAt: word.index, wordLength: word[1].length };
  }
  const leading = LEADING_WORD_LEVEL_RE.exec(head.replace(LEADING_SEPARATORS_RE, ''));
  if (leading?.[1]) return { level: normalizeLevel(leading[1]), wordAt: -1, wordLength: 0 };
  return { level: null, wordAt: -1, wordLength: 0 };
}

function parsePlain(text: string): ParsedLogText {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const timeMatch = LEADING_TIME_RE.exec(body);
  const time = timeMatch?.[1] ?? null;
  const rest = timeMatch ? body.slice(timeMatch[0].length) : body;
  const { level, wordAt, wordLength } = plainLevel(rest);
  let message = rest.replace(LEADING_SEPARATORS_RE, '');
  // "[ERROR] x" / "ERROR x" / "ERROR: x" right at the start: the level is a column, not message.
  if (wordAt >= 0) {
    const before = rest.slice(0, wordAt).replace(/[\s[(<|\-:]/g, '');
    if (before.length === 0) message = rest.slice(wordAt + wordLength).replace(/^[\])>]?[\s\-:|>\]]*/, '');
  }
  return { time, level, variant: null, message: cutChars(message.trimEnd(), MESSAGE_CHARS), fields: {} };
}

/** Parses the text of one line (no newline). */
export function parseLogText(text: string): ParsedLogText {
  const obj = tryJson(text);
  return obj ? parseJsonObject(obj) : parsePlain(text);
}

/**
 * The level the parser would give this line, computed the same way (a JSON line is parsed),
 * for filters that test many lines and need nothing else.
 */
export function levelOfText(text: string): LogLevelName | null {
  const obj = tryJson(text);
  if (obj) {
    for (const key of JSON_LEVEL_KEYS) {
      const value = obj[key];
      if (typeof value === 'string') {
        const level = normalizeLevel(value);
        if (level !== null) return level;
      }
    }
    return null;
  }
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const timeMatch = LEADING_TIME_RE.exec(body);
  return plainLevel(timeMatch ? body.slice(timeMatch[0].length) : body).level;
}

/**
 * Words whose presence (case-insensitively) a line needs before it can have a level at or
 * above `min`: every alias of such a level, and `\u`, since a JSON string may escape its letters.
 * Lines without any of them are skipped by level filters without being parsed.
 */
export function levelTokensAtLeast(min: LogLevelName): string[] {
  const tokens = Object.entries(LEVEL_ALIASES)
    .filter(([, level]) => levelRank(level) >= levelRank(min))
    .map(([alias]) => alias);
  // An alias that contains a shorter one is covered by it ("error" by "err").
  const minimal = tokens.filter((t) => !tokens.some((other) => other !== t && t.includes(other)));
  return [...minimal, '\\u'];
}

/**
 * A full LogLine. `cutBytes` is how much of an over-long line was not read at all; the display
 * text says so instead of pretending the line ends there.
 */
export function toLogLine(text: string, lineNo: number | null, cutBytes = 0): LogLine {
  const parsed = parseLogText(text);
  let raw = text;
  if (text.length > RAW_DISPLAY_CHARS || cutBytes > 0) {
    let end = Math.min(text.length, RAW_DISPLAY_CHARS);
    const code = text.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) end -= 1;
    const more = Buffer.byteLength(text.slice(end)) + cutBytes;
    raw = `${text.slice(0, end)}… [${more.toLocaleString('en-US')} more bytes]`;
  }
  return { lineNo, ...parsed, raw };
}

/**
 * A time as a sortable key. `naiveMs` reads the digits as written (as if UTC); `epochMs` is
 * set only when the text names its zone (Z or ±hh:mm). Two times compare by instant when both
 * name a zone, else by the digits as written: a trader types the time the log shows.
 */
export interface TimeKey {
  naiveMs: number;
  epochMs: number | null;
}

const TIME_KEY_RE =
  /^\s*\[?(\d{4})[-/](\d{2})[-/](\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?/;

export function timeKeyOf(text: string): TimeKey | null {
  const m = TIME_KEY_RE.exec(text);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [h, mi, s] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const naiveMs = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  let epochMs: number | null = null;
  const zone = m[8];
  if (zone) {
    if (zone === 'Z') epochMs = naiveMs;
    else {
      const sign = zone.startsWith('-') ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
      epochMs = naiveMs - sign * offsetMin * 60_000;
    }
  }
  return { naiveMs, epochMs };
}

/** Negative when a is earlier than b. */
export function compareTimeKeys(a: TimeKey, b: TimeKey): number {
  if (a.epochMs !== null && b.epochMs !== null) return a.epochMs - b.epochMs;
  return a.naiveMs - b.naiveMs;
}

export { LOG_LEVELS };
