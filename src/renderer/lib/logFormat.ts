import type { LogLine } from '../../shared/contract/logs.js';

/** Display helpers of the logs screen. */

/** 512 B, 12.3 KB, 4.56 MB, 1.02 GB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** A line's time as written, with ISO's "T" read as a space: the trader sees what the file says. */
export function displayTime(time: string | null): string {
  if (!time) return '';
  return /^\d{4}-\d{2}-\d{2}T/.test(time) ? `${time.slice(0, 10)} ${time.slice(11)}` : time;
}

export interface FieldColumn {
  key: string;
  /** Every value on the page is a number: right-aligned. */
  numeric: boolean;
}

/**
 * The other fields of JSON lines as columns: the keys that occur on the page, most frequent
 * first (first seen breaks ties), at most `max`; the rest are shown together in one cell.
 */
export function fieldColumns(lines: readonly LogLine[], max = 6): FieldColumn[] {
  const seen = new Map<string, { count: number; order: number; numeric: boolean }>();
  for (const line of lines) {
    for (const [key, value] of Object.entries(line.fields)) {
      const entry = seen.get(key);
      const isNumber = typeof value === 'number';
      if (entry) {
        entry.count++;
        entry.numeric &&= isNumber;
      } else seen.set(key, { count: 1, order: seen.size, numeric: isNumber });
    }
  }
  return [...seen.entries()]
    .sort((a, b) => b[1].count - a[1].count || a[1].order - b[1].order)
    .slice(0, max)
    .map(([key, v]) => ({ key, numeric: v.numeric }));
}

export function fieldText(value: unknown): string {
  if (value === undefined) return '';
  if (value === null) return 'null';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The fields not given a column, as `key=value` pairs. */
export function otherFields(fields: Record<string, unknown>, shown: readonly FieldColumn[]): string {
  const keys = new Set(shown.map((c) => c.key));
  return Object.entries(fields)
    .filter(([key]) => !keys.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`)
    .join('  ');
}

/** 'YYYY-MM-DD HH:MM:SS' typed loosely ("2026-01-05 9:30", "2026-01-05T09:30") → normalised, or null. */
export function normalizeTimeInput(text: string): string | null {
  const m = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2})(?::(\d{1,2}))?(?::(\d{1,2}))?)?\s*$/.exec(text);
  if (!m) return null;
  const p = (v: string | undefined): string => (v ?? '0').padStart(2, '0');
  const [mo, d, h, mi, s] = [Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  return `${m[1]}-${p(m[2])}-${p(m[3])} ${p(m[4])}:${p(m[5])}:${p(m[6])}`;
}
