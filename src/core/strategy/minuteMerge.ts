import type { OhlcvBar } from '../../shared/bar.js';
import type { InstrumentBar } from './strategy.js';

/**
 * The k-way merge of several instruments' 1-minute bars on the time axis (DOMAIN.md: a
 * universe's bars are processed in datetime order, bars of the same minute together in
 * vtSymbol order). Live following, restore replay and backtests all group bars with it, so
 * they hand the TradingEngine one and the same sequence.
 */
export interface InstrumentSeries {
  vtSymbol: string;
  /** Ascending by time. */
  bars: readonly OhlcvBar[];
}

/**
 * Calls `onMinute` with each minute's bars (vtSymbol order), minutes ascending, up to and
 * including `until` (all when omitted). Returns how many bars of each series were consumed.
 * The group array is reused between calls: read it, do not keep it.
 */
export function mergeMinutes(series: readonly InstrumentSeries[], onMinute: (bars: readonly InstrumentBar[]) => void, until = Number.POSITIVE_INFINITY): number[] {
  const ordered = series.map((s, i) => ({ s, i })).sort((a, b) => (a.s.vtSymbol < b.s.vtSymbol ? -1 : a.s.vtSymbol > b.s.vtSymbol ? 1 : 0));
  const pos = new Array<number>(series.length).fill(0);
  const group: InstrumentBar[] = [];
  for (;;) {
    let next = Number.POSITIVE_INFINITY;
    for (const { s, i } of ordered) {
      const bar = s.bars[pos[i] as number];
      if (bar !== undefined && bar.time < next) next = bar.time;
    }
    if (next === Number.POSITIVE_INFINITY || next > until) break;
    group.length = 0;
    for (const { s, i } of ordered) {
      let p = pos[i] as number;
      // Duplicate minutes within one series (never in a store, possible in hand-made input) are dropped.
      while (s.bars[p] !== undefined && (s.bars[p] as OhlcvBar).time < next) p++;
      const bar = s.bars[p];
      if (bar !== undefined && bar.time === next) {
        group.push({ vtSymbol: s.vtSymbol, bar });
        p++;
      }
      pos[i] = p;
    }
    onMinute(group);
  }
  return pos;
}
