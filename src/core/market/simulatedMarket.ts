/**
 * The simulated market: Kestrel's built-in demo and paper-trading source. Pure and seeded:
 * the same seed and start time give the same bars, and a run resumed from toState() gives
 * exactly the bars the uninterrupted run would have given. Data from it is marked by the
 * exchange 'SIM'.
 *
 * Price model, per instrument, in log price x (one step per open minute):
 *   x' = x + drift(trend) − κ·(x − anchor) + σ(regime)·ε + gap
 *   - volatility regimes calm / normal / volatile, each lasting a random number of minutes;
 *   - occasional trends: a drift for one to six trading hours, more often towards the anchor
 *     than away from it, so the market swings rather than wanders off;
 *   - mean reversion to the start price, weak within a day (half-life ≈ 90 trading days) and
 *     stronger beyond ±20 %, so prices stay plausible over months;
 *   - ε mixes one shock common to all instruments (correlated products, as rebar and iron
 *     ore are) with an instrument's own;
 *   - a session's first minute gaps away from the previous close, more after a night or a
 *     weekend than after a short break.
 * These ingredients are what makes MACD divergence, dullness and TD 9/13 marks appear on
 * 15- and 30-minute bars within a few trading days of data.
 */
import type { StoredBar } from '../../shared/bar.js';
import { SECONDS_PER_MINUTE } from '../../shared/time.js';
import { Prng } from './prng.js';
import { TradingCalendar } from './tradingCalendar.js';

export interface SimulatedInstrument {
  symbol: string;
  exchange: string;
  startPrice: number;
  priceTick: number;
  /** Typical volume of a quiet minute, in lots. */
  baseVolume: number;
  /** Units per lot for turnover; default 10. */
  contractMultiplier?: number;
  /** Standard deviation of a normal-regime one-minute log return; default 0.0008 (≈1.5 % a day). */
  minuteVolatility?: number;
}

/** The demo's products; the exchange 'SIM' marks simulated data everywhere. */
export const DEMO_INSTRUMENTS: readonly SimulatedInstrument[] = [
  { symbol: 'rb9999', exchange: 'SIM', startPrice: 3600, priceTick: 1, baseVolume: 1500, contractMultiplier: 10 },
  {
    symbol: 'i9999',
    exchange: 'SIM',
    startPrice: 780,
    priceTick: 0.5,
    baseVolume: 800,
    contractMultiplier: 100,
    minuteVolatility: 0.001,
  },
  { symbol: 'm9999', exchange: 'SIM', startPrice: 3100, priceTick: 1, baseVolume: 1100, contractMultiplier: 10 },
];

/**
 * The 24/7 crypto demo's pairs, quoted in USDT; the exchange 'SIMC' marks them simulated (and
 * trading around the clock: see continuousCalendar.ts). A lot is 0.0001 BTC, 0.001 ETH, 0.1 SOL.
 */
export const CRYPTO_DEMO_INSTRUMENTS: readonly SimulatedInstrument[] = [
  { symbol: 'BTCUSDT', exchange: 'SIMC', startPrice: 60_000, priceTick: 0.1, baseVolume: 4_000, contractMultiplier: 0.0001 },
  { symbol: 'ETHUSDT', exchange: 'SIMC', startPrice: 3_000, priceTick: 0.01, baseVolume: 5_000, contractMultiplier: 0.001, minuteVolatility: 0.001 },
  { symbol: 'SOLUSDT', exchange: 'SIMC', startPrice: 150, priceTick: 0.001, baseVolume: 3_000, contractMultiplier: 0.1, minuteVolatility: 0.0012 },
];

export type VolatilityRegime = 'calm' | 'normal' | 'volatile';

export interface SimulatedInstrumentState {
  instrument: SimulatedInstrument;
  /** Unrounded log price after the last minute (the close before rounding to the tick). */
  logPrice: number;
  /** Last published close (rounded to the tick); null before the first bar. */
  lastClose: number | null;
  regime: VolatilityRegime;
  /** Open minutes the regime still lasts. */
  regimeRemaining: number;
  /** Log drift per minute of the current trend; 0 when there is none. */
  trendDrift: number;
  /** Open minutes the trend still lasts. */
  trendRemaining: number;
  openInterest: number;
}

/** Everything a resumed run needs; plain JSON. */
export interface SimulatedMarketState {
  version: 1;
  prng: number[];
  startTime: number;
  /** Time of the last bar produced; null before the first. */
  lastTime: number | null;
  instruments: SimulatedInstrumentState[];
}

export interface SimulatedMarketOptions {
  seed: number;
  instruments?: readonly SimulatedInstrument[];
  calendar?: TradingCalendar;
  /** Any time; the first bar is at the first open minute at or after it. */
  startTime: number;
}

const DEFAULT_MINUTE_VOLATILITY = 0.0008;
const DEFAULT_CONTRACT_MULTIPLIER = 10;

const REGIME_VOLATILITY: Record<VolatilityRegime, number> = { calm: 0.55, normal: 1, volatile: 2 };
/** Activity scales with volatility, less than proportionally. */
const REGIME_VOLUME: Record<VolatilityRegime, number> = { calm: 0.7, normal: 1, volatile: 1.6 };
/** Regime length in open minutes, [min, max). A trading day has 345 open minutes. */
const REGIME_DURATION: Record<VolatilityRegime, readonly [number, number]> = {
  calm: [120, 900],
  normal: [180, 1200],
  volatile: [30, 240],
};
/** Next regime: probability of the first alternative; the second takes the rest. */
const REGIME_NEXT: Record<VolatilityRegime, readonly [VolatilityRegime, number, VolatilityRegime]> = {
  calm: ['normal', 0.7, 'volatile'],
  normal: ['calm', 0.5, 'volatile'],
  volatile: ['normal', 0.7, 'calm'],
};

const TREND_START_PROBABILITY = 1 / 400;
const TREND_DURATION: readonly [number, number] = [60, 360];
/** Trend drift per minute as a multiple of the instrument's minute volatility. */
const TREND_STRENGTH: readonly [number, number] = [0.08, 0.25];

const MEAN_REVERSION = 2.2e-5;
const OUTER_BAND = 0.2;
const OUTER_REVERSION = 1e-3;
/** Share of a minute's shock common to all instruments (correlation ≈ its square). */
const COMMON_LOADING = 0.6;

const WICK_SCALE = 0.5;
/** A pause this long (a night, the 15:00–21:00 gap) gives the full open burst / close rise. */
const LONG_PAUSE_MINUTES = 360;
const VOLUME_NOISE = 0.35;
const OPEN_INTEREST_PER_BASE_VOLUME = 150;

export class SimulatedMarket {
  private readonly calendar: TradingCalendar;
  private prng: Prng;
  private readonly startTime: number;
  private lastTime: number | null;
  private readonly books: SimulatedInstrumentState[];
  /** Cache of the current session's volume-shape amplitudes; derived from the calendar, not state. */
  private shapeSession: { start: number; openBurst: number; closeRise: number } | null = null;

  constructor(opts: SimulatedMarketOptions) {
    const instruments = opts.instruments ?? DEMO_INSTRUMENTS;
    if (instruments.length === 0) throw new Error('a simulated market needs at least one instrument');
    for (const inst of instruments) validateInstrument(inst);
    if (!Number.isFinite(opts.startTime)) throw new Error(`startTime must be finite, got ${opts.startTime}`);
    this.calendar = opts.calendar ?? new TradingCalendar();
    this.prng = new Prng(opts.seed);
    this.startTime = opts.startTime;
    this.lastTime = null;
    this.books = instruments.map((inst) => {
      const regime: VolatilityRegime = 'normal';
      return {
        instrument: { ...inst },
        logPrice: Math.log(inst.startPrice),
        lastClose: null,
        regime,
        regimeRemaining: Math.floor(this.prng.uniform(...REGIME_DURATION[regime])),
        trendDrift: 0,
        trendRemaining: 0,
        openInterest: Math.round(inst.baseVolume * OPEN_INTEREST_PER_BASE_VOLUME),
      };
    });
  }

  private static restore(state: SimulatedMarketState, calendar: TradingCalendar): SimulatedMarket {
    const market = new SimulatedMarket({
      seed: 0,
      instruments: state.instruments.map((b) => b.instrument),
      calendar,
      startTime: state.startTime,
    });
    market.prng = Prng.from(state.prng);
    market.lastTime = state.lastTime;
    market.books.splice(0, market.books.length, ...state.instruments.map(copyBook));
    return market;
  }

  /** The time nextMinute() will produce. */
  peekNextTime(): number {
    return this.lastTime === null
      ? this.calendar.firstOpenMinuteAtOrAfter(this.startTime)
      : this.calendar.nextOpenMinute(this.lastTime);
  }

  /** Bars for the next open minute, one per instrument, all with the same time; closed hours are skipped. */
  nextMinute(): StoredBar[] {
    const time = this.peekNextTime();
    const rng = this.prng;
    // Minutes the market was closed just before this one: 0 inside a session.
    const closedMinutes = this.lastTime === null ? 0 : (time - this.lastTime) / SECONDS_PER_MINUTE - 1;
    const volumeShape = this.volumeShape(time);
    const common = rng.normal();
    const bars: StoredBar[] = [];
    for (const book of this.books) {
      bars.push(this.step(book, time, closedMinutes, volumeShape, common));
    }
    this.lastTime = time;
    return bars;
  }

  private step(
    book: SimulatedInstrumentState,
    time: number,
    closedMinutes: number,
    volumeShape: number,
    common: number,
  ): StoredBar {
    const rng = this.prng;
    const inst = book.instrument;
    const sigmaBase = inst.minuteVolatility ?? DEFAULT_MINUTE_VOLATILITY;
    const anchor = Math.log(inst.startPrice);

    // Every minute draws the same number of variates in the same order, whatever happens,
    // so the stream never depends on branches taken earlier.
    const uRegime = rng.next();
    const uRegimeLength = rng.next();
    const uTrend = rng.next();
    const uTrendSide = rng.next();
    const uTrendStrength = rng.next();
    const uTrendLength = rng.next();
    const zGap = rng.normal();
    const zOwn = rng.normal();
    const zHigh = rng.normal();
    const zLow = rng.normal();
    const zVolume = rng.normal();
    const zOpenInterest = rng.normal();

    if (book.regimeRemaining <= 0) {
      const [first, p, second] = REGIME_NEXT[book.regime];
      book.regime = uRegime < p ? first : second;
      const [lo, hi] = REGIME_DURATION[book.regime];
      book.regimeRemaining = Math.floor(lo + (hi - lo) * uRegimeLength);
    }
    book.regimeRemaining -= 1;

    const deviation = book.logPrice - anchor;
    if (book.trendRemaining <= 0) {
      book.trendDrift = 0;
      if (uTrend < TREND_START_PROBABILITY) {
        // Far above the anchor, a down-trend is likelier (and vice versa): swings, not drift-away.
        const pDown = 0.5 + Math.max(-0.3, Math.min(0.3, deviation * 3));
        const side = uTrendSide < pDown ? -1 : 1;
        const [slo, shi] = TREND_STRENGTH;
        book.trendDrift = side * sigmaBase * (slo + (shi - slo) * uTrendStrength);
        const [dlo, dhi] = TREND_DURATION;
        book.trendRemaining = Math.floor(dlo + (dhi - dlo) * uTrendLength);
      }
    }
    if (book.trendRemaining > 0) book.trendRemaining -= 1;

    const sigma = sigmaBase * REGIME_VOLATILITY[book.regime];
    const shock = COMMON_LOADING * common + Math.sqrt(1 - COMMON_LOADING * COMMON_LOADING) * zOwn;
    const outer = Math.max(0, Math.abs(deviation) - OUTER_BAND) * Math.sign(deviation);
    const minuteReturn =
      book.trendDrift - MEAN_REVERSION * deviation - OUTER_REVERSION * outer + sigma * shock;

    let gapReturn = 0;
    if (closedMinutes > 0) {
      // A 15-minute break gaps ≈1.2σ, a night or weekend 3σ (capped).
      gapReturn = sigma * Math.sqrt(Math.min(1 + closedMinutes / 30, 9)) * zGap;
    }

    const logOpen = book.logPrice + gapReturn;
    const logClose = logOpen + minuteReturn;
    book.logPrice = logClose;

    const tick = inst.priceTick;
    const open = roundToTick(Math.exp(logOpen), tick);
    const close = roundToTick(Math.exp(logClose), tick);
    const bodyHigh = Math.max(open, close);
    const bodyLow = Math.min(open, close);
    const mid = Math.exp((logOpen + logClose) / 2);
    const high = Math.max(bodyHigh, roundToTick(bodyHigh + mid * sigma * WICK_SCALE * Math.abs(zHigh), tick));
    const low = Math.min(bodyLow, roundToTick(bodyLow - mid * sigma * WICK_SCALE * Math.abs(zLow), tick));

    const moveInSigmas = Math.abs(minuteReturn + gapReturn) / sigmaBase;
    const noise = Math.exp(VOLUME_NOISE * zVolume - (VOLUME_NOISE * VOLUME_NOISE) / 2);
    const volume = Math.max(
      1,
      Math.round(inst.baseVolume * volumeShape * REGIME_VOLUME[book.regime] * (1 + 0.25 * moveInSigmas) * noise),
    );
    const multiplier = inst.contractMultiplier ?? DEFAULT_CONTRACT_MULTIPLIER;
    const averagePrice = (open + high + low + close) / 4;
    const turnover = Math.round(volume * averagePrice * multiplier);

    const baseOpenInterest = inst.baseVolume * OPEN_INTEREST_PER_BASE_VOLUME;
    const oiStep = zOpenInterest * Math.sqrt(volume) * 2 + 0.002 * (baseOpenInterest - book.openInterest);
    book.openInterest = Math.max(1, Math.round(book.openInterest + oiStep));
    book.lastClose = close;

    return {
      symbol: inst.symbol,
      exchange: inst.exchange,
      interval: '1m',
      time,
      open,
      high,
      low,
      close,
      volume,
      turnover,
      openInterest: book.openInterest,
    };
  }

  /**
   * Intraday U-shape: a burst after a session opens and a rise before it closes, both larger
   * around the long pauses (09:00 and 21:00 opens, 15:00 and 23:00 closes) than around the
   * short breaks, on top of a quiet baseline.
   */
  private volumeShape(time: number): number {
    const start = this.calendar.sessionStartsAt(time);
    const end = this.calendar.sessionEndsAt(time);
    if (start === null || end === null) return 1;
    if (this.shapeSession?.start !== start) {
      const pauseBefore = (start - this.calendar.previousOpenMinute(start)) / SECONDS_PER_MINUTE - 1;
      const pauseAfter = (this.calendar.firstOpenMinuteAtOrAfter(end) - end) / SECONDS_PER_MINUTE;
      this.shapeSession = {
        start,
        openBurst: 0.6 + 1.4 * Math.min(1, pauseBefore / LONG_PAUSE_MINUTES),
        closeRise: 0.3 + 0.9 * Math.min(1, pauseAfter / LONG_PAUSE_MINUTES),
      };
    }
    const sinceOpen = (time - start) / SECONDS_PER_MINUTE;
    const untilClose = (end - time) / SECONDS_PER_MINUTE - 1;
    const { openBurst, closeRise } = this.shapeSession;
    return 0.6 + openBurst * Math.exp(-sinceOpen / 12) + closeRise * Math.exp(-untilClose / 12);
  }

  toState(): SimulatedMarketState {
    return {
      version: 1,
      prng: this.prng.state(),
      startTime: this.startTime,
      lastTime: this.lastTime,
      instruments: this.books.map(copyBook),
    };
  }

  /** Resumes a run from toState() output (typically after a JSON round trip). */
  static fromState(state: unknown, opts: { calendar?: TradingCalendar } = {}): SimulatedMarket {
    return SimulatedMarket.restore(parseState(state), opts.calendar ?? new TradingCalendar());
  }
}

/**
 * The start time for a fresh demo so that `days` complete trading days of history lie before
 * `liveStart` (plus whatever of liveStart's own trading day has already passed).
 */
export function backfillStart(calendar: TradingCalendar, liveStart: number, days: number): number {
  return calendar.minutesBackForTradingDays(liveStart, days);
}

function tickDecimals(tick: number): number {
  const text = String(tick);
  if (text.includes('e-')) return Number(text.split('e-')[1]);
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** Nearest multiple of tick, without binary-fraction residue (3.1 × 0.2 stays 0.62, not 0.6200000000000001). */
export function roundToTick(price: number, tick: number): number {
  const n = Math.round(price / tick);
  return Number((n * tick).toFixed(tickDecimals(tick)));
}

function validateInstrument(inst: SimulatedInstrument): void {
  const where = `simulated instrument ${inst.symbol}.${inst.exchange}`;
  if (!(inst.startPrice > 0)) throw new Error(`${where}: startPrice must be > 0`);
  if (!(inst.priceTick > 0)) throw new Error(`${where}: priceTick must be > 0`);
  if (!(inst.baseVolume > 0)) throw new Error(`${where}: baseVolume must be > 0`);
  if (inst.contractMultiplier !== undefined && !(inst.contractMultiplier > 0)) {
    throw new Error(`${where}: contractMultiplier must be > 0`);
  }
  if (inst.minuteVolatility !== undefined && !(inst.minuteVolatility > 0 && inst.minuteVolatility < 0.1)) {
    throw new Error(`${where}: minuteVolatility must be in (0, 0.1)`);
  }
}

function copyBook(b: SimulatedInstrumentState): SimulatedInstrumentState {
  return { ...b, instrument: { ...b.instrument } };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finite(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`simulated market state: ${where} must be a finite number`);
  return v;
}

function parseState(raw: unknown): SimulatedMarketState {
  if (!isRecord(raw)) throw new Error('simulated market state must be an object');
  if (raw['version'] !== 1) throw new Error(`simulated market state: unknown version ${String(raw['version'])}`);
  const prng = raw['prng'];
  if (!Array.isArray(prng) || !prng.every((w): w is number => typeof w === 'number')) {
    throw new Error('simulated market state: prng must be an array of numbers');
  }
  const lastTimeRaw = raw['lastTime'];
  const lastTime = lastTimeRaw === null ? null : finite(lastTimeRaw, 'lastTime');
  const list = raw['instruments'];
  if (!Array.isArray(list) || list.length === 0) throw new Error('simulated market state: instruments must be a non-empty array');
  const instruments = list.map((item: unknown, i): SimulatedInstrumentState => {
    const where = `instruments[${i}]`;
    if (!isRecord(item) || !isRecord(item['instrument'])) throw new Error(`simulated market state: ${where} is malformed`);
    const ir = item['instrument'];
    if (typeof ir['symbol'] !== 'string' || typeof ir['exchange'] !== 'string') {
      throw new Error(`simulated market state: ${where}.instrument needs symbol and exchange`);
    }
    const instrument: SimulatedInstrument = {
      symbol: ir['symbol'],
      exchange: ir['exchange'],
      startPrice: finite(ir['startPrice'], `${where}.instrument.startPrice`),
      priceTick: finite(ir['priceTick'], `${where}.instrument.priceTick`),
      baseVolume: finite(ir['baseVolume'], `${where}.instrument.baseVolume`),
    };
    if (ir['contractMultiplier'] !== undefined) {
      instrument.contractMultiplier = finite(ir['contractMultiplier'], `${where}.instrument.contractMultiplier`);
    }
    if (ir['minuteVolatility'] !== undefined) {
      instrument.minuteVolatility = finite(ir['minuteVolatility'], `${where}.instrument.minuteVolatility`);
    }
    validateInstrument(instrument);
    const regime = item['regime'];
    if (regime !== 'calm' && regime !== 'normal' && regime !== 'volatile') {
      throw new Error(`simulated market state: ${where}.regime must be calm, normal or volatile`);
    }
    const lastClose = item['lastClose'];
    return {
      instrument,
      logPrice: finite(item['logPrice'], `${where}.logPrice`),
      lastClose: lastClose === null ? null : finite(lastClose, `${where}.lastClose`),
      regime,
      regimeRemaining: finite(item['regimeRemaining'], `${where}.regimeRemaining`),
      trendDrift: finite(item['trendDrift'], `${where}.trendDrift`),
      trendRemaining: finite(item['trendRemaining'], `${where}.trendRemaining`),
      openInterest: finite(item['openInterest'], `${where}.openInterest`),
    };
  });
  return { version: 1, prng, startTime: finite(raw['startTime'], 'startTime'), lastTime, instruments };
}
