import { describe, expect, it } from 'vitest';
import {
  ChartLinker,
  barContaining,
  historyPageSize,
  shiftLogicalRange,
  windowStartOf,
  type LinkedChart,
  type TimeRange,
} from '../../src/renderer/chart/timeLink.js';
import { parseDatetime } from '../../src/shared/time.js';

const t = (text: string): number => parseDatetime(text) as number;

describe('crosshair time between windows', () => {
  it('maps a 15-minute bar to the 30-minute bar holding it, and a 30-minute bar to the 15-minute bar it starts with', () => {
    expect(windowStartOf(t('2026-01-05 09:15:00'), 30)).toBe(t('2026-01-05 09:00:00'));
    expect(windowStartOf(t('2026-01-05 09:45:00'), 30)).toBe(t('2026-01-05 09:30:00'));
    expect(windowStartOf(t('2026-01-05 09:30:00'), 15)).toBe(t('2026-01-05 09:30:00'));
    expect(windowStartOf(t('2026-01-05 21:59:00'), 60)).toBe(t('2026-01-05 21:00:00'));
  });

  it('finds the bar whose window holds a time, and none in a gap or outside the bars', () => {
    // 30-minute bars around the SHFE 10:15-10:30 break: 10:00 holds 10:00-10:14 only.
    const bars30 = ['09:00', '09:30', '10:00', '10:30', '11:00'].map((h) => t(`2026-01-05 ${h}:00`));
    expect(barContaining(bars30, 30, t('2026-01-05 10:15:00'))).toBe(t('2026-01-05 10:00:00'));
    expect(barContaining(bars30, 30, t('2026-01-05 10:45:00'))).toBe(t('2026-01-05 10:30:00'));
    expect(barContaining(bars30, 30, t('2026-01-05 08:59:00'))).toBeNull();
    expect(barContaining(bars30, 30, t('2026-01-05 11:30:00'))).toBeNull();
    // Bars not aligned to the clock (an external publisher's): still the one starting at or before.
    const odd = [t('2026-01-05 09:05:00'), t('2026-01-05 09:20:00')];
    expect(barContaining(odd, 15, t('2026-01-05 09:19:00'))).toBe(t('2026-01-05 09:05:00'));
    expect(barContaining(odd, 15, t('2026-01-05 09:34:00'))).toBe(t('2026-01-05 09:20:00'));
    expect(barContaining(odd, 15, t('2026-01-05 09:35:00'))).toBeNull();
    expect(barContaining([], 15, 0)).toBeNull();
  });
});

describe('history bookkeeping', () => {
  it('keeps the same bars in view after a prepend by moving the logical range by the bars added', () => {
    expect(shiftLogicalRange({ from: 3.5, to: 120.5 }, 500)).toEqual({ from: 503.5, to: 620.5 });
    expect(shiftLogicalRange({ from: -10, to: 90 }, 0)).toEqual({ from: -10, to: 90 });
  });

  it('asks for two screens of bars, within the API bounds', () => {
    expect(historyPageSize(120)).toBe(500);
    expect(historyPageSize(400)).toBe(800);
    expect(historyPageSize(1_500)).toBe(2_000);
    expect(historyPageSize(Number.NaN)).toBe(500);
  });
});

class FakeChart implements LinkedChart {
  crosshair: (number | null)[] = [];
  ranges: TimeRange[] = [];
  constructor(
    readonly id: string,
    private bars = true,
  ) {}
  showCrosshairAt(time: number | null): void {
    this.crosshair.push(time);
  }
  showTimeRange(range: TimeRange): void {
    this.ranges.push(range);
  }
  hasBars(): boolean {
    return this.bars;
  }
  setBars(v: boolean): void {
    this.bars = v;
  }
}

describe('ChartLinker', () => {
  it('follows the chart the trader uses and ignores what the followers report back', () => {
    const linker = new ChartLinker();
    const a = new FakeChart('a');
    const b = new FakeChart('b');
    const c = new FakeChart('c');
    linker.add(a);
    linker.add(b);
    linker.add(c);
    // Nobody touched a chart yet: the first one leads.
    linker.rangeChanged('a', { from: 1, to: 2 });
    linker.rangeChanged('b', { from: 9, to: 9.5 });
    expect(b.ranges).toEqual([{ from: 1, to: 2 }]);
    expect(a.ranges).toEqual([]);

    linker.lead('b');
    linker.crosshairMoved('b', 600);
    // Setting the crosshair and range on a follower makes it report them: no echo.
    linker.crosshairMoved('a', 600);
    linker.rangeChanged('a', { from: 5, to: 6 });
    expect(a.crosshair).toEqual([600]);
    expect(c.crosshair).toEqual([600]);
    expect(b.crosshair).toEqual([]);
    expect(b.ranges).toEqual([{ from: 1, to: 2 }]);

    linker.crosshairMoved('b', null);
    expect(a.crosshair).toEqual([600, null]);
  });

  it('brings a chart that loads later (or gets older history) to the leader\u2019s range; a chart without bars waits', () => {
    const linker = new ChartLinker();
    const a = new FakeChart('a');
    const b = new FakeChart('b', false);
    linker.add(a);
    const removeB = linker.add(b);
    linker.lead('a');
    linker.rangeChanged('a', { from: 100, to: 200 });
    expect(b.ranges).toEqual([]);
    b.setBars(true);
    linker.loaded('b');
    expect(b.ranges).toEqual([{ from: 100, to: 200 }]);
    // The leader's own reload does not move it.
    linker.loaded('a');
    expect(a.ranges).toEqual([]);
    removeB();
    linker.rangeChanged('a', { from: 300, to: 400 });
    expect(b.ranges).toHaveLength(1);
    expect(linker.leaderId).toBe('a');
  });
});
