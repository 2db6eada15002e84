/**
 * Deterministic generated 1-minute bars in Float64Array columns, for benchmarks: a random walk
 * with drift regimes on a futures-like session calendar (09:00–10:15, 10:30–11:30, 13:30–15:00,
 * 21:00–23:00, Monday to Friday), so that the synthesizer meets breaks as in real data.
 */
export interface BarColumns {
  length: number;
  time: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  turnover: Float64Array;
  openInterest: Float64Array;
}

const SESSIONS: [number, number][] = [
  [9 * 60, 10 * 60 + 15],
  [10 * 60 + 30, 11 * 60 + 30],
  [13 * 60 + 30, 15 * 60],
  [21 * 60, 23 * 60],
];

export function generateBarColumns(count: number, seed = 20240102): BarColumns {
  const open = new Float64Array(count);
  const high = new Float64Array(count);
  const low = new Float64Array(count);
  const close = new Float64Array(count);
  const volume = new Float64Array(count);
  const turnover = new Float64Array(count);
  const openInterest = new Float64Array(count);
  const time = new Float64Array(count);
  const sessionMinutes: number[] = [];
  for (const [from, to] of SESSIONS) for (let m = from; m < to; m++) sessionMinutes.push(m);

  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let day = Date.UTC(2000, 0, 3) / 86_400_000; // a Monday
  let slot = 0;
  let price = 3500;
  let drift = 0;
  let oi = 100_000;
  for (let i = 0; i < count; i++) {
    if (slot === sessionMinutes.length) {
      slot = 0;
      day++;
      const weekday = (day + 4) % 7; // 1970-01-01 was a Thursday
      if (weekday === 6) day += 2;
      else if (weekday === 0) day += 1;
    }
    time[i] = day * 86_400 + (sessionMinutes[slot] ?? 0) * 60;
    slot++;
    if (rnd() < 0.01) drift = (rnd() - 0.5) * 0.8;
    const o = price;
    const c = Math.round((price + drift + (rnd() - 0.5) * 4) * 2) / 2;
    open[i] = o;
    close[i] = c;
    high[i] = Math.max(o, c) + Math.round(rnd() * 3) / 2;
    low[i] = Math.min(o, c) - Math.round(rnd() * 3) / 2;
    const v = 1 + Math.floor(rnd() * 400);
    volume[i] = v;
    turnover[i] = v * c * 10;
    oi += Math.round((rnd() - 0.5) * 20);
    openInterest[i] = oi;
    price = c;
  }
  return { length: count, time, open, high, low, close, volume, turnover, openInterest };
}
