import type { OhlcvBar } from '../../shared/bar.js';
import { parseMacdTdConfig, type MacdTdConfig, type MacdTdConfigInput } from '../../shared/strategyConfig.js';
import {
  PaperBroker,
  closingSide,
  type Fill,
  type Order,
  type PaperBrokerConfig,
  type PaperBrokerState,
  type Position,
  type PositionDirection,
  type TradeRow,
} from '../broker/paperBroker.js';
import { TradingCalendar } from '../market/tradingCalendar.js';
import type { WindowAnalysis } from '../signalEngine.js';
import { assertCount, assertFinite, assertObject, assertVersion } from '../state.js';
import { ActiveContracts, productOf, type ActiveContractsState, type ContractCandidate, type ContractRoll } from './activeContract.js';
import { paramsHash } from './paramsHash.js';
import { DailyOpenCounters, type DailyOpenCountersState } from './tradingDay.js';

/**
 * The MACD-TD strategy (DOMAIN.md "MACD-TD strategy") with its paper broker, for one variant.
 *
 * Driving it (the worker, a restore replay and a backtest all do exactly this; MacdTdRunner
 * does it for you):
 *   for every 1-minute bar of a vtSymbol, in time order:
 *     1. strategy.onMinuteBar(vtSymbol, bar, mode)
 *          a. a bar at or before the vtSymbol's last one is ignored (replay overlap), nothing else happens;
 *          b. the trading day rolls when calendar.tradingDay(bar.time) moves on (counters to 0,
 *             today's PnL starts from the equity before this bar);
 *          c. the broker fills: market orders sent earlier at this bar's open ± slippage, then the
 *             resting stop-loss / take-profit orders against this bar's range; marks at its close;
 *          d. closeAtSessionEnd: a position still open in the last two minutes of a session that is
 *             followed by a long pause gets a market close (it fills at the next minute's open).
 *     2. pipeline.pushMinute(bar) — its onWindow, when this minute closed a window bar, calls
 *        strategy.onWindowBar(vtSymbol, analysis, mode): exits on the opposite signal first, then
 *        entries; their market orders fill on the NEXT minute bar (step 1c), never on the bar
 *        that closed the window.
 *   The state (toState) is taken between two minute bars, after step 2.
 *
 * Signals, per vtSymbol, on each closed window bar:
 *   * bottom signal present: bottom divergence active, or bottom dullness in `structure` (the
 *     whole time it stays there, not only the bar it entered it); top mirrored.
 *   * An *episode* of a signal is a run of consecutive window bars on which it is present. One
 *     episode gives at most one entry: it is used up by an entry order sent, by an entry refused
 *     by the daily limits, or by a position of that direction the product already holds while
 *     the episode runs. After a stop-loss the strategy waits for a new episode.
 *   * Long entry: bottom present, top not present, the episode unused, confirmed by a buy setup
 *     9 on this bar or the `nineWithinBars − 1` bars before it, or by an EMA state that is not
 *     `bear`; only on the product's active contract; only when the product holds no position
 *     (one position per product; a close sent on this same bar counts as flat, so a signal can
 *     reverse a position). Short entry mirrored (sell 9, EMA state not `bull`).
 *   * Exit: a long closes when the top signal is present (a short when the bottom one is), on
 *     any contract, active or not; the bracket's stop-loss / take-profit rest at the broker from
 *     the entry fill on (see PaperBroker); at the session end when configured.
 * Modes: in 'restoring', 'degraded' and 'halted' every rule is evaluated, but no order is sent,
 * no counter advances and no episode is used up: the would-be decision is recorded
 * ("suppressed") and reconsidered on the next window bar. Orders already resting at the broker
 * (stop-loss, take-profit, a market order sent just before) still fill: they were sent.
 */

export type TradingMode = 'live' | 'restoring' | 'degraded' | 'halted';
export type StrategyLogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
export type LogContextValue = string | number | boolean | null;

export interface StrategyLogEntry {
  level: StrategyLogLevel;
  message: string;
  context: Record<string, LogContextValue>;
}

export type DecisionReason = 'bottomSignal' | 'topSignal' | 'sessionEnd';
export type DecisionOutcome = 'sent' | 'suppressed' | 'refused';

export interface Decision {
  /** Decision time: the last 1-minute bar seen for the vtSymbol. */
  time: number;
  vtSymbol: string;
  kind: 'open' | 'close';
  direction: PositionDirection;
  reason: DecisionReason;
  outcome: DecisionOutcome;
  /** Why it was refused or suppressed; which signal and confirmation when sent. */
  detail: string;
  orderId: string | null;
}

export interface StrategyEvents {
  fills: Fill[];
  ordersSent: Order[];
  /** Protective orders placed by the broker when entries filled. */
  ordersPlaced: Order[];
  cancelled: Order[];
  decisions: Decision[];
  /** Decisions suppressed by the mode during this call. */
  suppressed: number;
  log: StrategyLogEntry[];
}

export interface StrategyPositionView {
  vtSymbol: string;
  direction: PositionDirection;
  volume: number;
  avgPrice: number;
  unrealizedPnl: number;
}

export interface StrategyOrderView {
  id: string;
  vtSymbol: string;
  side: 'buy' | 'sell';
  offset: 'open' | 'close';
  type: 'market' | 'limit' | 'stop';
  price: number | null;
  volume: number;
  status: string;
  createdAt: number;
}

/** What the worker puts into the variant's snapshot file. */
export interface StrategySnapshot {
  positions: StrategyPositionView[];
  orders: StrategyOrderView[];
  counters: Record<string, number>;
  pnl: { realized: number; unrealized: number; today: number };
  /** Oldest first, at most RECENT_TRADES. */
  recentTrades: TradeRow[];
  tradingDay: string | null;
  activeContracts: Record<string, string>;
}

interface EpisodeState {
  present: boolean;
  used: boolean;
}

export interface SymbolTrackState {
  lastMinuteTime: number | null;
  lastWindowTime: number | null;
  /** Window bars since the last buy / sell setup 9 (0 = this bar); null when longer than nineWithinBars − 1. */
  barsSinceBuyNine: number | null;
  barsSinceSellNine: number | null;
  bottom: EpisodeState;
  top: EpisodeState;
}

export interface MacdTdState {
  version: 1;
  /** paramsHash(config) when the state was taken. */
  paramsHash: string;
  variant: string;
  broker: PaperBrokerState;
  activeContracts: ActiveContractsState;
  counters: DailyOpenCountersState;
  /** vtSymbol → signal tracking; one small entry per contract ever fed. */
  symbols: Record<string, SymbolTrackState>;
  suppressedDecisions: number;
  refusedByLimit: number;
  /** Equity (realised + unrealised) when the current trading day began. */
  dayStartEquity: number;
  recentTrades: TradeRow[];
}

export interface MacdTdOptions {
  /** Variant name: prefix of order and trade ids. */
  variant: string;
  calendar?: TradingCalendar;
  /** Initial product → active contract (vtSymbol). A product without one adopts the first vtSymbol fed. */
  activeContracts?: Record<string, string>;
}

export interface RestoreOptions extends MacdTdOptions {
  /** Load a state saved under other parameters (positions are kept; signals continue with the new ones). */
  allowConfigChange?: boolean;
}

export const RECENT_TRADES = 20;
/** A session end counts for closeAtSessionEnd from this long before it: the last two minutes. */
const SESSION_END_LEAD_SECONDS = 120;

function emptyEvents(): StrategyEvents {
  return { fills: [], ordersSent: [], ordersPlaced: [], cancelled: [], decisions: [], suppressed: 0, log: [] };
}

function newTrack(): SymbolTrackState {
  return {
    lastMinuteTime: null,
    lastWindowTime: null,
    barsSinceBuyNine: null,
    barsSinceSellNine: null,
    bottom: { present: false, used: false },
    top: { present: false, used: false },
  };
}

export function brokerConfigOf(config: MacdTdConfig, variant: string): PaperBrokerConfig {
  return {
    idPrefix: variant,
    priceTick: config.priceTick,
    contractMultiplier: config.contractMultiplier,
    contracts: config.contracts,
    slippageTicks: config.slippageTicks,
    commission: config.commission,
  };
}

export class MacdTdStrategy {
  readonly config: Readonly<MacdTdConfig>;
  readonly variant: string;
  readonly paramsHash: string;
  private readonly calendar: TradingCalendar;
  private broker: PaperBroker;
  private contracts: ActiveContracts;
  private counters: DailyOpenCounters;
  private readonly tracks = new Map<string, SymbolTrackState>();
  private suppressedTotal = 0;
  private refusedTotal = 0;
  private dayStartEquity = 0;
  private recent: TradeRow[] = [];
  /** tradingDay() of the last hour seen: the day can only change on a whole hour (the roll hour is whole). */
  private dayCacheHour = Number.NaN;
  private dayCache = '';

  constructor(config: MacdTdConfigInput | MacdTdConfig, opts: MacdTdOptions) {
    const parsed = parseMacdTdConfig(config, `MACD-TD config of ${opts.variant}`);
    this.config = Object.freeze(parsed);
    this.variant = opts.variant;
    this.paramsHash = MacdTdStrategy.paramsHashOf(parsed);
    this.calendar = opts.calendar ?? new TradingCalendar();
    this.broker = new PaperBroker(brokerConfigOf(parsed, opts.variant));
    this.contracts = new ActiveContracts(opts.activeContracts ?? {});
    this.counters = new DailyOpenCounters({ perProduct: parsed.maxDailyOpenPerProduct, global: parsed.maxDailyOpenGlobal });
  }

  /** The fingerprint stored in the state; compare it with a saved state's before loading. */
  static paramsHashOf(config: MacdTdConfigInput | MacdTdConfig): string {
    return paramsHash(parseMacdTdConfig(config));
  }

  // ---------------------------------------------------------------- driving

  /** Every 1-minute bar, in time order, before the pipeline sees it (see the class comment). */
  onMinuteBar(vtSymbol: string, bar: OhlcvBar, mode: TradingMode): StrategyEvents {
    const events = emptyEvents();
    const seen = this.tracks.get(vtSymbol)?.lastMinuteTime ?? null;
    if (seen !== null && !(bar.time > seen)) return events;
    this.rollDay(bar.time, events);
    const track = this.trackOf(vtSymbol, events);
    track.lastMinuteTime = bar.time;

    const b = this.broker.onMinuteBar(vtSymbol, bar);
    for (const fill of b.fills) this.recordFill(fill, events);
    events.ordersPlaced.push(...b.placed);
    events.cancelled.push(...b.cancelled);

    if (this.config.closeAtSessionEnd && this.inClosingWindow(bar.time)) {
      for (const direction of ['long', 'short'] as const) {
        const volume = this.closeable(vtSymbol, direction);
        if (volume > 0) this.decideClose(vtSymbol, direction, volume, 'sessionEnd', bar.time, 'the session ends', mode, events);
      }
    }
    return events;
  }

  /** Every closed window bar's analysis, right after the minute bar that closed it. */
  onWindowBar(vtSymbol: string, analysis: WindowAnalysis, mode: TradingMode): StrategyEvents {
    const events = emptyEvents();
    const windowTime = analysis.bar.time;
    const seen = this.tracks.get(vtSymbol)?.lastWindowTime ?? null;
    if (seen !== null && !(windowTime > seen)) return events;
    const track = this.trackOf(vtSymbol, events);
    track.lastWindowTime = windowTime;
    const time = Math.max(track.lastMinuteTime ?? windowTime, windowTime);
    // Normally a no-op (the minute bar rolled the day already); keeps the limits right for a caller that feeds windows only.
    this.rollDay(time, events);

    const within = this.config.nineWithinBars;
    const age = (previous: number | null, fresh: boolean): number | null => {
      if (fresh) return 0;
      if (previous === null || previous + 1 >= within) return null;
      return previous + 1;
    };
    track.barsSinceBuyNine = age(track.barsSinceBuyNine, analysis.marks.some((m) => m.kind === 9 && m.side === 'buy'));
    track.barsSinceSellNine = age(track.barsSinceSellNine, analysis.marks.some((m) => m.kind === 9 && m.side === 'sell'));

    const bottom = analysis.bottomDivergence || analysis.bottomDullness === 'structure';
    const top = analysis.topDivergence || analysis.topDullness === 'structure';
    if (bottom && !track.bottom.present) track.bottom.used = false;
    if (top && !track.top.present) track.top.used = false;
    track.bottom = { present: bottom, used: bottom && track.bottom.used };
    track.top = { present: top, used: top && track.top.used };

    if (top) {
      const volume = this.closeable(vtSymbol, 'long');
      if (volume > 0) this.decideClose(vtSymbol, 'long', volume, 'topSignal', time, signalName('top', analysis), mode, events);
    }
    if (bottom) {
      const volume = this.closeable(vtSymbol, 'short');
      if (volume > 0) this.decideClose(vtSymbol, 'short', volume, 'bottomSignal', time, signalName('bottom', analysis), mode, events);
    }
    if (bottom && !top) this.considerOpen(vtSymbol, 'long', analysis, track, time, mode, events);
    if (top && !bottom) this.considerOpen(vtSymbol, 'short', analysis, track, time, mode, events);
    return events;
  }

  // ---------------------------------------------------------------- contracts

  activeContract(product: string): string | null {
    return this.contracts.get(product);
  }

  /** Switches a product's active contract; an open position in the old one is still managed (closed by its signals, stops, session end). */
  setActiveContract(product: string, vtSymbol: string): boolean {
    return this.contracts.set(product, vtSymbol);
  }

  /** Re-picks the active contract from candidates (see ActiveContracts.update). */
  updateActiveContract(product: string, candidates: readonly ContractCandidate[], opts: { switchRatio?: number } = {}): ContractRoll {
    return this.contracts.update(product, candidates, opts);
  }

  /** The vtSymbols whose bars the strategy needs: active contracts and any with a position or a pending order. */
  symbolsNeeded(): string[] {
    const set = new Set<string>(Object.values(this.contracts.entries()));
    for (const p of this.broker.positions()) set.add(p.vtSymbol);
    for (const o of this.broker.pendingOrders()) set.add(o.vtSymbol);
    return [...set].sort();
  }

  // ---------------------------------------------------------------- reading

  positions(): Position[] {
    return this.broker.positions();
  }

  pendingOrders(): Order[] {
    return this.broker.pendingOrders();
  }

  get tradingDay(): string | null {
    return this.counters.tradingDay;
  }

  opensToday(product?: string): number {
    return this.counters.opensToday(product);
  }

  get suppressedDecisions(): number {
    return this.suppressedTotal;
  }

  get refusedByLimit(): number {
    return this.refusedTotal;
  }

  get realizedPnl(): number {
    return this.broker.realizedPnl;
  }

  unrealizedPnl(): number {
    return this.broker.unrealizedPnl();
  }

  equity(): number {
    return this.broker.equity();
  }

  snapshot(): StrategySnapshot {
    const counters: Record<string, number> = {
      opensToday: this.counters.opensToday(),
      suppressedDecisions: this.suppressedTotal,
      refusedByLimit: this.refusedTotal,
      trades: this.broker.tradeCount,
    };
    for (const [product, n] of Object.entries(this.counters.toState().byProduct)) counters[`opensToday.${product}`] = n;
    const equity = this.broker.equity();
    return {
      positions: this.broker.positions().map((p) => ({
        vtSymbol: p.vtSymbol,
        direction: p.direction,
        volume: p.volume,
        avgPrice: p.avgPrice,
        unrealizedPnl: p.unrealizedPnl,
      })),
      orders: this.broker.pendingOrders().map((o) => ({
        id: o.id,
        vtSymbol: o.vtSymbol,
        side: o.side,
        offset: o.offset,
        type: o.type,
        price: o.price,
        volume: o.volume,
        status: o.status,
        createdAt: o.createdAt,
      })),
      counters,
      pnl: { realized: this.broker.realizedPnl, unrealized: this.broker.unrealizedPnl(), today: equity - this.dayStartEquity },
      recentTrades: this.recent.map((t) => ({ ...t })),
      tradingDay: this.counters.tradingDay,
      activeContracts: this.contracts.entries(),
    };
  }

  // ---------------------------------------------------------------- state

  toState(): MacdTdState {
    const symbols: Record<string, SymbolTrackState> = {};
    for (const key of [...this.tracks.keys()].sort()) {
      const t = this.tracks.get(key);
      if (t !== undefined) symbols[key] = { ...t, bottom: { ...t.bottom }, top: { ...t.top } };
    }
    return {
      version: 1,
      paramsHash: this.paramsHash,
      variant: this.variant,
      broker: this.broker.toState(),
      activeContracts: this.contracts.toState(),
      counters: this.counters.toState(),
      symbols,
      suppressedDecisions: this.suppressedTotal,
      refusedByLimit: this.refusedTotal,
      dayStartEquity: this.dayStartEquity,
      recentTrades: this.recent.map((t) => ({ ...t })),
    };
  }

  /**
   * Resumes from a state. Throws when the state was saved under other parameters
   * (paramsHash differs) unless `opts.allowConfigChange`; `opts.activeContracts` is ignored (the
   * state's map wins).
   */
  static fromState(state: MacdTdState, config: MacdTdConfigInput | MacdTdConfig, opts: RestoreOptions): MacdTdStrategy {
    const what = 'MACD-TD state';
    assertObject(state, what);
    assertVersion(state, 1, what);
    const strategy = new MacdTdStrategy(config, { variant: opts.variant, ...(opts.calendar ? { calendar: opts.calendar } : {}) });
    if (state.paramsHash !== strategy.paramsHash && opts.allowConfigChange !== true) {
      throw new Error(
        `${what} of ${opts.variant}: saved under other parameters (params hash ${String(state.paramsHash)}, config now ${strategy.paramsHash}); ` +
          'restore with allowConfigChange to keep the positions under the new parameters',
      );
    }
    if (state.variant !== opts.variant) throw new Error(`${what}: saved for variant ${String(state.variant)}, not ${opts.variant}`);
    strategy.broker = PaperBroker.fromState(state.broker, brokerConfigOf(strategy.config, opts.variant));
    strategy.contracts = ActiveContracts.fromState(state.activeContracts);
    strategy.counters = DailyOpenCounters.fromState(state.counters, strategy.counters.limits);
    assertObject(state.symbols, `${what} symbols`);
    for (const [vtSymbol, t] of Object.entries(state.symbols)) strategy.tracks.set(vtSymbol, checkedTrack(t, `${what} symbols.${vtSymbol}`));
    assertCount(state.suppressedDecisions, `${what} suppressedDecisions`);
    assertCount(state.refusedByLimit, `${what} refusedByLimit`);
    assertFinite(state.dayStartEquity, `${what} dayStartEquity`);
    strategy.suppressedTotal = state.suppressedDecisions;
    strategy.refusedTotal = state.refusedByLimit;
    strategy.dayStartEquity = state.dayStartEquity;
    if (!Array.isArray(state.recentTrades)) throw new Error(`${what} recentTrades: expected an array`);
    state.recentTrades.forEach((t, i) => {
      assertObject(t, `${what} recentTrades[${String(i)}]`);
      if (typeof t.id !== 'string') throw new Error(`${what} recentTrades[${String(i)}].id: expected a string`);
      assertFinite(t.price, `${what} recentTrades[${String(i)}].price`);
    });
    strategy.recent = state.recentTrades.slice(-RECENT_TRADES).map((t) => ({ ...t }));
    return strategy;
  }

  // ---------------------------------------------------------------- rules

  /** The vtSymbol's tracking; a vtSymbol seen for the first time may become its product's active contract. */
  private trackOf(vtSymbol: string, events: StrategyEvents): SymbolTrackState {
    let t = this.tracks.get(vtSymbol);
    if (t === undefined) {
      t = newTrack();
      this.tracks.set(vtSymbol, t);
      // A product's active contract is never unset, so checking new vtSymbols only is enough.
      this.adoptContract(vtSymbol, events);
    }
    return t;
  }

  private adoptContract(vtSymbol: string, events: StrategyEvents): void {
    const product = productOf(vtSymbol);
    if (this.contracts.get(product) !== null) return;
    this.contracts.set(product, vtSymbol);
    events.log.push({ level: 'INFO', message: `active contract of ${product}: ${vtSymbol} (first fed)`, context: { product, vtSymbol } });
  }

  private rollDay(time: number, events: StrategyEvents): void {
    const hour = Math.floor(time / 3600);
    if (hour !== this.dayCacheHour) {
      this.dayCacheHour = hour;
      this.dayCache = this.calendar.tradingDay(time);
    }
    const day = this.dayCache;
    const previous = this.counters.tradingDay;
    if (!this.counters.rollTo(day)) return;
    this.dayStartEquity = this.broker.equity();
    events.log.push({ level: 'INFO', message: `trading day ${day}: daily open counters reset`, context: { tradingDay: day, previous } });
  }

  private recordFill(fill: Fill, events: StrategyEvents): void {
    events.fills.push(fill);
    const t = fill.trade;
    this.recent.push({ ...t });
    if (this.recent.length > RECENT_TRADES) this.recent.splice(0, this.recent.length - RECENT_TRADES);
    const what = t.role === 'stopLoss' ? 'stop-loss filled' : t.role === 'takeProfit' ? 'take-profit filled' : 'filled';
    events.log.push({
      level: 'INFO',
      message: `${what}: ${t.side} ${t.offset} ${String(t.volume)} ${t.vtSymbol} @ ${String(t.price)}`,
      context: { tradeId: t.id, orderId: t.orderId, price: t.price, volume: t.volume, commission: t.commission, pnl: t.pnl, tag: t.tag },
    });
  }

  /** Position volume not already being closed by a pending (non-protective) close order. */
  private closeable(vtSymbol: string, direction: PositionDirection): number {
    const pos = this.broker.position(vtSymbol, direction);
    if (pos === null) return 0;
    const side = closingSide(direction);
    let closing = 0;
    for (const o of this.broker.pendingOrders()) {
      if (o.vtSymbol === vtSymbol && o.offset === 'close' && o.side === side && o.parentId === null) closing += o.volume;
    }
    return Math.max(0, pos.volume - closing);
  }

  /** A product's exposure in a direction: open lots not being closed, plus pending opens. */
  private exposure(product: string, direction: PositionDirection): number {
    let sum = 0;
    const symbols = new Set<string>();
    for (const p of this.broker.positions()) if (p.direction === direction && productOf(p.vtSymbol) === product) symbols.add(p.vtSymbol);
    for (const s of symbols) sum += this.closeable(s, direction);
    const side = direction === 'long' ? 'buy' : 'sell';
    for (const o of this.broker.pendingOrders()) {
      if (o.offset === 'open' && o.side === side && productOf(o.vtSymbol) === product) sum += o.volume;
    }
    return sum;
  }

  private inClosingWindow(time: number): boolean {
    const end = this.calendar.sessionEndsAt(time);
    if (end === null || time < end - SESSION_END_LEAD_SECONDS) return false;
    const pause = this.calendar.firstOpenMinuteAtOrAfter(end) - end;
    return pause >= this.config.sessionEndMinPauseMinutes * 60;
  }

  private decideClose(
    vtSymbol: string,
    direction: PositionDirection,
    volume: number,
    reason: DecisionReason,
    time: number,
    detail: string,
    mode: TradingMode,
    events: StrategyEvents,
  ): void {
    const context = { vtSymbol, direction, volume, reason, mode };
    if (mode !== 'live') {
      this.suppress(events, { time, vtSymbol, kind: 'close', direction, reason, outcome: 'suppressed', detail: `${detail}; mode ${mode}`, orderId: null });
      events.log.push({ level: 'INFO', message: `close ${direction} ${vtSymbol} suppressed (${mode}): ${detail}`, context });
      return;
    }
    const side = closingSide(direction);
    for (const o of this.broker.pendingOrders()) {
      if (o.vtSymbol === vtSymbol && o.parentId !== null && o.side === side) {
        const cancelled = this.broker.cancel(o.id, `replaced by a ${reason} close`);
        if (cancelled !== null) events.cancelled.push(cancelled);
      }
    }
    const order = this.broker.submit({ vtSymbol, side, offset: 'close', type: 'market', volume, time, tag: reason });
    events.ordersSent.push(order);
    events.decisions.push({ time, vtSymbol, kind: 'close', direction, reason, outcome: 'sent', detail, orderId: order.id });
    events.log.push({ level: 'INFO', message: `close ${direction} ${vtSymbol}: ${detail}`, context: { ...context, orderId: order.id } });
  }

  private considerOpen(
    vtSymbol: string,
    direction: PositionDirection,
    analysis: WindowAnalysis,
    track: SymbolTrackState,
    time: number,
    mode: TradingMode,
    events: StrategyEvents,
  ): void {
    const long = direction === 'long';
    const episode = long ? track.bottom : track.top;
    if (episode.used) return;
    const product = productOf(vtSymbol);
    if (this.exposure(product, direction) > 0) {
      // The position the product already holds is this signal's trade.
      episode.used = true;
      return;
    }
    if (!this.contracts.isActive(vtSymbol)) return;
    if (this.exposure(product, long ? 'short' : 'long') > 0) return;
    const nineAge = long ? track.barsSinceBuyNine : track.barsSinceSellNine;
    const emaOk = long ? analysis.emaState !== 'bear' : analysis.emaState !== 'bull';
    if (nineAge === null && !emaOk) return;
    const reason: DecisionReason = long ? 'bottomSignal' : 'topSignal';
    const confirmation = nineAge !== null ? `${long ? 'buy' : 'sell'} setup 9 ${nineAge === 0 ? 'on this bar' : `${String(nineAge)} bar(s) ago`}` : `EMA state ${analysis.emaState}`;
    const detail = `${signalName(long ? 'bottom' : 'top', analysis)}, confirmed by ${confirmation}`;
    const decision = (outcome: DecisionOutcome, why: string, orderId: string | null): Decision => ({
      time,
      vtSymbol,
      kind: 'open',
      direction,
      reason,
      outcome,
      detail: why,
      orderId,
    });
    const context = { vtSymbol, direction, product, mode, opensToday: this.counters.opensToday(), opensTodayProduct: this.counters.opensToday(product) };

    if (this.config.closeAtSessionEnd && this.inClosingWindow(time)) {
      events.decisions.push(decision('refused', `${detail}; the session ends`, null));
      events.log.push({ level: 'INFO', message: `open ${direction} ${vtSymbol} skipped: the session ends (${detail})`, context });
      return;
    }
    const permission = this.counters.check(product);
    if (!permission.allowed) {
      events.decisions.push(decision('refused', `${detail}; ${permission.reason}`, null));
      if (mode === 'live') {
        episode.used = true;
        this.refusedTotal++;
        events.log.push({ level: 'WARNING', message: `open ${direction} ${vtSymbol} refused: ${permission.reason}`, context });
      } else {
        events.log.push({ level: 'INFO', message: `open ${direction} ${vtSymbol} would be refused (${mode}): ${permission.reason}`, context });
      }
      return;
    }
    if (mode !== 'live') {
      this.suppress(events, decision('suppressed', `${detail}; mode ${mode}`, null));
      events.log.push({ level: 'INFO', message: `open ${direction} ${vtSymbol} suppressed (${mode}): ${detail}`, context });
      return;
    }
    const order = this.broker.submit({
      vtSymbol,
      side: long ? 'buy' : 'sell',
      offset: 'open',
      type: 'market',
      volume: this.config.orderVolume,
      time,
      tag: reason,
      bracket: this.config.stopLoss === null && this.config.takeProfit === null ? null : { stopLoss: this.config.stopLoss, takeProfit: this.config.takeProfit },
    });
    this.counters.record(product);
    episode.used = true;
    events.ordersSent.push(order);
    events.decisions.push(decision('sent', detail, order.id));
    events.log.push({ level: 'INFO', message: `open ${direction} ${vtSymbol}: ${detail}`, context: { ...context, orderId: order.id, opensToday: this.counters.opensToday() } });
  }

  private suppress(events: StrategyEvents, decision: Decision): void {
    this.suppressedTotal++;
    events.suppressed++;
    events.decisions.push(decision);
  }
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
  const timeOrNull = (k: 'lastMinuteTime' | 'lastWindowTime'): number | null => {
    const v = t[k];
    if (v === null) return null;
    assertFinite(v, `${where}.${k}`);
    return v;
  };
  const ageOrNull = (k: 'barsSinceBuyNine' | 'barsSinceSellNine'): number | null => {
    const v = t[k];
    if (v === null) return null;
    assertCount(v, `${where}.${k}`);
    return v;
  };
  return {
    lastMinuteTime: timeOrNull('lastMinuteTime'),
    lastWindowTime: timeOrNull('lastWindowTime'),
    barsSinceBuyNine: ageOrNull('barsSinceBuyNine'),
    barsSinceSellNine: ageOrNull('barsSinceSellNine'),
    bottom: checkedEpisode(t.bottom, `${where}.bottom`),
    top: checkedEpisode(t.top, `${where}.top`),
  };
}
