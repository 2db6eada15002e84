import { toEpochMs } from './format.js';

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * An alert's wall-clock time on this machine's clock: "14:03:27" today, "03-11 14:03:27" on an
 * earlier day (alerts are about the workstation, not about exchange time).
 */
export function formatAlertTime(time: string, nowMs: number): string {
  const ms = toEpochMs(time);
  if (ms === null) return '—';
  const d = new Date(ms);
  const now = new Date(nowMs);
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return sameDay ? clock : `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock}`;
}

/** A context value as text: strings as they are, everything else as compact JSON. */
export function formatContextValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '—';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
