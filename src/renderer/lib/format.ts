import { formatDatetime } from '../../shared/time.js';

/**
 * Display formatting. Exchange times (bar times, `lastBarAt`) are shown exactly as the
 * exchange's naive local clock gives them; only wall-clock ages are computed against now.
 */

/** "now", "4 s", "3 m 05 s", "2 h 10 m", "3 d 4 h": short enough for a dense table cell. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 1) return 'now';
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} m`;
  const d = Math.floor(h / 24);
  return `${d} d ${h % 24} h`;
}

/** "updated 2 s ago", from a wall-clock ISO time or epoch ms. */
export function formatAge(since: string | number | null | undefined, nowMs: number): string {
  const ms = toEpochMs(since);
  if (ms === null) return '—';
  const d = formatDuration(nowMs - ms);
  return d === 'now' ? 'just now' : `${d} ago`;
}

export function toEpochMs(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** Exchange-time bar start (local-as-UTC seconds) → 'YYYY-MM-DD HH:MM'. */
export function formatBarTime(time: number | null | undefined): string {
  if (time === null || time === undefined) return '—';
  return formatDatetime(time).slice(0, 16);
}

/** 'YYYY-MM-DD HH:MM:SS' exchange text as the worker wrote it; seconds of a minute bar are noise. */
export function formatExchangeText(text: string | null | undefined): string {
  if (!text) return '—';
  return /:\d{2}:00$/.test(text) ? text.slice(0, 16) : text;
}

/** Wall-clock ISO time → local 'HH:MM:SS' of the machine running the UI. */
export function formatWallClock(value: string | number | null | undefined): string {
  const ms = toEpochMs(value);
  if (ms === null) return '—';
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function formatPrice(value: number | null | undefined, precision: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toFixed(precision);
}

/** Signed with an explicit "+" so a glance tells the side of an oscillator. */
export function formatSigned(value: number | null | undefined, precision: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const s = value.toFixed(precision);
  return value > 0 ? `+${s}` : s;
}

/**
 * Decimals needed to show these prices exactly (capped): futures tick sizes such as 1, 0.5,
 * 0.2 or 0.02 must not be rounded away, and integer-priced contracts must not show ".00".
 */
export function pricePrecisionOf(prices: readonly number[], cap = 4): number {
  let precision = 0;
  for (const p of prices) {
    if (!Number.isFinite(p)) continue;
    for (let d = precision; d <= cap; d++) {
      const scaled = p * 10 ** d;
      if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, Math.abs(scaled))) {
        precision = d;
        break;
      }
      if (d === cap) precision = cap;
    }
    if (precision === cap) break;
  }
  return precision;
}

export function formatVolume(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (Math.abs(value) >= 1e4) return `${(value / 1e3).toFixed(1)}K`;
  return String(Math.round(value));
}
