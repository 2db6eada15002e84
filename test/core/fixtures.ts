import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OhlcvBar } from '../../src/shared/bar.js';
import { parseDatetime } from '../../src/shared/time.js';

/** ../shared/data next to the project, as helper-common.md says; absent in a user's fresh clone. */
export const SHARED_DATA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'data');
export const BACKTRADER_FILE = join(SHARED_DATA_DIR, 'backtrader_2006-01-02-volume-min-001.txt');
export const FREQTRADE_FILE = join(SHARED_DATA_DIR, 'freqtrade_UNITTEST_BTC-1m.json');
export const HAS_SHARED_DATA = existsSync(BACKTRADER_FILE) && existsSync(FREQTRADE_FILE);
export const NO_DATA_REASON = `skipped: real data not found at ${SHARED_DATA_DIR} (only present next to the Kestrel dev checkout)`;

/** Rows `date,time,open,high,low,close,volume,oi` under a header that lacks `Time`. */
export function loadBacktrader(): OhlcvBar[] {
  const lines = readFileSync(BACKTRADER_FILE, 'utf8').split(/\r?\n/);
  const bars: OhlcvBar[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]?.trim();
    if (!line) continue;
    const f = line.split(',');
    if (f.length !== 8) throw new Error(`backtrader line ${i + 1}: ${f.length} fields`);
    const time = parseDatetime(`${f[0]} ${f[1]}`);
    if (time === null) throw new Error(`backtrader line ${i + 1}: bad datetime`);
    const [open, high, low, close, volume, oi] = f.slice(2).map(Number) as [number, number, number, number, number, number];
    bars.push({ time, open, high, low, close, volume, turnover: close * volume, openInterest: oi });
  }
  return bars;
}

/** `[msEpoch, o, h, l, c, v]`, the UTC epoch taken as the local clock. */
export function loadFreqtrade(): OhlcvBar[] {
  const rows = JSON.parse(readFileSync(FREQTRADE_FILE, 'utf8')) as number[][];
  return rows.map((r, i) => {
    if (r.length !== 6) throw new Error(`freqtrade row ${i}: ${r.length} fields`);
    const [ms, open, high, low, close, volume] = r as [number, number, number, number, number, number];
    return { time: ms / 1000, open, high, low, close, volume, turnover: close * volume, openInterest: i };
  });
}

/** mulberry32: a small seeded PRNG, so every random case can be reproduced from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random 1-minute bars: a random walk with regime changes, minute gaps, session breaks and
 * the odd duplicate or out-of-order minute. Prices are rounded to ticks of 0.5 so that ties
 * (equal closes, equal lows) happen as they do in real futures data.
 */
export function randomMinuteBars(seed: number, count: number, startTime = Date.UTC(2024, 0, 2, 9, 0) / 1000): OhlcvBar[] {
  const rnd = prng(seed);
  const bars: OhlcvBar[] = [];
  let time = startTime;
  let price = 3000 + Math.floor(rnd() * 1000);
  let drift = 0;
  for (let i = 0; i < count; i++) {
    if (rnd() < 0.02) drift = (rnd() - 0.5) * 2;
    const open = price;
    const close = Math.round((price + drift + (rnd() - 0.5) * 6) * 2) / 2;
    const high = Math.max(open, close) + Math.round(rnd() * 4) / 2;
    const low = Math.min(open, close) - Math.round(rnd() * 4) / 2;
    const volume = 1 + Math.floor(rnd() * 500);
    bars.push({ time, open, high, low, close, volume, turnover: volume * close * 10, openInterest: 10_000 + i });
    price = close;
    const r = rnd();
    if (r < 0.005 && bars.length > 2) {
      // An overlapping copy of a recent minute, as a restore replay meeting the live feed makes.
      const old = bars[bars.length - 2];
      if (old) bars.push({ ...old, close: old.close + 1 });
    }
    time += r < 0.9 ? 60 : r < 0.98 ? 60 * (2 + Math.floor(rnd() * 10)) : 60 * (30 + Math.floor(rnd() * 900));
  }
  return bars;
}

export function bar(time: number, close: number, extra: Partial<OhlcvBar> = {}): OhlcvBar {
  return { time, open: close, high: close + 0.5, low: close - 0.5, close, volume: 1, turnover: close, openInterest: 0, ...extra };
}

/** '2024-01-02 10:14' → local-as-UTC seconds */
export function at(text: string): number {
  const t = parseDatetime(text);
  if (t === null) throw new Error(`bad datetime ${text}`);
  return t;
}
