import type { WindowAnalysis } from '../core/signalEngine.js';
import type { OhlcvBar } from '../shared/bar.js';
import {
  barPointOf,
  MAX_SNAPSHOT_BARS,
  MAX_SNAPSHOT_MARKS,
  type BarPoint,
  type InstrumentSnapshot,
  type SignalState,
  type TdMark,
} from '../shared/snapshot.js';

/**
 * The bounded window onto one instrument's analysis that a snapshot publishes: the last
 * MAX_SNAPSHOT_BARS window bars with their indicator values and the last marks. Ring
 * buffers, so memory and the snapshot's size stay flat however long the variant runs.
 */
export class InstrumentView {
  private readonly bars: BarPoint[] = [];
  private readonly marks: TdMark[] = [];

  constructor(
    readonly vtSymbol: string,
    readonly windowMinutes: number,
  ) {}

  addWindow(a: WindowAnalysis): void {
    this.bars.push(barPointOf(a.bar, a));
    if (this.bars.length > MAX_SNAPSHOT_BARS) this.bars.splice(0, this.bars.length - MAX_SNAPSHOT_BARS);
    if (a.marks.length > 0) {
      this.marks.push(...a.marks);
      if (this.marks.length > MAX_SNAPSHOT_MARKS) this.marks.splice(0, this.marks.length - MAX_SNAPSHOT_MARKS);
    }
  }

  get barCount(): number {
    return this.bars.length;
  }

  toSnapshot(
    forming: WindowAnalysis | null,
    formingBar: OhlcvBar | null,
    signals: SignalState,
    lastBarAt: string | null,
    minuteBarsProcessed: number,
  ): InstrumentSnapshot {
    // Marks of bars that scrolled out of the published window would point nowhere on a chart.
    const firstTime = this.bars[0]?.time ?? Number.NEGATIVE_INFINITY;
    return {
      vtSymbol: this.vtSymbol,
      windowMinutes: this.windowMinutes,
      bars: this.bars.slice(),
      forming: forming ? barPointOf(forming.bar, forming) : formingBar ? barPointOf(formingBar, null) : null,
      marks: this.marks.filter((m) => m.time >= firstTime),
      signals,
      lastBarAt,
      minuteBarsProcessed,
    };
  }
}

