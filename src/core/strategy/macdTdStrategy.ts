import { parseMacdTdConfig, type MacdTdConfig } from '../../shared/strategyConfig.js';
import type { PositionDirection } from '../broker/paperBroker.js';
import type { WindowAnalysis } from '../signalEngine.js';
import { assertCount, assertFinite, assertObject } from '../state.js';
import { productOf } from '../../shared/bar.js';
import type { Strategy, StrategyContext, StrategyDefinition, StrategyStateEnvelope } from './strategy.js';

/**
 * The MACD-TD strategy (DOMAIN.md "MACD-TD strategy") behind the Strategy seam. It decides
 * only; the TradingEngine feeds it, the RiskGate permits (daily limits, session end, freezes),
 * the PaperBroker fills.
 *
 * Signals, per vtSymbol, on each closed window bar:
 *   * bottom signal present: bottom divergence active, or bottom dullness in `structure` (the
 *     whole time it stays there, not only the bar it entered it); top mirrored.
 *   * An *episode* of a signal is a run of consecutive window bars on which it is present. One
 *     episode gives at most one entry: it is used up by an entry order sent, by an entry the
 *     gate refused by a limit (a freeze — halted, restoring, degraded — or the session's end
 *     leaves it for the next bar), or by a position of that direction the product already
 *     holds while the episode runs. After a stop-loss the strategy waits for a new episode.
 *   * Long entry: bottom present, top not present, the episode unused, confirmed by a buy setup
 *     9 on this bar or the `nineWithinBars − 1` bars before it, or by an EMA state that is not
 *     `bear`; only on the product's active contract; only when the product holds no position
 *     (one position per product; a close sent on this same bar counts as flat, so a signal can
 *     reverse a position). Short entry mirrored (sell 9, EMA state not `bull`).
 *   * Exit: a long closes when the top signal is present (a short when the bottom one is), on
 *     any contract, active or not; the bracket's stop-loss / take-profit rest at the broker from
 *     the entry fill on.
 */

interface EpisodeState {
  present: boolean;
  used: boolean;
}

export interface SymbolTrackState {
  lastWindowTime: number | null;
  /** Window bars since the last buy / sell setup 9 (0 = this bar); null when longer than nineWithinBars − 1. */
  barsSinceBuyNine: number | null;
  barsSinceSellNine: number | null;
  bottom: EpisodeState;
  top: EpisodeState;
}

export interface MacdTdState {
  /** vtSymbol → signal tracking; one small entry per contract ever fed. */
  symbols: Record<string, SymbolTrackState>;
}

function newTrack(): SymbolTrackState {
  return { lastWindowTime: null, barsSinceBuyNine: null, barsSinceSellNine: null, bottom: { present: false, used: false }, top: { present: false, used: false } };
}

export class MacdTdStrategy implements Strategy {
  private readonly tracks = new Map<string, SymbolTrackState>();
  readonly ignoresMinuteBars = true;

  constructor(readonly config: Readonly<MacdTdConfig>) {}

  onMinuteBars(): void {
    // MACD-TD decides on window bars only; the session-end close is the risk gate's.
  }

  onFill(): void {
    // Protective orders ride on the broker's bracket; nothing to track per fill.
  }

  onTradingDayRoll(): void {
    // The daily limits live in the risk gate.
  }

  onWindowBar(vtSymbol: string, analysis: WindowAnalysis, ctx: StrategyContext): void {
    const windowTime = analysis.bar.time;
    let track = this.tracks.get(vtSymbol);
    if (track === undefined) {
      track = newTrack();
      this.tracks.set(vtSymbol, track);
    }
    if (track.lastWindowTime !== null && !(windowTime > track.lastWindowTime)) return;
    track.lastWindowTime = windowTime;

    // Runs on every window bar of every instrument: plain loops, no closures, episodes updated in place.
    const within = this.config.nineWithinBars;
    let buyNine = false;
    let sellNine = false;
    const marks = analysis.marks;
    for (let i = 0; i < marks.length; i++) {
      const m = marks[i] as (typeof marks)[number];
      if (m.kind !== 9) continue;
      if (m.side === 'buy') buyNine = true;
      else if (m.side === 'sell') sellNine = true;
    }
    track.barsSinceBuyNine = nineAge(track.barsSinceBuyNine, buyNine, within);
    track.barsSinceSellNine = nineAge(track.barsSinceSellNine, sellNine, within);

    const bottom = analysis.bottomDivergence || analysis.bottomDullness === 'structure';
    const top = analysis.topDivergence || analysis.topDullness === 'structure';
    if (bottom && !track.bottom.present) track.bottom.used = false;
    if (top && !track.top.present) track.top.used = false;
    track.bottom.used = bottom && track.bottom.used;
    track.bottom.present = bottom;
    track.top.used = top && track.top.used;
    track.top.present = top;

    if (top) {
      const volume = ctx.closeable(vtSymbol, 'long');
      if (volume > 0) ctx.submit({ vtSymbol, side: 'sell', offset: 'close', type: 'market', volume, tag: 'topSignal', detail: signalName('top', analysis) });
    }
    if (bottom) {
      const volume = ctx.closeable(vtSymbol, 'short');
      if (volume > 0) ctx.submit({ vtSymbol, side: 'buy', offset: 'close', type: 'market', volume, tag: 'bottomSignal', detail: signalName('bottom', analysis) });
    }
    if (bottom && !top) this.considerOpen(vtSymbol, 'long', analysis, track, ctx);
    if (top && !bottom) this.considerOpen(vtSymbol, 'short', analysis, track, ctx);
  }

  /** A product's exposure in a direction: open lots not being closed, plus pending opens. */
  private exposure(product: string, direction: PositionDirection, ctx: StrategyContext): number {
    let sum = 0;
    // One position per vtSymbol and direction: each counted once.
    for (const p of ctx.positions()) if (p.direction === direction && productOf(p.vtSymbol) === product) sum += ctx.closeable(p.vtSymbol, direction);
    const side = direction === 'long' ? 'buy' : 'sell';
    for (const o of ctx.pendingOrders()) if (o.offset === 'open' && o.side === side && productOf(o.vtSymbol) === product) sum += o.volume;
    return sum;
  }

  private considerOpen(vtSymbol: string, direction: PositionDirection, analysis: WindowAnalysis, track: SymbolTrackState, ctx: StrategyContext): void {
    const long = direction === 'long';
    const episode = long ? track.bottom : track.top;
    if (episode.used) return;
    const product = productOf(vtSymbol);
    if (this.exposure(product, direction, ctx) > 0) {
      // The position the product already holds is this signal's trade.
      episode.used = true;
      return;
    }
    if (!ctx.isActive(vtSymbol)) return;
    if (this.exposure(product, long ? 'short' : 'long', ctx) > 0) return;
    const nineAge = long ? track.barsSinceBuyNine : track.barsSinceSellNine;
    const emaOk = long ? analysis.emaState !== 'bear' : analysis.emaState !== 'bull';
    if (nineAge === null && !emaOk) return;
    const confirmation = nineAge !== null ? `${long ? 'buy' : 'sell'} setup 9 ${nineAge === 0 ? 'on this bar' : `${String(nineAge)} bar(s) ago`}` : `EMA state ${analysis.emaState}`;
    const outcome = ctx.submit({
      vtSymbol,
      side: long ? 'buy' : 'sell',
      offset: 'open',
      type: 'market',
      volume: this.config.orderVolume,
      tag: long ? 'bottomSignal' : 'topSignal',
      detail: `${signalName(long ? 'bottom' : 'top', analysis)}, confirmed by ${confirmation}`,
      bracket: this.config.stopLoss === null && this.config.takeProfit === null ? null : { stopLoss: this.config.stopLoss, takeProfit: this.config.takeProfit },
    });
    if (outcome.passed || (!outcome.suppressed && outcome.reason !== 'sessionEnd')) episode.used = true;
  }

  toState(): StrategyStateEnvelope {
    const symbols: Record<string, SymbolTrackState> = {};
    for (const key of [...this.tracks.keys()].sort()) {
      const t = this.tracks.get(key);
      if (t !== undefined) symbols[key] = { ...t, bottom: { ...t.bottom }, top: { ...t.top } };
    }
    const data: MacdTdState = { symbols };
    return { version: MACD_TD_STATE_VERSION, data };
  }

  static restore(data: unknown, config: MacdTdConfig): MacdTdStrategy {
    const what = 'MACD-TD state';
    assertObject(data, what);
    const symbols = (data as { symbols?: unknown }).symbols;
    assertObject(symbols, `${what} symbols`);
    const s = new MacdTdStrategy(config);
    for (const [vtSymbol, t] of Object.entries(symbols)) s.tracks.set(vtSymbol, checkedTrack(t, `${what} symbols.${vtSymbol}`));
    return s;
  }
}

export const MACD_TD_STATE_VERSION = 1;

export const macdTdDefinition: StrategyDefinition<MacdTdConfig> = {
  name: 'macd-td',
  parseParams: (input, where) => parseMacdTdConfig(input, where),
  stateVersion: MACD_TD_STATE_VERSION,
  create: (params) => new MacdTdStrategy(params),
  restore: (data, params) => MacdTdStrategy.restore(data, params),
  signalParams: (params) => params.signal,
  display: (params) => ({
    lines: [
      { field: 'emaFast', label: `EMA${String(params.signal.emaFast)}` },
      { field: 'emaSlow', label: `EMA${String(params.signal.emaSlow)}` },
    ],
    panes: [{ kind: 'macd', label: `MACD ${String(params.signal.fast)} ${String(params.signal.slow)} ${String(params.signal.signal)}` }],
    marks: ['td'],
    badges: ['emaState', 'tdSetup', 'tdCountdown', 'dullness', 'divergence'],
  }),
};

/** Window bars since a setup 9 (0: this bar), or null once that is nineWithinBars or more. */
function nineAge(previous: number | null, fresh: boolean, within: number): number | null {
  if (fresh) return 0;
  if (previous === null || previous + 1 >= within) return null;
  return previous + 1;
}

function signalName(side: 'bottom' | 'top', a: WindowAnalysis): string {
  const divergence = side === 'bottom' ? a.bottomDivergence : a.topDivergence;
  const structure = (side === 'bottom' ? a.bottomDullness : a.topDullness) === 'structure';
  const parts: string[] = [];
  if (divergence) parts.push(`${side} divergence`);
  if (structure) parts.push(`${side} dullness structure`);
  return parts.join(' + ');
}

function checkedEpisode(value: unknown, where: string): EpisodeState {
  assertObject(value, where);
  const e = value as { present?: unknown; used?: unknown };
  if (typeof e.present !== 'boolean' || typeof e.used !== 'boolean') throw new Error(`${where}: expected {present, used} booleans`);
  return { present: e.present, used: e.used };
}

function checkedTrack(value: unknown, where: string): SymbolTrackState {
  assertObject(value, where);
  const t = value as Partial<Record<keyof SymbolTrackState, unknown>>;
  const lastWindowTime = t.lastWindowTime;
  if (lastWindowTime !== null) assertFinite(lastWindowTime, `${where}.lastWindowTime`);
  const ageOrNull = (k: 'barsSinceBuyNine' | 'barsSinceSellNine'): number | null => {
    const v = t[k];
    if (v === null) return null;
    assertCount(v, `${where}.${k}`);
    return v;
  };
  return {
    lastWindowTime: lastWindowTime as number | null,
    barsSinceBuyNine: ageOrNull('barsSinceBuyNine'),
    barsSinceSellNine: ageOrNull('barsSinceSellNine'),
    bottom: checkedEpisode(t.bottom, `${where}.bottom`),
    top: checkedEpisode(t.top, `${where}.top`),
  };
}
