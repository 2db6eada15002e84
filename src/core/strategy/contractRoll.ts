import type { OhlcvBar } from '../../shared/bar.js';

/**
 * The contract-roll rule (DOMAIN.md "MACD-TD strategy", Contract roll): at a trading day's first
 * bar, another contract of the product becomes active when it had more volume than the active
 * one on each of the last `days` trading days. Pure: the worker reads the volumes from the bar
 * store (bars strictly before the new day's first minute, so a re-check after a restart sees
 * the same figures and decides the same), this decides.
 */

/** vtSymbol → trading day ('YYYY-MM-DD') → volume traded that day. */
export type DailyVolumes = Readonly<Record<string, Readonly<Record<string, number>>>>;

export interface DominanceRule {
  /** Trading days on each of which the challenger must out-trade the active contract (rollDays). */
  days: number;
}

export interface RollVerdict {
  /** The contract to roll to; null: the active one stays. */
  to: string | null;
  /** The trading days compared, most recent first (fewer than `days` when the store has fewer). */
  daysCompared: string[];
  /** Why, for the log: the figures of the challenger against the active contract. */
  detail: string;
}

/**
 * Whether a contract overtook `active`. The days compared are the `days` most recent trading
 * days on which any of the contracts traded (a day the store has no bars for is no trading
 * day: a holiday). A contract with no bars on a day traded 0 then. With fewer days than `days`
 * nothing rolls (the rule cannot be judged yet). When several contracts qualify, the one with
 * the most volume on the latest day wins (then the most over all days compared, then the
 * lexically smaller vtSymbol, i.e. the nearer delivery month).
 */
export function overtakingContract(active: string, volumes: DailyVolumes, rule: DominanceRule): RollVerdict {
  if (!Number.isInteger(rule.days) || rule.days < 1) throw new Error(`roll rule: days must be a whole number >= 1, got ${String(rule.days)}`);
  const allDays = new Set<string>();
  for (const byDay of Object.values(volumes)) for (const [day, v] of Object.entries(byDay)) if (v > 0) allDays.add(day);
  const days = [...allDays].sort().reverse().slice(0, rule.days);
  if (days.length < rule.days) return { to: null, daysCompared: days, detail: `${String(days.length)} trading day(s) of volume, ${String(rule.days)} needed` };
  const own = volumes[active] ?? {};
  const volumeOf = (byDay: Readonly<Record<string, number>>, day: string): number => {
    const v = byDay[day];
    return v !== undefined && Number.isFinite(v) ? v : 0;
  };
  let best: { symbol: string; latest: number; total: number } | null = null;
  for (const symbol of Object.keys(volumes).sort()) {
    if (symbol === active) continue;
    const byDay = volumes[symbol] ?? {};
    if (!days.every((d) => volumeOf(byDay, d) > volumeOf(own, d))) continue;
    const latest = volumeOf(byDay, days[0] as string);
    const total = days.reduce((s, d) => s + volumeOf(byDay, d), 0);
    if (best === null || latest > best.latest || (latest === best.latest && total > best.total)) best = { symbol, latest, total };
  }
  const figures = (symbol: string): string => days.map((d) => `${d} ${String(volumeOf(volumes[symbol] ?? {}, d))}`).join(', ');
  if (best === null) return { to: null, daysCompared: days, detail: `no contract out-traded ${active} (${figures(active)}) on each of ${days.join(', ')}` };
  return { to: best.symbol, daysCompared: days, detail: `${best.symbol} (${figures(best.symbol)}) out-traded ${active} (${figures(active)}) on each of the last ${String(rule.days)} trading day(s)` };
}

/** Sums 1-minute bars' volume per trading day (`tradingDayOf`: the calendar's rule). */
export function dailyVolumesOf(bars: readonly OhlcvBar[], tradingDayOf: (time: number) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of bars) {
    const day = tradingDayOf(b.time);
    out[day] = (out[day] ?? 0) + b.volume;
  }
  return out;
}
