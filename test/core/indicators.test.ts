import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Ema } from '../../src/core/indicators/ema.js';
import { emaStateOf } from '../../src/core/indicators/emaState.js';
import { Macd } from '../../src/core/indicators/macd.js';
import { HAS_SHARED_DATA, loadBacktrader, loadFreqtrade, prng } from './fixtures.js';

describe('Ema (pandas ewm(span=N, adjust=False))', () => {
  it('matches values worked out by hand', () => {
    // span 3 → a = 2/4 = 0.5: 10; 0.5*12 + 0.5*10 = 11; 0.5*11 + 0.5*11 = 11; 0.5*15 + 0.5*11 = 13
    const e3 = new Ema(3);
    expect([10, 12, 11, 15].map((x) => e3.update(x))).toEqual([10, 11, 11, 13]);
    // span 4 → a = 0.4: 10; 0.4*20 + 0.6*10 = 14; 0.4*10 + 0.6*14 = 12.4; 0.4*(-3) + 0.6*12.4 = 6.24
    const e4 = new Ema(4);
    const got = [10, 20, 10, -3].map((x) => e4.update(x));
    [10, 14, 12.4, 6.24].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 12));
  });

  it('equals the closed form sum of weights on a longer series', () => {
    // Independent of the recurrence: ema_t = (1-a)^t x_0 + sum_{k=0}^{t-1} a (1-a)^k x_{t-k}
    const rnd = prng(7);
    const xs = Array.from({ length: 200 }, () => 100 + rnd() * 10);
    for (const span of [5, 12, 26]) {
      const a = 2 / (span + 1);
      const ema = new Ema(span);
      xs.forEach((x, t) => {
        const got = ema.update(x);
        let expected = (1 - a) ** t * (xs[0] ?? 0);
        for (let k = 0; k < t; k++) expected += a * (1 - a) ** k * (xs[t - k] ?? 0);
        expect(Math.abs(got - expected)).toBeLessThan(1e-9);
      });
    }
  });

  it('peek does not move the EMA, and the state round-trips', () => {
    const ema = new Ema(5);
    ema.update(1);
    ema.update(2);
    const peeked = ema.peek(10);
    const restored = Ema.fromState(JSON.parse(JSON.stringify(ema.toState())));
    expect(ema.update(10)).toBe(peeked);
    expect(restored.update(10)).toBe(peeked);
    expect(new Ema(5).toState()).toEqual({ period: 5, value: null });
  });
});

describe('Macd', () => {
  it('seeds with the first close: dif = dea = macd = 0, then follows the definition', () => {
    const macd = new Macd(2, 3, 2);
    macd.update(10);
    expect([macd.dif, macd.dea, macd.macd]).toEqual([0, 0, 0]);
    // fast a = 2/3: 2/3*13 + 1/3*10 = 12; slow a = 1/2: 11.5; dif = 0.5;
    // dea a = 2/3: 2/3*0.5 + 1/3*0 = 1/3; macd = 2*(0.5 - 1/3) = 1/3
    macd.update(13);
    expect(macd.dif).toBeCloseTo(0.5, 12);
    expect(macd.dea).toBeCloseTo(1 / 3, 12);
    expect(macd.macd).toBeCloseTo(1 / 3, 12);
  });
});

describe('emaStateOf', () => {
  it('bull, bear and the neutral equalities', () => {
    expect(emaStateOf(11, 10, 9)).toBe('bull');
    expect(emaStateOf(8, 9, 10)).toBe('bear');
    expect(emaStateOf(10, 10, 9)).toBe('neutral');
    expect(emaStateOf(11, 9, 9)).toBe('neutral');
    expect(emaStateOf(9.5, 10, 9)).toBe('neutral');
  });
});

interface TalibResult {
  begIndex: number;
  nbElement: number;
  result: { outMACD: number[]; outMACDSignal: number[]; outMACDHist: number[] };
}
interface Talib {
  version: string;
  execute(args: Record<string, unknown>): TalibResult;
}

function loadTalib(): { talib: Talib | null; reason: string } {
  try {
    const require = createRequire(import.meta.url);
    return { talib: require('talib') as Talib, reason: '' };
  } catch (err) {
    return { talib: null, reason: `skipped: the talib native module did not load (${String(err)})` };
  }
}
const { talib, reason: talibReason } = loadTalib();

function closesForTalib(): { name: string; closes: number[] }[] {
  if (HAS_SHARED_DATA) {
    return [
      { name: 'backtrader index future 1m', closes: loadBacktrader().slice(0, 5000).map((b) => b.close) },
      { name: 'freqtrade BTC pair 1m', closes: loadFreqtrade().slice(0, 5000).map((b) => b.close) },
    ];
  }
  const rnd = prng(42);
  let p = 3500;
  return [{ name: 'generated random walk', closes: Array.from({ length: 4000 }, () => (p += (rnd() - 0.5) * 8)) }];
}

describe.skipIf(talib === null)(`Macd vs TA-Lib ${talibReason}`, () => {
  it.each(closesForTalib())('dif/dea agree to 1e-9 after 600 bars and macd = 2 x histogram: $name', ({ closes }) => {
    if (talib === null) throw new Error(talibReason);
    const n = closes.length;
    const r = talib.execute({
      name: 'MACD',
      startIdx: 0,
      endIdx: n - 1,
      inReal: closes,
      optInFastPeriod: 12,
      optInSlowPeriod: 26,
      optInSignalPeriod: 9,
    });
    // TA-Lib's first output is at input index slow-1 + signal-1 = 33; outX[j] belongs to input begIndex + j.
    expect(r.begIndex).toBe(33);
    expect(r.nbElement).toBe(n - 33);
    const macd = new Macd(12, 26, 9);
    let compared = 0;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      macd.update(closes[i] ?? 0);
      if (i < 600) continue;
      const j = i - r.begIndex;
      const dif = r.result.outMACD[j] ?? Number.NaN;
      const dea = r.result.outMACDSignal[j] ?? Number.NaN;
      const hist = r.result.outMACDHist[j] ?? Number.NaN;
      // Scaled to the price level: the freqtrade closes are ~0.0016, the backtrader ones ~3600.
      const scale = Math.max(1, Math.abs(closes[i] ?? 1));
      worst = Math.max(worst, Math.abs(macd.dif - dif) / scale, Math.abs(macd.dea - dea) / scale);
      expect(Math.abs(macd.dif - dif)).toBeLessThan(1e-9);
      expect(Math.abs(macd.dea - dea)).toBeLessThan(1e-9);
      expect(Math.abs(macd.macd - 2 * hist)).toBeLessThan(1e-9);
      compared++;
    }
    expect(compared).toBe(n - 600);
    expect(worst).toBeLessThan(1e-9);
  });

  it('differs from TA-Lib in the warm-up, as DOMAIN.md says (SMA seed vs first-value seed)', () => {
    if (talib === null) throw new Error(talibReason);
    const closes = closesForTalib()[0]?.closes ?? [];
    const r = talib.execute({ name: 'MACD', startIdx: 0, endIdx: closes.length - 1, inReal: closes, optInFastPeriod: 12, optInSlowPeriod: 26, optInSignalPeriod: 9 });
    const macd = new Macd();
    for (let i = 0; i <= 33; i++) macd.update(closes[i] ?? 0);
    const talibDif = r.result.outMACD[0] ?? 0;
    expect(Math.abs(macd.dif - talibDif)).toBeGreaterThan(1e-9 * Math.max(1, Math.abs(closes[33] ?? 1)));
  });
});
