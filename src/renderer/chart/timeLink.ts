/**
 * Time bookkeeping shared by the charts: which bar holds a time when two charts draw different
 * windows, how a visible range moves when bars are prepended, and the linker that makes charts
 * side by side follow the one the trader is using. Pure: no DOM, no chart library.
 */

export interface TimeRange {
  from: number;
  to: number;
}

/** Window bars are clock-aligned (the start floored to N minutes, local-as-UTC): the window holding a time. */
export function windowStartOf(time: number, windowMinutes: number): number {
  const span = windowMinutes * 60;
  return Math.floor(time / span) * span;
}

/** Index of the last of `count` ascending times (read through `timeAt`) at or before `time`; -1 when none is. */
export function lastIndexAtOrBefore(count: number, timeAt: (i: number) => number, time: number): number {
  let lo = 0;
  let hi = count - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (timeAt(mid) <= time) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * The bar of a chart (ascending bar start times, windows of `windowMinutes`) whose window holds
 * `time`, or null when none does: before its first bar, after its last window, or in a gap
 * (a session break) where that chart has no bar. Works for bars that are not clock-aligned too.
 */
export function barContaining(times: readonly number[], windowMinutes: number, time: number): number | null {
  const i = lastIndexAtOrBefore(times.length, (k) => times[k] as number, time);
  if (i < 0) return null;
  const start = times[i] as number;
  return time < start + windowMinutes * 60 ? start : null;
}

/**
 * A logical range after `added` bars were put in front of the series: the same bars stay in
 * view, so the trader's place does not jump when older history arrives.
 */
export function shiftLogicalRange(range: TimeRange, added: number): TimeRange {
  return { from: range.from + added, to: range.to + added };
}

/** How many older bars to ask for: a screenful or two, within the API's bounds. */
export function historyPageSize(visibleBars: number, min = 500, max = 2000): number {
  if (!Number.isFinite(visibleBars)) return min;
  return Math.max(min, Math.min(max, Math.ceil(visibleBars * 2)));
}

/** What the linker needs from a chart. */
export interface LinkedChart {
  readonly id: string;
  /** Shows the crosshair on the bar holding `time` (mapped by the chart), or clears it. */
  showCrosshairAt(time: number | null): void;
  showTimeRange(range: TimeRange): void;
  /** Whether the chart has bars to show a range on. */
  hasBars(): boolean;
}

/**
 * Charts side by side move together: the crosshair at the same time, the same visible time
 * range. Only the chart the trader last pointed at or scrolled (the leader) is followed; what
 * the followers report while being moved is ignored, so nothing echoes back and forth.
 */
export class ChartLinker {
  private readonly members = new Map<string, LinkedChart>();
  private leader: string | null = null;
  private lastRange: TimeRange | null = null;

  add(chart: LinkedChart): () => void {
    this.members.set(chart.id, chart);
    return () => {
      this.members.delete(chart.id);
      if (this.leader === chart.id) this.leader = null;
    };
  }

  /** The trader is pointing at or scrolling this chart: it leads until another one is used. */
  lead(id: string): void {
    if (this.members.has(id)) this.leader = id;
  }

  get leaderId(): string | null {
    return this.leader ?? this.members.keys().next().value ?? null;
  }

  crosshairMoved(id: string, time: number | null): void {
    if (id !== this.leaderId) return;
    for (const m of this.members.values()) if (m.id !== id) m.showCrosshairAt(time);
  }

  rangeChanged(id: string, range: TimeRange | null): void {
    if (id !== this.leaderId || range === null) return;
    this.lastRange = range;
    for (const m of this.members.values()) if (m.id !== id && m.hasBars()) m.showTimeRange(range);
  }

  /** A chart (re)loaded its bars: bring it to where the leader is. */
  loaded(id: string): void {
    const chart = this.members.get(id);
    if (!chart || id === this.leaderId || this.lastRange === null) return;
    chart.showTimeRange(this.lastRange);
  }
}
