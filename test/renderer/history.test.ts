import { describe, expect, it } from 'vitest';
import { ChartModel } from '../../src/renderer/chart/chartModel.js';
import type { BarPoint, TdMark } from '../../src/shared/snapshot.js';

const M15 = 15 * 60;
const T0 = Date.UTC(2026, 0, 5, 9, 0) / 1000;

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

const range = (from: number, to: number): BarPoint[] => Array.from({ length: to - from }, (_, k) => bar(from + k));
const mark = (i: number, kind: 9 | 13 = 9): TdMark => ({ time: T0 + i * M15, side: 'buy', kind, price: 1 });

describe('ChartModel.prepend (history on demand)', () => {
  it('puts older bars in front, in order, and counts them for the range shift', () => {
    const m = new ChartModel();
    m.reset(range(500, 600), bar(600), [mark(550)]);
    const added = m.prepend(range(0, 500).reverse(), [mark(10), mark(20, 13)]);
    expect(added).toBe(500);
    expect(m.barCount).toBe(601);
    expect(m.firstTime).toBe(T0);
    expect(m.closedBars.map((b) => b.time)).toEqual(range(0, 600).map((b) => b.time));
    expect(m.visibleMarks().map((x) => x.time)).toEqual([T0 + 10 * M15, T0 + 20 * M15, T0 + 550 * M15]);
    expect(m.pointAt(T0 + 42 * M15)?.bar.close).toBe(142);
  });

  it('drops what overlaps the bars held and duplicates within the answer', () => {
    const m = new ChartModel();
    m.reset(range(100, 200), null, []);
    const answer = [...range(50, 120), bar(60), bar(70)];
    expect(m.prepend(answer, [])).toBe(50);
    expect(m.closedBars.map((b) => b.time)).toEqual(range(50, 200).map((b) => b.time));
    // The same page again (a second scroll before the first answer was drawn) adds nothing.
    expect(m.prepend(range(50, 100), [])).toBe(0);
    expect(m.barCount).toBe(150);
  });

  it('leaves live updates planning as before: the newest bars are untouched', () => {
    const m = new ChartModel();
    m.reset(range(10, 20), bar(20), []);
    m.prepend(range(0, 10), []);
    const plan = m.plan({ recent: [bar(19), bar(20)], forming: bar(21) });
    expect(plan).toEqual({ kind: 'apply', closed: [bar(20)], forming: bar(21) });
    if (plan.kind === 'apply') m.commit(plan);
    expect(m.barCount).toBe(22);
    expect(m.firstTime).toBe(T0);
  });

  it('an empty chart takes the answer as it is', () => {
    const m = new ChartModel();
    expect(m.prepend(range(0, 3), [])).toBe(3);
    expect(m.lastClosedTime).toBe(T0 + 2 * M15);
  });
});

describe('ChartModel.pointContaining (linked crosshair)', () => {
  it('finds the 15-minute bar for a 30-minute bar time and the forming bar for a time inside it', () => {
    const m = new ChartModel();
    m.reset(range(0, 8), bar(8), []);
    expect(m.pointContaining(T0 + 2 * M15, 15)?.bar.time).toBe(T0 + 2 * M15);
    expect(m.pointContaining(T0 + 8 * M15 + 7 * 60, 15)).toEqual({ bar: bar(8), forming: true });
    expect(m.pointContaining(T0 - 60, 15)).toBeNull();
    expect(m.pointContaining(T0 + 9 * M15, 15)).toBeNull();
  });
});
