import { describe, expect, it } from 'vitest';
import type { BarPoint, TdMark } from '../../src/shared/snapshot.js';
import { ChartModel } from '../../src/renderer/chart/chartModel.js';

const M15 = 15 * 60;
const T0 = Date.UTC(2026, 0, 5, 9, 0) / 1000;

/** A hand-made 15-minute bar at window `i` after T0. */
function bar(i: number, close = 100 + i): BarPoint {
  return {
    time: T0 + i * M15,
    open: close - 1,
    high: close + 2,
    low: close - 3,
    close,
    volume: 10,
    turnover: 0,
    openInterest: 0,
    dif: null,
    dea: null,
    macd: null,
    emaFast: null,
    emaSlow: null,
  };
}

function loaded(closed: number, formingIndex: number | null = null): ChartModel {
  const m = new ChartModel();
  m.reset(
    Array.from({ length: closed }, (_, i) => bar(i)),
    formingIndex === null ? null : bar(formingIndex),
    [],
  );
  return m;
}

describe('ChartModel.plan', () => {
  it('counts the forming bar as the last candle', () => {
    const m = loaded(5, 5);
    expect(m.barCount).toBe(6);
    expect(m.lastTime).toBe(T0 + 5 * M15);
    expect(m.lastClosedTime).toBe(T0 + 4 * M15);
  });

  it('drops a forming bar that is not after the last closed bar', () => {
    const m = loaded(5, 4);
    expect(m.barCount).toBe(5);
    expect(m.forming).toBeNull();
  });

  it('applies only the closed bars newer than the drawn ones, then the forming bar', () => {
    const m = loaded(5, 5);
    const plan = m.plan({ recent: [bar(3), bar(4), bar(5)], forming: bar(6) });
    expect(plan).toEqual({ kind: 'apply', closed: [bar(5)], forming: bar(6) });
    if (plan.kind !== 'apply') throw new Error('unreachable');
    m.commit(plan);
    // bar 5 replaced the forming candle at the same time; bar 6 is the new forming one.
    expect(m.barCount).toBe(7);
    expect(m.lastTime).toBe(T0 + 6 * M15);
    expect(m.pointAt(T0 + 5 * M15)).toEqual({ bar: bar(5), forming: false });
    expect(m.pointAt(T0 + 6 * M15)).toEqual({ bar: bar(6), forming: true });
  });

  it('updates the forming bar in place while its window is open', () => {
    const m = loaded(5, 5);
    const plan = m.plan({ recent: [bar(3), bar(4)], forming: bar(5, 250) });
    expect(plan).toEqual({ kind: 'apply', closed: [], forming: bar(5, 250) });
    if (plan.kind !== 'apply') throw new Error('unreachable');
    m.commit(plan);
    expect(m.barCount).toBe(6);
    expect(m.lastPoint()?.bar.close).toBe(250);
  });

  it('clears the forming flag when its window closes with no new forming bar', () => {
    const m = loaded(5, 5);
    const plan = m.plan({ recent: [bar(4), bar(5)], forming: null });
    expect(plan).toEqual({ kind: 'apply', closed: [bar(5)], forming: null });
    if (plan.kind !== 'apply') throw new Error('unreachable');
    m.commit(plan);
    expect(m.forming).toBeNull();
    expect(m.barCount).toBe(6);
  });

  it('asks for a reload when the update ends before the drawn history (a restart rewrote it)', () => {
    const m = loaded(10);
    expect(m.plan({ recent: [bar(6), bar(7)], forming: bar(8) }).kind).toBe('reload');
  });

  it('asks for a reload when two or more new bars do not overlap the drawn ones (updates were missed)', () => {
    const m = loaded(5);
    expect(m.plan({ recent: [bar(7), bar(8)], forming: null }).kind).toBe('reload');
  });

  it('accepts a single new bar right after the drawn ones', () => {
    const m = loaded(5);
    expect(m.plan({ recent: [bar(5)], forming: null })).toEqual({ kind: 'apply', closed: [bar(5)], forming: null });
  });

  it('asks for a reload when the drawn forming bar moved on without its closed bar', () => {
    const m = loaded(5, 5);
    expect(m.plan({ recent: [bar(4)], forming: bar(6) }).kind).toBe('reload');
  });

  it('ignores a stale forming bar at the time of a closed one', () => {
    const m = loaded(5);
    expect(m.plan({ recent: [bar(4)], forming: bar(4) })).toEqual({ kind: 'apply', closed: [], forming: null });
  });

  it('takes every bar when nothing is drawn yet', () => {
    const m = new ChartModel();
    expect(m.plan({ recent: [bar(1), bar(0)], forming: bar(2) })).toEqual({
      kind: 'apply',
      closed: [bar(0), bar(1)],
      forming: bar(2),
    });
  });
});

describe('ChartModel marks', () => {
  const mark = (i: number, side: 'buy' | 'sell', kind: 9 | 13): TdMark => ({ time: T0 + i * M15, side, kind, price: 100 });

  it('keeps marks once, and shows only those on drawn bars, in time order', () => {
    const m = new ChartModel();
    m.reset([bar(0), bar(1), bar(2)], null, [mark(2, 'sell', 9), mark(0, 'buy', 9)]);
    expect(m.addMarks([mark(0, 'buy', 9)])).toBe(false);
    expect(m.addMarks([mark(1, 'buy', 13), mark(9, 'sell', 9)])).toBe(true);
    expect(m.visibleMarks()).toEqual([mark(0, 'buy', 9), mark(1, 'buy', 13), mark(2, 'sell', 9)]);
    expect(m.marksAt(T0 + 1 * M15)).toEqual([mark(1, 'buy', 13)]);
    expect(m.marksAt(T0 + 3 * M15)).toEqual([]);
  });
});
