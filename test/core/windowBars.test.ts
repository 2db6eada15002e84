import { describe, expect, it } from 'vitest';
import { WindowBarSynthesizer } from '../../src/core/windowBars.js';
import type { OhlcvBar } from '../../src/shared/bar.js';
import { HAS_SHARED_DATA, NO_DATA_REASON, at, bar, loadBacktrader, loadFreqtrade } from './fixtures.js';

/**
 * The straightforward reference: group the minutes by (day, floor(minuteOfDay / N)) and fold
 * each group, in time order. No emission rules at all, only the content of a window bar.
 */
function referenceWindows(minutes: OhlcvBar[], n: number): OhlcvBar[] {
  const groups = new Map<number, OhlcvBar[]>();
  let last = -Infinity;
  for (const m of minutes) {
    if (m.time <= last) continue;
    last = m.time;
    const day = Math.floor(m.time / 86_400);
    const minuteOfDay = Math.floor((m.time - day * 86_400) / 60);
    const key = day * 86_400 + Math.floor(minuteOfDay / n) * n * 60;
    const g = groups.get(key);
    if (g) g.push(m);
    else groups.set(key, [m]);
  }
  return [...groups.entries()].map(([time, g]) => {
    const first = g[0] as OhlcvBar;
    const lastBar = g[g.length - 1] as OhlcvBar;
    return {
      time,
      open: first.open,
      high: Math.max(...g.map((b) => b.high)),
      low: Math.min(...g.map((b) => b.low)),
      close: lastBar.close,
      volume: g.reduce((s, b) => s + b.volume, 0),
      turnover: g.reduce((s, b) => s + b.turnover, 0),
      openInterest: lastBar.openInterest,
    };
  });
}

function synthesize(minutes: OhlcvBar[], n: number): { emitted: OhlcvBar[]; forming: OhlcvBar | null } {
  const emitted: OhlcvBar[] = [];
  const s = new WindowBarSynthesizer(n, (b) => emitted.push(b));
  for (const m of minutes) s.push(m);
  return { emitted, forming: s.forming() };
}

function expectSameBars(got: OhlcvBar[], want: OhlcvBar[]): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as OhlcvBar;
    const w = want[i] as OhlcvBar;
    expect({ time: g.time, open: g.open, high: g.high, low: g.low, close: g.close, openInterest: g.openInterest }).toEqual({
      time: w.time, open: w.open, high: w.high, low: w.low, close: w.close, openInterest: w.openInterest,
    });
    // Sums in a different order may differ in the last bit.
    expect(g.volume).toBeCloseTo(w.volume, 6);
    expect(Math.abs(g.turnover - w.turnover)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(w.turnover)));
  }
}

describe.skipIf(!HAS_SHARED_DATA)(`window bars on the real data files ${HAS_SHARED_DATA ? '' : NO_DATA_REASON}`, () => {
  const files = HAS_SHARED_DATA
    ? [
        { name: 'backtrader index future', minutes: loadBacktrader() },
        { name: 'freqtrade BTC pair', minutes: loadFreqtrade() },
      ]
    : [];
  const cases = files.flatMap((f) => [5, 15, 30, 60].map((n) => ({ ...f, n })));

  it('the files are what the README says', () => {
    expect(files[0]?.minutes.length).toBe(30_889);
    expect(files[1]?.minutes.length).toBe(13_681);
  });

  it.each(cases)('$name, N = $n: equal to the group-by reference', ({ minutes, n }) => {
    const want = referenceWindows(minutes, n);
    const { emitted, forming } = synthesize(minutes, n);
    const all = forming ? [...emitted, forming] : emitted;
    expectSameBars(all, want);
    // Only the very last window may still be open when the data ends.
    expect(emitted.length).toBeGreaterThanOrEqual(want.length - 1);
    // Every window bar is at its window's clock-aligned start.
    for (const b of all) expect(Math.floor(b.time / 60) % n).toBe(0);
  });

  it.each(cases)('$name, N = $n: each window is emitted by the first minute at or after its last minute', ({ minutes, n }) => {
    const triggers: { window: number; trigger: number }[] = [];
    let pushing = 0;
    const s = new WindowBarSynthesizer(n, (b) => triggers.push({ window: b.time, trigger: pushing }));
    for (const m of minutes) {
      pushing = m.time;
      s.push(m);
    }
    const times = minutes.map((m) => m.time);
    let gapsClosed = 0;
    let j = 0;
    for (const { window, trigger } of triggers) {
      const lastMinute = window + (n - 1) * 60;
      while ((times[j] ?? Infinity) < lastMinute) j++;
      expect(trigger).toBe(times[j]);
      if (trigger > lastMinute) gapsClosed++;
    }
    // Both files have holes, so rule 2 (closed by a later window) must have been exercised.
    expect(gapsClosed).toBeGreaterThan(0);
  });
});

describe('window bar edge cases (hand-worked)', () => {
  it('N = 15: a bar on the last minute closes the window with that bar included', () => {
    const out: OhlcvBar[] = [];
    const s = new WindowBarSynthesizer(15, (b) => out.push(b));
    s.push(bar(at('2024-01-02 09:00'), 100, { open: 99, high: 101, low: 98, volume: 2, turnover: 200, openInterest: 5 }));
    s.push(bar(at('2024-01-02 09:07'), 103, { open: 102, high: 104, low: 97, volume: 3, turnover: 300, openInterest: 6 }));
    expect(out).toHaveLength(0);
    s.push(bar(at('2024-01-02 09:14'), 102, { open: 103, high: 103, low: 101, volume: 4, turnover: 400, openInterest: 7 }));
    expect(out).toEqual([
      { time: at('2024-01-02 09:00'), open: 99, high: 104, low: 97, close: 102, volume: 9, turnover: 900, openInterest: 7 },
    ]);
    expect(s.forming()).toBeNull();
  });

  it('N = 15: a gap at the last minute is emitted on the next window\'s first bar', () => {
    const out: OhlcvBar[] = [];
    const s = new WindowBarSynthesizer(15, (b) => out.push(b));
    s.push(bar(at('2024-01-02 09:12'), 100));
    s.push(bar(at('2024-01-02 09:13'), 101));
    expect(out).toHaveLength(0);
    // 09:14 is missing; 09:15 starts the next window and closes the open one first.
    s.push(bar(at('2024-01-02 09:15'), 105));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ time: at('2024-01-02 09:00'), open: 100, close: 101, high: 101.5, low: 99.5, volume: 2 });
    expect(s.forming()).toMatchObject({ time: at('2024-01-02 09:15'), open: 105, close: 105, volume: 1 });
  });

  it('N = 30: 10:00–10:14 before the 10:15 break is its own bar; 10:30 starts the next', () => {
    const out: OhlcvBar[] = [];
    const s = new WindowBarSynthesizer(30, (b) => out.push(b));
    for (let m = 0; m <= 14; m++) s.push(bar(at(`2024-01-02 10:${String(m).padStart(2, '0')}`), 200 + m));
    expect(out).toHaveLength(0);
    s.push(bar(at('2024-01-02 10:30'), 300));
    expect(out).toEqual([
      { time: at('2024-01-02 10:00'), open: 200, high: 214.5, low: 199.5, close: 214, volume: 15, turnover: 3105, openInterest: 0 },
    ]);
    expect(s.forming()?.time).toBe(at('2024-01-02 10:30'));
    for (let m = 31; m <= 59; m++) s.push(bar(at(`2024-01-02 10:${String(m)}`), 300));
    expect(out.map((b) => b.time)).toEqual([at('2024-01-02 10:00'), at('2024-01-02 10:30')]);
    expect(out[1]?.volume).toBe(30);
  });

  it('a bar of a later window that is itself that window\'s last minute emits two bars', () => {
    const out: OhlcvBar[] = [];
    const s = new WindowBarSynthesizer(5, (b) => out.push(b));
    s.push(bar(at('2024-01-02 09:01'), 10));
    s.push(bar(at('2024-01-02 09:09'), 20));
    expect(out.map((b) => [b.time, b.close])).toEqual([
      [at('2024-01-02 09:00'), 10],
      [at('2024-01-02 09:05'), 20],
    ]);
    expect(s.forming()).toBeNull();
  });

  it('never merges across days: 23:59 of one day and 00:00 of the next are different windows (N = 60)', () => {
    const out: OhlcvBar[] = [];
    const s = new WindowBarSynthesizer(60, (b) => out.push(b));
    s.push(bar(at('2024-01-02 22:58'), 1));
    s.push(bar(at('2024-01-03 00:00'), 2));
    expect(out.map((b) => b.time)).toEqual([at('2024-01-02 22:00')]);
    expect(s.forming()?.time).toBe(at('2024-01-03 00:00'));
  });

  it('a duplicate or out-of-order minute is ignored (the first copy wins)', () => {
    const out: OhlcvBar[] = [];
    const s = new WindowBarSynthesizer(5, (b) => out.push(b));
    expect(s.push(bar(at('2024-01-02 09:00'), 10))).toBe(true);
    expect(s.push(bar(at('2024-01-02 09:01'), 11))).toBe(true);
    expect(s.push(bar(at('2024-01-02 09:01'), 99, { volume: 50 }))).toBe(false);
    expect(s.push(bar(at('2024-01-02 09:00'), 98))).toBe(false);
    expect(s.ignoredMinuteCount).toBe(2);
    expect(s.lastMinuteTime).toBe(at('2024-01-02 09:01'));
    expect(s.forming()).toMatchObject({ close: 11, high: 11.5, volume: 2 });
    s.push(bar(at('2024-01-02 09:04'), 12));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ open: 10, close: 12, high: 12.5, low: 9.5, volume: 3 });
    // A late copy of the minute just closed does not reopen its window.
    expect(s.push(bar(at('2024-01-02 09:04'), 50))).toBe(false);
    expect(s.forming()).toBeNull();
  });

  it('N = 1 emits every minute as it is', () => {
    const out: OhlcvBar[] = [];
    const s = new WindowBarSynthesizer(1, (b) => out.push(b));
    const b1 = bar(at('2024-01-02 09:00'), 10);
    s.push(b1);
    expect(out).toEqual([b1]);
  });

  it('rejects a window that does not divide 60', () => {
    expect(() => new WindowBarSynthesizer(7, () => {})).toThrow(/dividing 60/);
    expect(() => new WindowBarSynthesizer(0, () => {})).toThrow();
    expect(() => new WindowBarSynthesizer(90, () => {})).toThrow();
  });

  it('forming() is a copy; state round-trips through JSON mid-window', () => {
    const out: OhlcvBar[] = [];
    const s = new WindowBarSynthesizer(15, (b) => out.push(b));
    s.push(bar(at('2024-01-02 09:00'), 10));
    const f = s.forming();
    if (f) f.close = 999;
    expect(s.forming()?.close).toBe(10);
    const state = JSON.parse(JSON.stringify(s.toState()));
    const r = WindowBarSynthesizer.fromState(state, (b) => out.push(b));
    expect(r.push(bar(at('2024-01-02 09:00'), 50))).toBe(false);
    r.push(bar(at('2024-01-02 09:14'), 11));
    expect(out).toEqual([{ time: at('2024-01-02 09:00'), open: 10, high: 11.5, low: 9.5, close: 11, volume: 2, turnover: 21, openInterest: 0 }]);
  });
});
