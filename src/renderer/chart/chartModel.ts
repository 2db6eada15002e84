import type { BarPoint, TdMark } from '../../shared/snapshot.js';
import { lastIndexAtOrBefore, windowStartOf } from './timeLink.js';

/**
 * What the chart holds, kept beside the chart so that each live update can be planned
 * without reading back from the chart: which closed bars are drawn, whether the last candle
 * is a forming one, and the TD marks. Pure: the controller draws what `plan` decides.
 */

export interface LiveBars {
  /** The last few closed window bars, newest last. */
  recent: readonly BarPoint[];
  forming: BarPoint | null;
}

export type UpdatePlan =
  | { kind: 'reload'; reason: string }
  | {
      kind: 'apply';
      /** Closed bars newer than the newest drawn one, oldest first: each one `series.update()`. */
      closed: BarPoint[];
      /** The forming bar to draw last, or null to leave the last candle as it is. */
      forming: BarPoint | null;
    };

export interface HoverPoint {
  bar: BarPoint;
  forming: boolean;
  /** TD marks completed on this bar. */
  marks?: readonly TdMark[];
}

export function markKey(mark: TdMark): string {
  return `${mark.time}:${mark.side}:${mark.kind}`;
}

export class ChartModel {
  private closed: BarPoint[] = [];
  private formingBar: BarPoint | null = null;
  private readonly byTime = new Map<number, BarPoint>();
  private readonly marks = new Map<string, TdMark>();

  /** Replaces everything: the snapshot was (re)loaded. */
  reset(bars: readonly BarPoint[], forming: BarPoint | null, marks: readonly TdMark[]): void {
    this.closed = [...bars].sort((a, b) => a.time - b.time);
    this.byTime.clear();
    for (const b of this.closed) this.byTime.set(b.time, b);
    const last = this.closed.at(-1);
    this.formingBar = forming && (!last || forming.time > last.time) ? forming : null;
    this.marks.clear();
    this.addMarks(marks);
  }

  get closedBars(): readonly BarPoint[] {
    return this.closed;
  }

  get forming(): BarPoint | null {
    return this.formingBar;
  }

  /** Candles in the series: closed bars plus the forming one. */
  get barCount(): number {
    return this.closed.length + (this.formingBar ? 1 : 0);
  }

  /** Time of the series' last candle. */
  get lastTime(): number | null {
    return this.formingBar?.time ?? this.closed.at(-1)?.time ?? null;
  }

  get lastClosedTime(): number | null {
    return this.closed.at(-1)?.time ?? null;
  }

  /** Time of the series' first candle: where older history must end. */
  get firstTime(): number | null {
    return this.closed[0]?.time ?? this.formingBar?.time ?? null;
  }

  /**
   * Puts older closed bars in front (history loaded on demand). Bars at or after the first one
   * held are dropped, so an overlapping answer cannot duplicate or reorder the series.
   * Returns how many were added: the controller shifts the visible range by that much.
   */
  prepend(older: readonly BarPoint[], marks: readonly TdMark[]): number {
    const first = this.firstTime ?? Number.POSITIVE_INFINITY;
    const fresh: BarPoint[] = [];
    let last = Number.NEGATIVE_INFINITY;
    for (const b of [...older].sort((a, b) => a.time - b.time)) {
      if (b.time >= first || b.time === last) continue;
      fresh.push(b);
      last = b.time;
    }
    this.addMarks(marks);
    if (fresh.length === 0) return 0;
    for (const b of fresh) this.byTime.set(b.time, b);
    this.closed = fresh.concat(this.closed);
    return fresh.length;
  }

  /**
   * The candle whose window holds `time` (a time from a chart of another window size), or
   * null when this chart has none there.
   */
  pointContaining(time: number, windowMinutes: number): HoverPoint | null {
    const exact = this.pointAt(windowStartOf(time, windowMinutes));
    if (exact) return exact;
    // Bars not aligned to clock windows (an external publisher's): the last one starting at or before.
    const forming = this.formingBar;
    if (forming && forming.time <= time) return time < forming.time + windowMinutes * 60 ? { bar: forming, forming: true } : null;
    const i = lastIndexAtOrBefore(this.closed.length, (k) => (this.closed[k] as BarPoint).time, time);
    const bar = this.closed[i];
    return bar && time < bar.time + windowMinutes * 60 ? { bar, forming: false } : null;
  }

  /** The bars the chart draws, in order, the forming one flagged. */
  points(): HoverPoint[] {
    const out: HoverPoint[] = this.closed.map((bar) => ({ bar, forming: false }));
    if (this.formingBar) out.push({ bar: this.formingBar, forming: true });
    return out;
  }

  pointAt(time: number): HoverPoint | null {
    if (this.formingBar && this.formingBar.time === time) return { bar: this.formingBar, forming: true };
    const bar = this.byTime.get(time);
    return bar ? { bar, forming: false } : null;
  }

  lastPoint(): HoverPoint | null {
    if (this.formingBar) return { bar: this.formingBar, forming: true };
    const bar = this.closed.at(-1);
    return bar ? { bar, forming: false } : null;
  }

  /**
   * Decides how a live update reaches the chart. `series.update()` only appends or replaces
   * the last point, so anything else (history rewritten by a restart, a hole after missed
   * updates) asks for a reload of the snapshot instead.
   */
  plan(update: LiveBars): UpdatePlan {
    const recent = [...update.recent].sort((a, b) => a.time - b.time);
    const lastClosed = this.lastClosedTime;
    const newest = recent.at(-1);
    const oldest = recent[0];
    if (lastClosed !== null && newest && newest.time < lastClosed) {
      return { kind: 'reload', reason: 'the update ends before the drawn history: history was rewritten' };
    }
    const fresh = lastClosed === null ? recent : recent.filter((b) => b.time > lastClosed);
    // With two or more bars and none already drawn, bars between may have been missed.
    if (lastClosed !== null && oldest && recent.length >= 2 && oldest.time > lastClosed) {
      return { kind: 'reload', reason: 'the update does not overlap the drawn history' };
    }
    const drawnLast = this.lastTime;
    const firstFresh = fresh[0];
    if (firstFresh && drawnLast !== null && firstFresh.time < drawnLast) {
      return { kind: 'reload', reason: 'a closed bar arrived before the forming bar already drawn' };
    }
    const drawnForming = this.formingBar;
    if (
      drawnForming &&
      !fresh.some((b) => b.time === drawnForming.time) &&
      ((update.forming && update.forming.time > drawnForming.time) || (firstFresh && firstFresh.time > drawnForming.time))
    ) {
      return { kind: 'reload', reason: 'the forming bar drawn last closed without its closed bar' };
    }
    const lastAfter = fresh.at(-1)?.time ?? drawnLast;
    let forming: BarPoint | null = null;
    if (update.forming) {
      const f = update.forming;
      const closedAfter = fresh.at(-1)?.time ?? lastClosed;
      // A forming bar at or before a closed one is stale; one older than the drawn candle cannot be drawn.
      if ((closedAfter === null || f.time > closedAfter) && (lastAfter === null || f.time >= lastAfter)) forming = f;
    }
    return { kind: 'apply', closed: fresh, forming };
  }

  /** Records what the controller drew. */
  commit(plan: Extract<UpdatePlan, { kind: 'apply' }>): void {
    for (const b of plan.closed) {
      this.closed.push(b);
      this.byTime.set(b.time, b);
    }
    const last = this.closed.at(-1);
    if (plan.forming) {
      this.formingBar = plan.forming;
    } else if (this.formingBar && last && this.formingBar.time <= last.time) {
      // Its window closed: the closed bar replaced the forming candle.
      this.formingBar = null;
    }
  }

  /** Adds marks; returns true when the set changed. */
  addMarks(marks: readonly TdMark[]): boolean {
    let changed = false;
    for (const m of marks) {
      const key = markKey(m);
      if (!this.marks.has(key)) {
        this.marks.set(key, m);
        changed = true;
      }
    }
    return changed;
  }

  /** The marks on one bar, for the crosshair legend: adjacent bars' marker texts can overlap. */
  marksAt(time: number): TdMark[] {
    return [...this.marks.values()].filter((m) => m.time === time).sort((a, b) => a.kind - b.kind);
  }

  /** Marks on bars the chart holds, by time: a marker on a missing bar has nowhere to go. */
  visibleMarks(): TdMark[] {
    return [...this.marks.values()].filter((m) => this.byTime.has(m.time)).sort((a, b) => a.time - b.time || a.kind - b.kind);
  }
}
