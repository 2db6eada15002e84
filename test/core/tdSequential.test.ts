import { describe, expect, it } from 'vitest';
import { SignalEngine, type WindowAnalysis } from '../../src/core/signalEngine.js';
import { TdSequential } from '../../src/core/signals/tdSequential.js';
import { bar } from './fixtures.js';

/**
 * Every fixture uses low = close - 0.5 and high = close + 0.5 (fixtures.bar), window bars
 * 15 minutes apart. Bar k's time is T0 + k * 900.
 */
const T0 = Date.UTC(2024, 0, 2, 9, 0) / 1000;
function run(closes: number[]): WindowAnalysis[] {
  const engine = new SignalEngine();
  return closes.map((c, k) => engine.next(bar(T0 + k * 900, c)));
}
const setupOf = (a: WindowAnalysis[]) => a.map((x) => (x.tdSetup.side === null ? 0 : x.tdSetup.side === 'buy' ? x.tdSetup.count : -x.tdSetup.count));
const countdownOf = (a: WindowAnalysis[]) => a.map((x) => (x.tdCountdown.side === null ? 0 : x.tdCountdown.side === 'buy' ? x.tdCountdown.count : -x.tdCountdown.count));

// Bars 0-3: 120, 121, 122, 123; from bar 4 on the close falls by 1 a bar: close_k = 123 - k.
const decline = (length: number) => Array.from({ length }, (_, k) => (k < 4 ? 120 + k : 123 - k));

describe('TD setup', () => {
  it('counts to 9 (mark under the low) and restarts from 0, so a longer decline completes another 9', () => {
    // Bar 4: 119 < 120 (bar 0) → 1; bar 5: 118 < 121 → 2; … every bar from 4 on is below the
    // close four bars back, so bars 4..12 count 1..9, bars 13..21 count 1..9 again, 22..25 count 1..4.
    const a = run(decline(26));
    expect(setupOf(a)).toEqual([0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4]);
    // Bar 12: close 111, low 110.5; bar 21: close 102, low 101.5.
    expect(a[12]?.marks).toEqual([{ time: T0 + 12 * 900, side: 'buy', kind: 9, price: 110.5 }]);
    expect(a[21]?.marks).toContainEqual({ time: T0 + 21 * 900, side: 'buy', kind: 9, price: 101.5 });
    expect(a.filter((x) => x.marks.some((m) => m.kind === 9)).map((x) => x.bar.time)).toEqual([T0 + 12 * 900, T0 + 21 * 900]);
  });

  it('the first 4 bars count nothing even when falling: bar 4 is the first that has a bar four back', () => {
    const a = run([30, 29, 28, 27, 26, 25]);
    expect(setupOf(a)).toEqual([0, 0, 0, 0, 1, 2]);
  });

  it('a setup interrupted at 8 returns to 0 and leaves no mark', () => {
    // Bars 4..11 count 1..8 (119 … 112). Bar 12 closes 116, above bar 8's 115: the buy count
    // resets and a sell count starts (116 > 115). Bar 13 closes 110 < bar 9's 114: buy 1 again.
    const closes = [...decline(12), 116, 110];
    const a = run(closes);
    expect(setupOf(a)).toEqual([0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, -1, 1]);
    expect(a.flatMap((x) => x.marks)).toEqual([]);
    expect(countdownOf(a).every((c) => c === 0)).toBe(true);
  });

  it('an equal close resets both counts', () => {
    const a = run([10, 11, 12, 13, 9, 11]);
    // Bar 4: 9 < 10 → buy 1; bar 5: 11 = 11 (bar 1) → neither.
    expect(setupOf(a)).toEqual([0, 0, 0, 0, 1, 0]);
  });
});

describe('TD countdown', () => {
  it('starts on the completing bar, is kept (not restarted) by a second buy setup, and completes at 13', () => {
    // From bar 12 on, close_k = 123 - k and the low two bars back is 125 - k - 0.5 = 124.5 - k,
    // so every bar has C <= L[t-2]: bar 12 counts 1 … bar 24 counts 13 (mark under its low 98.5).
    // Bar 21's second setup 9 keeps the running count (10 on bar 21, not a restart at 1).
    const a = run(decline(26));
    expect(countdownOf(a)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0]);
    expect(a[24]?.marks).toEqual([{ time: T0 + 24 * 900, side: 'buy', kind: 13, price: 98.5 }]);
  });

  it('a bar that does not close at or below the low two bars back does not count', () => {
    // Bars 0..12 as the decline (countdown 1 on bar 12, close 111, low 110.5).
    // Bar 13 closes 112: L[11] = 111.5, 112 > 111.5 → stays 1. Bar 14 closes 110: L[12] = 110.5 → 2.
    // Bar 15 closes 111.5: L[13] = 111.5, equal counts → 3.
    const a = run([...decline(13), 112, 110, 111.5]);
    expect(countdownOf(a).slice(12)).toEqual([1, 1, 2, 3]);
  });

  it('is cancelled by a completed sell setup, which starts a sell countdown', () => {
    // Bars 0..12 as the decline (buy setup 9 and buy countdown 1 on bar 12, close 111).
    // Then close_k = 99 + k: bar 13 = 112 (< bar 9's 114: buy 1), bar 14 = 113 (= bar 10: 0),
    // bars 15..23 = 114..122 each above four back (112, 111, 112, …) → sell 1..9 on bar 23.
    // The buy countdown never counts again (112 > L[11] = 111.5, …) and stays at 1 until bar 23,
    // where the sell setup cancels it; the sell countdown counts bar 23 itself: 122 >= H[21] = 120.5.
    const closes = [...decline(13), ...Array.from({ length: 11 }, (_, j) => 112 + j)];
    const a = run(closes);
    expect(setupOf(a).slice(12)).toEqual([9, 1, 0, -1, -2, -3, -4, -5, -6, -7, -8, -9]);
    expect(countdownOf(a).slice(12)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1]);
    expect(a[23]?.marks).toEqual([{ time: T0 + 23 * 900, side: 'sell', kind: 9, price: 122.5 }]);
  });

  it('the counts reported after a completing bar are the ones reached on it, and the state round-trips', () => {
    const td = new TdSequential();
    const closes = decline(13);
    closes.forEach((c) => td.update(c, c + 0.5, c - 0.5));
    expect(td.setup()).toEqual({ side: 'buy', count: 9 });
    expect(td.countdown()).toEqual({ side: 'buy', count: 1 });
    const restored = TdSequential.fromState(JSON.parse(JSON.stringify(td.toState())));
    expect(restored.setup()).toEqual({ side: 'buy', count: 9 });
    td.update(110, 110.5, 109.5);
    restored.update(110, 110.5, 109.5);
    expect(restored.toState()).toEqual(td.toState());
    expect(td.setup()).toEqual({ side: 'buy', count: 1 });
  });
});
