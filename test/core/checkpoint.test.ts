import { describe, expect, it } from 'vitest';
import { AnalysisPipeline, type PipelineState } from '../../src/core/analysisPipeline.js';
import { SignalEngine, type SignalEngineState, type WindowAnalysis } from '../../src/core/signalEngine.js';
import { WindowBarSynthesizer } from '../../src/core/windowBars.js';
import type { OhlcvBar } from '../../src/shared/bar.js';
import { prng, randomMinuteBars } from './fixtures.js';

const WINDOWS = [1, 5, 15, 30, 60];

/** JSON only: what a checkpoint file can carry. Fails on Infinity/NaN, which JSON turns into null. */
function throughJson<T>(state: T): T {
  const text = JSON.stringify(state);
  expect(text).not.toMatch(/Infinity|NaN/);
  return JSON.parse(text) as T;
}

function assertNoNonFinite(value: unknown, path = 'state'): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${path} is ${value}`);
  } else if (Array.isArray(value)) value.forEach((v, i) => assertNoNonFinite(v, `${path}[${i}]`));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) assertNoNonFinite(v, `${path}.${k}`);
}

describe('AnalysisPipeline checkpoint/resume', () => {
  const cases = Array.from({ length: 50 }, (_, i) => {
    const rnd = prng(1000 + i);
    const total = 1500 + Math.floor(rnd() * 4000);
    return {
      seed: 1000 + i,
      total,
      split: Math.floor(rnd() * total),
      windowMinutes: WINDOWS[Math.floor(rnd() * WINDOWS.length)] ?? 15,
      params: rnd() < 0.5 ? {} : { lookback: 5 + Math.floor(rnd() * 20), compare: 5 + Math.floor(rnd() * 50), recent: 1 + Math.floor(rnd() * 6) },
    };
  });

  it.each(cases)('seed $seed: $total minutes, N = $windowMinutes, split at $split', ({ seed, total, split, windowMinutes, params }) => {
    const minutes = randomMinuteBars(seed, total);
    const straight: WindowAnalysis[] = [];
    const p1 = new AnalysisPipeline({ windowMinutes, params, onWindow: (a) => straight.push(a) });
    for (const m of minutes) p1.pushMinute(m);

    const resumed: WindowAnalysis[] = [];
    const first = new AnalysisPipeline({ windowMinutes, params, onWindow: (a) => resumed.push(a) });
    for (const m of minutes.slice(0, split)) first.pushMinute(m);
    const state = first.toState();
    assertNoNonFinite(state);
    const second = AnalysisPipeline.fromState(throughJson<PipelineState>(state), { onWindow: (a) => resumed.push(a) });
    expect(second.windowBarCount).toBe(first.windowBarCount);
    expect(second.minuteBarCount).toBe(first.minuteBarCount);
    expect(second.lastMinuteTime).toBe(first.lastMinuteTime);
    expect(second.formingAnalysis()).toEqual(first.formingAnalysis());
    for (const m of minutes.slice(split)) second.pushMinuteValues(m.time, m.open, m.high, m.low, m.close, m.volume, m.turnover, m.openInterest);

    expect(resumed).toEqual(straight);
    expect(second.signalState()).toEqual(p1.signalState());
    expect(second.forming()).toEqual(p1.forming());
    expect(second.formingAnalysis()).toEqual(p1.formingAnalysis());
    expect(second.windowBarCount).toBe(p1.windowBarCount);
    expect(second.minuteBarCount).toBe(p1.minuteBarCount);
    expect(second.ignoredMinuteCount).toBe(p1.ignoredMinuteCount);
    expect(second.toState()).toEqual(p1.toState());
  });

  it('rejects other params than the checkpoint\'s, and a broken state with a message naming the field', () => {
    const p = new AnalysisPipeline({ windowMinutes: 15 });
    for (const m of randomMinuteBars(1, 200)) p.pushMinute(m);
    const state = throughJson(p.toState());
    expect(() => AnalysisPipeline.fromState(state, { params: { lookback: 10 } })).toThrow(/other signal parameters/);
    expect(() => AnalysisPipeline.fromState(state, { params: { lookback: 20 } })).not.toThrow();
    const broken = throughJson(p.toState());
    (broken.engine.macd.fast as { value: unknown }).value = null;
    (broken.engine.bottomDullness.closes as { value: unknown }).value = [1, null];
    expect(() => AnalysisPipeline.fromState(broken)).toThrow(/rolling extreme state value\[1\]/);
    expect(() => AnalysisPipeline.fromState({ ...state, version: 2 } as unknown as PipelineState)).toThrow(/version 2/);
  });
});

describe('SignalEngine checkpoint/resume', () => {
  it.each(Array.from({ length: 50 }, (_, i) => 2000 + i))('seed %i', (seed) => {
    const rnd = prng(seed);
    const windows: OhlcvBar[] = [];
    const synth = new WindowBarSynthesizer(5, (b) => windows.push(b));
    for (const m of randomMinuteBars(seed, 3000 + Math.floor(rnd() * 3000))) synth.push(m);
    const split = Math.floor(rnd() * windows.length);
    const params = rnd() < 0.5 ? {} : { lookback: 3 + Math.floor(rnd() * 10), compare: 3 + Math.floor(rnd() * 20), recent: 1 + Math.floor(rnd() * 4) };

    const straightEngine = new SignalEngine(params);
    const straight = windows.map((w) => straightEngine.next(w));

    const a = new SignalEngine(params);
    const resumed = windows.slice(0, split).map((w) => a.next(w));
    const b = SignalEngine.fromState(throughJson<SignalEngineState>(a.toState()));
    expect(b.signalState()).toEqual(a.signalState());
    expect(b.barCount).toBe(split);
    for (const w of windows.slice(split)) resumed.push(b.next(w));
    expect(resumed).toEqual(straight);
    expect(b.signalState()).toEqual(straightEngine.signalState());
    expect(b.toState()).toEqual(straightEngine.toState());
  });
});

describe('SignalEngine preview and fast path', () => {
  it('preview equals what next would return, and changes nothing', () => {
    const windows: OhlcvBar[] = [];
    const synth = new WindowBarSynthesizer(15, (b) => windows.push(b));
    for (const m of randomMinuteBars(77, 20_000)) synth.push(m);
    const engine = new SignalEngine();
    for (const w of windows) {
      const before = JSON.stringify(engine.toState());
      const stateBefore = engine.signalState();
      const preview = engine.preview(w);
      expect(JSON.stringify(engine.toState())).toBe(before);
      expect(engine.signalState()).toEqual(stateBefore);
      expect(engine.next(w)).toEqual(preview);
    }
  });

  it('update (no analysis object) reaches the same state as next', () => {
    const windows: OhlcvBar[] = [];
    const synth = new WindowBarSynthesizer(30, (b) => windows.push(b));
    for (const m of randomMinuteBars(5, 20_000)) synth.push(m);
    const viaNext = new SignalEngine();
    const viaUpdate = new SignalEngine();
    for (const w of windows) {
      viaNext.next(w);
      viaUpdate.update(w);
    }
    expect(viaUpdate.toState()).toEqual(viaNext.toState());
    // And a pipeline without onWindow (the fast path) ends in the same state as one with it.
    const withCallback = new AnalysisPipeline({ windowMinutes: 30, onWindow: () => {} });
    const without = new AnalysisPipeline({ windowMinutes: 30 });
    for (const m of randomMinuteBars(5, 20_000)) {
      withCallback.pushMinute(m);
      without.pushMinute(m);
    }
    expect(without.toState()).toEqual(withCallback.toState());
  });

  it('formingAnalysis equals the analysis the window gets when a later bar closes it unchanged', () => {
    const closed: WindowAnalysis[] = [];
    const p = new AnalysisPipeline({ windowMinutes: 15, onWindow: (a) => closed.push(a) });
    const minutes = randomMinuteBars(9, 3000);
    for (const m of minutes) p.pushMinute(m);
    // Reopen a window that is surely missing its last minute: the next minute after the data.
    const last = minutes[minutes.length - 1] as OhlcvBar;
    const start = last.time - (last.time % 900) + 900;
    for (let k = 0; k < 14; k++) p.pushMinute({ ...last, time: start + k * 60, close: last.close + k });
    const preview = p.formingAnalysis();
    const count = closed.length;
    expect(preview?.bar.time).toBe(start);
    expect(preview?.bar.close).toBe(last.close + 13);
    p.pushMinute({ ...last, time: start + 3600 });
    expect(closed.length).toBe(count + 1);
    expect(closed[count]).toEqual(preview);
  });

  it('signalState reports since as the window bar time where each state began', () => {
    const analyses: WindowAnalysis[] = [];
    const p = new AnalysisPipeline({ windowMinutes: 15, onWindow: (a) => analyses.push(a) });
    for (const m of randomMinuteBars(11, 40_000)) p.pushMinute(m);
    const s = p.signalState();
    const last = analyses[analyses.length - 1];
    expect(s.bottomDullness.state).toBe(last?.bottomDullness);
    expect(s.tdSetup).toEqual(last?.tdSetup);
    // since = the time of the first bar of the current run of equal states.
    const runStart = (pick: (a: WindowAnalysis) => unknown): number | null => {
      let i = analyses.length - 1;
      const v = pick(analyses[i] as WindowAnalysis);
      while (i > 0 && pick(analyses[i - 1] as WindowAnalysis) === v) i--;
      return i === 0 ? null : (analyses[i]?.bar.time ?? null);
    };
    expect(s.bottomDullness.since).toBe(runStart((a) => a.bottomDullness));
    expect(s.topDullness.since).toBe(runStart((a) => a.topDullness));
    expect(s.bottomDivergence.since).toBe(runStart((a) => a.bottomDivergence));
    expect(s.topDivergence.since).toBe(runStart((a) => a.topDivergence));
  });
});
