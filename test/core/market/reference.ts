/**
 * Small independent reference code for the market tests: written from DOMAIN.md directly,
 * deliberately naive, and sharing nothing with src/core beyond the bar type.
 */
import type { OhlcvBar } from '../../../src/shared/bar.js';

/** Open per the China futures sessions, written out by hand (Mon–Fri sessions, night on Mon–Fri evenings). */
export function referenceIsOpen(time: number): boolean {
  const d = new Date(time * 1000);
  const weekday = d.getUTCDay();
  if (weekday === 0 || weekday === 6) return false;
  const hhmm = d.getUTCHours() * 100 + d.getUTCMinutes();
  return (
    (hhmm >= 900 && hhmm < 1015) ||
    (hhmm >= 1030 && hhmm < 1130) ||
    (hhmm >= 1330 && hhmm < 1500) ||
    (hhmm >= 2100 && hhmm < 2300)
  );
}

/** Window bars of N minutes by grouping 1-minute bars on floor(time / N minutes). */
export function aggregate(bars: readonly OhlcvBar[], minutes: number): OhlcvBar[] {
  const out: OhlcvBar[] = [];
  let key = Number.NaN;
  for (const b of bars) {
    const k = Math.floor(b.time / (minutes * 60));
    const last = out[out.length - 1];
    if (k !== key || last === undefined) {
      out.push({ ...b, time: k * minutes * 60 });
      key = k;
    } else {
      last.high = Math.max(last.high, b.high);
      last.low = Math.min(last.low, b.low);
      last.close = b.close;
      last.volume += b.volume;
      last.turnover += b.turnover;
      last.openInterest = b.openInterest;
    }
  }
  return out;
}

function ema(xs: readonly number[], n: number): number[] {
  const a = 2 / (n + 1);
  const out: number[] = [];
  let prev = Number.NaN;
  for (const [i, x] of xs.entries()) {
    prev = i === 0 ? x : a * x + (1 - a) * prev;
    out.push(prev);
  }
  return out;
}

export function macd(closes: readonly number[]): { dif: number[]; dea: number[]; hist: number[] } {
  const e12 = ema(closes, 12);
  const e26 = ema(closes, 26);
  const dif = closes.map((_, i) => (e12[i] ?? 0) - (e26[i] ?? 0));
  const dea = ema(dif, 9);
  const hist = dif.map((d, i) => 2 * (d - (dea[i] ?? 0)));
  return { dif, dea, hist };
}

export function signChanges(xs: readonly number[]): number {
  let n = 0;
  for (let i = 1; i < xs.length; i++) {
    const a = xs[i - 1] ?? 0;
    const b = xs[i] ?? 0;
    if ((a < 0 && b > 0) || (a > 0 && b < 0)) n++;
  }
  return n;
}

/** TD setup 9s per DOMAIN.md: count C_t vs C_{t-4}; a count reaching 9 completes and resets. */
export function tdSetupNines(closes: readonly number[]): { buy: number; sell: number } {
  let buy = 0;
  let sell = 0;
  const nines = { buy: 0, sell: 0 };
  for (let t = 4; t < closes.length; t++) {
    const c = closes[t] ?? 0;
    const c4 = closes[t - 4] ?? 0;
    buy = c < c4 ? buy + 1 : 0;
    sell = c > c4 ? sell + 1 : 0;
    if (buy === 9) {
      nines.buy++;
      buy = 0;
    }
    if (sell === 9) {
      nines.sell++;
      sell = 0;
    }
  }
  return nines;
}

/** TD countdown 13s per DOMAIN.md (buy: C_t <= L_{t-2}; sell: C_t >= H_{t-2}); the other side's 9 cancels. */
export function tdCountdownThirteens(bars: readonly OhlcvBar[]): { buy: number; sell: number } {
  let buySetup = 0;
  let sellSetup = 0;
  let countdown: { side: 'buy' | 'sell'; count: number } | null = null;
  const out = { buy: 0, sell: 0 };
  for (let t = 0; t < bars.length; t++) {
    const b = bars[t];
    if (b === undefined) continue;
    const c4 = bars[t - 4]?.close;
    if (c4 !== undefined) {
      buySetup = b.close < c4 ? buySetup + 1 : 0;
      sellSetup = b.close > c4 ? sellSetup + 1 : 0;
    }
    if (buySetup === 9) {
      buySetup = 0;
      if (countdown?.side !== 'buy') countdown = { side: 'buy', count: 0 };
    }
    if (sellSetup === 9) {
      sellSetup = 0;
      if (countdown?.side !== 'sell') countdown = { side: 'sell', count: 0 };
    }
    const b2 = bars[t - 2];
    if (countdown !== null && b2 !== undefined) {
      const hit = countdown.side === 'buy' ? b.close <= b2.low : b.close >= b2.high;
      if (hit) countdown.count++;
      if (countdown.count === 13) {
        out[countdown.side]++;
        countdown = null;
      }
    }
  }
  return out;
}

/**
 * Bars at which a bottom / top divergence starts per DOMAIN.md (R = 5, M = 50): the lowest low
 * of the last R bars is below the lowest low of the M bars before them while dif at the recent
 * low is above dif at the earlier low (mirrored for tops).
 */
export function divergences(bars: readonly OhlcvBar[], dif: readonly number[], R = 5, M = 50): { bottom: number; top: number } {
  const out = { bottom: 0, top: 0 };
  let bottomActive = false;
  let topActive = false;
  for (let t = R + M - 1; t < bars.length; t++) {
    const recent = range(t - R + 1, t);
    const earlier = range(t - R - M + 1, t - R);
    const lowAt = (i: number): number => bars[i]?.low ?? Number.NaN;
    const highAt = (i: number): number => bars[i]?.high ?? Number.NaN;
    const recentLow = argBest(recent, lowAt, (a, b) => a < b);
    const earlierLow = argBest(earlier, lowAt, (a, b) => a < b);
    const recentHigh = argBest(recent, highAt, (a, b) => a > b);
    const earlierHigh = argBest(earlier, highAt, (a, b) => a > b);
    const bottom = lowAt(recentLow) < lowAt(earlierLow) && (dif[recentLow] ?? 0) > (dif[earlierLow] ?? 0);
    const top = highAt(recentHigh) > highAt(earlierHigh) && (dif[recentHigh] ?? 0) < (dif[earlierHigh] ?? 0);
    if (bottom && !bottomActive) out.bottom++;
    if (top && !topActive) out.top++;
    bottomActive = bottom;
    topActive = top;
  }
  return out;
}

/** Bars at which bottom / top dullness begins: close at the L-bar extreme while dif is not. */
export function dullnessStarts(closes: readonly number[], dif: readonly number[], L = 20): { bottom: number; top: number } {
  const out = { bottom: 0, top: 0 };
  let wasBottom = false;
  let wasTop = false;
  for (let t = L; t < closes.length; t++) {
    const c = closes[t] ?? 0;
    const d = dif[t] ?? 0;
    const lastCloses = closes.slice(t - L + 1, t + 1);
    const prevDif = dif.slice(t - L, t);
    const bottom = c <= Math.min(...lastCloses) && d > Math.min(...prevDif);
    const top = c >= Math.max(...lastCloses) && d < Math.max(...prevDif);
    if (bottom && !wasBottom) out.bottom++;
    if (top && !wasTop) out.top++;
    wasBottom = bottom;
    wasTop = top;
  }
  return out;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

function argBest(idx: readonly number[], value: (i: number) => number, better: (a: number, b: number) => boolean): number {
  let best = idx[0] ?? 0;
  for (const i of idx) if (better(value(i), value(best))) best = i;
  return best;
}
