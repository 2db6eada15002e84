import type { OhlcvBar } from '../../shared/bar.js';
import { RETRY_REASONS, type RiskGateStateName } from '../../shared/risk.js';
import type { StrategyDisplay } from '../../shared/strategyDisplay.js';
import { AnalysisPipeline, type PipelineState } from '../analysisPipeline.js';
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
import { RiskGate, type AllocatorCheck, type RiskGateState } from '../risk/riskGate.js';
import type { WindowAnalysis } from '../signalEngine.js';
import { assertCount, assertFinite, assertObject, assertVersion } from '../state.js';
import { ActiveContracts, productOf, type ActiveContractsState } from './activeContract.js';
import { paramsHash } from './paramsHash.js';
import type {
  BoundStrategy,
  Decision,
  InstrumentBar,
  IntentOutcome,
  LogContextValue,
  OrderIntent,
  Strategy,
  StrategyAlert,
  StrategyContext,
  StrategyLogEntry,
  StrategyLogLevel,
  StrategyStateEnvelope,
  TradingMode,
} from './strategy.js';

/**
 * One variant's whole trading path: an AnalysisPipeline per instrument, the Strategy, the
 * RiskGate and the PaperBroker, driven one merged minute at a time. The worker (live and
 * restore replay) and a backtest run exactly this loop:
 *
 *   onMinuteBars(the bars of one minute, in vtSymbol order, mode):
 *     for each bar: the trading day rolls (gate counters, strategy.onTradingDayRoll); the
 *       broker fills what was sent before (strategy.onFill each); the session-end close;
 *       today's loss is checked (REDUCING);
 *     strategy.onMinuteBars(bars);
 *     for each bar: its pipeline takes it; a closed window goes to strategy.onWindowBar,
 *       whose intents pass the gate into the broker — they fill on the instrument's NEXT bar.
 *
 * The events object returned is reused by the next call (a bar that closes no window and fills
 * nothing allocates nothing): read it before calling again.
 */

export interface EngineEvents {
  fills: Fill[];
  ordersSent: Order[];
  /** Protective orders placed by the broker when entries filled. */
  ordersPlaced: Order[];
  cancelled: Order[];
  decisions: Decision[];
  /** Decisions suppressed by a freeze during this call. */
  suppressed: number;
  log: StrategyLogEntry[];
  /** The gate went REDUCING on this call (raise the ERROR alert). */
  reducingEntered: boolean;
  /** Alerts the strategy raised during this call. */
  alerts: StrategyAlert[];
}

export interface EngineOptions {
  /** Variant name: prefix of order and trade ids. */
  variant: string;
  windowMinutes: number;
  calendar?: TradingCalendar;
  /** Initial product → active contract. A product without one adopts the first vtSymbol fed. */
  activeContracts?: Record<string, string>;
  /** Sees every closed window bar (charts), after the strategy has. */
  onWindow?: (vtSymbol: string, analysis: WindowAnalysis) => void;
  allocator?: AllocatorCheck;
  /** The caller feeds closed windows itself (onWindowAnalysis): the pipelines do not run. Tests with hand-made analyses. */
  externalWindows?: boolean;
}

export interface EngineState {
  version: 1;
  strategy: string;
  /** paramsHash of the strategy name and its parameters when the state was taken. */
  paramsHash: string;
  variant: string;
  windowMinutes: number;
  /** vtSymbol → pipeline checkpoint. */
  pipelines: Record<string, PipelineState>;
  broker: PaperBrokerState;
  gate: RiskGateState;
  activeContracts: ActiveContractsState;
  /** vtSymbol → the last 1-minute bar taken. */
  lastMinutes: Record<string, number>;
  /** Equity (realised + unrealised) when the current trading day began. */
  dayStartEquity: number;
  recentTrades: TradeRow[];
  /** Decisions suppressed by a freeze since the variant began. */
  suppressedDecisions: number;
  strategyState: StrategyStateEnvelope;
}

export interface EnginePositionView {
  vtSymbol: string;
  direction: PositionDirection;
  volume: number;
  avgPrice: number;
  unrealizedPnl: number;
}

/** An order as the snapshot and the journal keep it. */
export interface EngineOrderView {
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

export function orderViewOf(o: Order): EngineOrderView {
  return { id: o.id, vtSymbol: o.vtSymbol, side: o.side, offset: o.offset, type: o.type, price: o.price, volume: o.volume, status: o.status, createdAt: o.createdAt };
}

/** What the worker puts into the variant's snapshot file. */
export interface EngineSnapshot {
  positions: EnginePositionView[];
  orders: EngineOrderView[];
  counters: Record<string, number>;
  pnl: { realized: number; unrealized: number; today: number };
  /** Oldest first, at most RECENT_TRADES. */
  recentTrades: TradeRow[];
  tradingDay: string | null;
  activeContracts: Record<string, string>;
  risk: RiskGateStateName;
}

export const RECENT_TRADES = 20;

export function brokerConfigOf(params: BoundStrategy['params'], variant: string): PaperBrokerConfig {
  return {
    idPrefix: variant,
    priceTick: params.priceTick,
    contractMultiplier: params.contractMultiplier,
    contracts: params.contracts,
    slippageTicks: params.slippageTicks,
    commission: params.commission,
  };
}

export class TradingEngine implements StrategyContext {
  readonly variant: string;
  readonly windowMinutes: number;
  readonly paramsHash: string;
  private readonly calendar: TradingCalendar;
  private strategyImpl: Strategy;
  private broker: PaperBroker;
  private gate: RiskGate;
  private contracts: ActiveContracts;
  private readonly pipelines = new Map<string, AnalysisPipeline>();
  private readonly lastMinutes = new Map<string, number>();
  private readonly externalWindows: boolean;
  private readonly onWindowHook: ((vtSymbol: string, analysis: WindowAnalysis) => void) | undefined;
  private dayStartEquity = 0;
  private recent: TradeRow[] = [];
  private suppressedTotal = 0;
  private dayCacheHour = Number.NaN;
  private dayCache = '';
  private readonly ev: EngineEvents = { fills: [], ordersSent: [], ordersPlaced: [], cancelled: [], decisions: [], suppressed: 0, log: [], reducingEntered: false, alerts: [] };
  private readonly accepted: InstrumentBar[] = [];
  private readonly single: InstrumentBar[] = [{ vtSymbol: '', bar: { time: 0, open: 0, high: 0, low: 0, close: 0, volume: 0, turnover: 0, openInterest: 0 } }];
  /** The call in progress. */
  private currentMode: TradingMode = 'restoring';
  private currentTime = 0;
  /** True while a bar already traded on rebuilds indicators: its windows skip the strategy. */
  private rebuilding = false;

  constructor(
    readonly bound: BoundStrategy,
    opts: EngineOptions,
  ) {
    this.variant = opts.variant;
    this.windowMinutes = opts.windowMinutes;
    this.paramsHash = TradingEngine.paramsHashOf(bound);
    this.calendar = opts.calendar ?? new TradingCalendar();
    this.onWindowHook = opts.onWindow;
    this.externalWindows = opts.externalWindows ?? false;
    this.strategyImpl = bound.create();
    this.broker = new PaperBroker(brokerConfigOf(bound.params, opts.variant));
    this.gate = new RiskGate(bound.params, this.calendar);
    if (opts.allocator) this.gate.setAllocator(opts.allocator);
    this.contracts = new ActiveContracts(opts.activeContracts ?? {});
  }

  /** The fingerprint stored with the state: a state saved under other parameters is noticed on load. */
  static paramsHashOf(bound: BoundStrategy): string {
    return paramsHash({ strategy: bound.name, params: bound.params });
  }

  get strategy(): Strategy {
    return this.strategyImpl;
  }

  get display(): StrategyDisplay {
    return this.bound.display;
  }

  // ------------------------------------------------------------ StrategyContext

  get time(): number {
    return this.currentTime;
  }

  get mode(): TradingMode {
    return this.currentMode;
  }

  get tradingDay(): string | null {
    return this.gate.tradingDay;
  }

  positions(): Position[] {
    return this.broker.positions();
  }

  position(vtSymbol: string, direction: PositionDirection): Position | null {
    return this.broker.position(vtSymbol, direction);
  }

  pendingOrders(): Order[] {
    return this.broker.pendingOrders();
  }

  closeable(vtSymbol: string, direction: PositionDirection): number {
    const pos = this.broker.position(vtSymbol, direction);
    if (pos === null) return 0;
    const side = closingSide(direction);
    let closing = 0;
    for (const o of this.broker.pendingOrders()) {
      if (o.vtSymbol === vtSymbol && o.offset === 'close' && o.side === side && o.parentId === null) closing += o.volume;
    }
    return Math.max(0, pos.volume - closing);
  }

  isActive(vtSymbol: string): boolean {
    return this.contracts.isActive(vtSymbol);
  }

  submit(intent: OrderIntent): IntentOutcome {
    const verdict = this.gate.check(intent, this.currentMode, this.currentTime, this.broker);
    const direction: PositionDirection = intent.offset === 'open' ? (intent.side === 'buy' ? 'long' : 'short') : intent.side === 'sell' ? 'long' : 'short';
    const base = { time: this.currentTime, vtSymbol: intent.vtSymbol, kind: intent.offset, direction, reason: intent.tag };
    const context = { vtSymbol: intent.vtSymbol, direction, reason: intent.tag, mode: this.currentMode };
    if (!verdict.passed) {
      const suppressed = RETRY_REASONS.has(verdict.reason);
      if (suppressed) {
        this.suppressedTotal++;
        this.ev.suppressed++;
      }
      this.ev.decisions.push({ ...base, outcome: suppressed ? 'suppressed' : 'refused', detail: `${intent.detail}; ${verdict.detail}`, orderId: null, refusal: verdict.reason });
      this.log(
        suppressed ? 'INFO' : 'WARNING',
        suppressed ? `${intent.offset} ${direction} ${intent.vtSymbol} suppressed (${this.currentMode}): ${intent.detail}` : `${intent.offset} ${direction} ${intent.vtSymbol} refused: ${verdict.detail}`,
        { ...context, refusal: verdict.reason },
      );
      return { passed: false, reason: verdict.reason, suppressed, detail: verdict.detail };
    }
    const order = this.send(intent);
    this.ev.decisions.push({ ...base, outcome: 'sent', detail: intent.detail, orderId: order.id, refusal: null });
    this.log('INFO', `${intent.offset} ${direction} ${intent.vtSymbol}: ${intent.detail}`, { ...context, orderId: order.id, opensToday: this.gate.opensToday() });
    return { passed: true, order };
  }

  cancel(orderId: string, reason: string): Order | null {
    const cancelled = this.broker.cancel(orderId, reason);
    if (cancelled !== null) this.ev.cancelled.push(cancelled);
    return cancelled;
  }

  alert(alert: StrategyAlert): void {
    this.ev.alerts.push(alert);
  }

  log(level: StrategyLogLevel, message: string, context: Record<string, LogContextValue> = {}): void {
    this.ev.log.push({ level, message, context });
  }

  // ------------------------------------------------------------ driving

  /** One 1-minute bar of one instrument (a one-instrument variant, a test). */
  onMinuteBar(vtSymbol: string, bar: OhlcvBar, mode: TradingMode): EngineEvents {
    const one = this.single[0] as InstrumentBar;
    one.vtSymbol = vtSymbol;
    one.bar = bar;
    return this.onMinuteBars(this.single, mode);
  }

  /** The bars of one minute, in vtSymbol order (see minuteMerge). */
  onMinuteBars(bars: readonly InstrumentBar[], mode: TradingMode): EngineEvents {
    this.resetEvents();
    this.currentMode = mode;
    const accepted = this.accepted;
    accepted.length = 0;
    for (let i = 0; i < bars.length; i++) {
      const ib = bars[i] as InstrumentBar;
      const { vtSymbol, bar } = ib;
      const last = this.lastMinutes.get(vtSymbol);
      if (last !== undefined && !(bar.time > last)) {
        if (this.externalWindows) continue;
        // Already traded on: it may only rebuild an indicator checkpoint that was dropped.
        this.rebuilding = true;
        try {
          this.pipelineOf(vtSymbol).pushMinute(bar);
        } finally {
          this.rebuilding = false;
        }
        continue;
      }
      if (last === undefined) this.adoptContract(vtSymbol);
      this.lastMinutes.set(vtSymbol, bar.time);
      this.currentTime = bar.time;
      this.rollDay(bar.time);
      const b = this.broker.onMinuteBar(vtSymbol, bar);
      if (b.fills.length > 0 || b.placed.length > 0 || b.cancelled.length > 0) {
        for (const fill of b.fills) this.recordFill(fill);
        this.ev.ordersPlaced.push(...b.placed);
        this.ev.cancelled.push(...b.cancelled);
        for (const fill of b.fills) this.strategyImpl.onFill(fill, this);
      }
      if (this.gate.limits.closeAtSessionEnd && this.gate.inClosingWindow(bar.time)) this.closeAll(vtSymbol, 'sessionEnd', 'the session ends');
      if (this.gate.limits.maxDailyLoss !== null) this.checkLoss();
      accepted.push(ib);
    }
    if (accepted.length === 0) return this.ev;
    this.strategyImpl.onMinuteBars(accepted, this);
    if (this.externalWindows) return this.ev;
    for (let i = 0; i < accepted.length; i++) {
      const { vtSymbol, bar } = accepted[i] as InstrumentBar;
      this.currentTime = bar.time;
      this.pipelineOf(vtSymbol).pushMinute(bar);
    }
    return this.ev;
  }

  /**
   * Feeds a window bar's analysis directly (tests, and a caller that has window bars only); the
   * worker never needs it: closed windows come from the pipelines.
   */
  onWindowAnalysis(vtSymbol: string, analysis: WindowAnalysis, mode: TradingMode): EngineEvents {
    this.resetEvents();
    this.currentMode = mode;
    this.currentTime = Math.max(this.lastMinutes.get(vtSymbol) ?? analysis.bar.time, analysis.bar.time);
    this.rollDay(this.currentTime);
    this.strategyImpl.onWindowBar(vtSymbol, analysis, this);
    return this.ev;
  }

  /**
   * Flatten (the emergency stop): cancels every pending order and sends a market close for every
   * open position; they fill at each instrument's next bar open. The caller halts the variant
   * first. Bypasses the gate: flattening is the gate's own act, and only reduces.
   */
  flatten(): EngineEvents {
    this.resetEvents();
    for (const o of this.broker.pendingOrders()) {
      const cancelled = this.broker.cancel(o.id, 'flatten');
      if (cancelled !== null) this.ev.cancelled.push(cancelled);
    }
    for (const p of this.broker.positions()) {
      const time = this.lastMinutes.get(p.vtSymbol) ?? this.currentTime;
      const order = this.broker.submit({ vtSymbol: p.vtSymbol, side: closingSide(p.direction), offset: 'close', type: 'market', volume: p.volume, time, tag: 'flatten' });
      this.ev.ordersSent.push(order);
      this.ev.decisions.push({ time, vtSymbol: p.vtSymbol, kind: 'close', direction: p.direction, reason: 'flatten', outcome: 'sent', detail: 'flatten', orderId: order.id, refusal: null });
      this.log('WARNING', `flatten: close ${p.direction} ${String(p.volume)} ${p.vtSymbol}`, { vtSymbol: p.vtSymbol, orderId: order.id });
    }
    return this.ev;
  }

  /** A graceful stop: the strategy may cancel what it re-places after a restart (see Strategy.onStop). */
  stop(): EngineEvents {
    this.resetEvents();
    this.strategyImpl.onStop?.(this);
    return this.ev;
  }

  /** The vtSymbol's pipeline, or null before its first bar. */
  pipeline(vtSymbol: string): AnalysisPipeline | null {
    return this.pipelines.get(vtSymbol) ?? null;
  }

  /** Instruments fed so far, sorted. */
  instruments(): string[] {
    return [...this.lastMinutes.keys()].sort();
  }

  lastMinuteOf(vtSymbol: string): number | null {
    return this.lastMinutes.get(vtSymbol) ?? null;
  }

  // ------------------------------------------------------------ contracts

  activeContract(product: string): string | null {
    return this.contracts.get(product);
  }

  setActiveContract(product: string, vtSymbol: string): boolean {
    return this.contracts.set(product, vtSymbol);
  }

  // ------------------------------------------------------------ reading

  opensToday(product?: string): number {
    return this.gate.opensToday(product);
  }

  riskState(mode: TradingMode): RiskGateStateName {
    return this.gate.stateIn(mode);
  }

  refusals(reason: Parameters<RiskGate['refusalCount']>[0]): number {
    return this.gate.refusalCount(reason);
  }

  get suppressedDecisions(): number {
    return this.suppressedTotal;
  }

  equity(): number {
    return this.broker.equity();
  }

  get realizedPnl(): number {
    return this.broker.realizedPnl;
  }

  /** The vtSymbols whose bars the variant needs: active contracts and any with a position or a pending order. */
  symbolsNeeded(): string[] {
    const set = new Set<string>(Object.values(this.contracts.entries()));
    for (const p of this.broker.positions()) set.add(p.vtSymbol);
    for (const o of this.broker.pendingOrders()) set.add(o.vtSymbol);
    return [...set].sort();
  }

  snapshot(mode: TradingMode = 'live'): EngineSnapshot {
    const gateState = this.gate.toState();
    const counters: Record<string, number> = {
      opensToday: this.gate.opensToday(),
      suppressedDecisions: this.suppressedTotal,
      refusedByLimit: this.gate.limitRefusals,
      trades: this.broker.tradeCount,
    };
    for (const [product, n] of Object.entries(gateState.counters.byProduct)) counters[`opensToday.${product}`] = n;
    for (const [reason, n] of Object.entries(gateState.refusals)) counters[`refused.${reason}`] = n;
    const equity = this.broker.equity();
    return {
      positions: this.broker.positions().map((p) => ({ vtSymbol: p.vtSymbol, direction: p.direction, volume: p.volume, avgPrice: p.avgPrice, unrealizedPnl: p.unrealizedPnl })),
      orders: this.broker.pendingOrders().map(orderViewOf),
      counters,
      pnl: { realized: this.broker.realizedPnl, unrealized: this.broker.unrealizedPnl(), today: equity - this.dayStartEquity },
      recentTrades: this.recent.map((t) => ({ ...t })),
      tradingDay: this.gate.tradingDay,
      activeContracts: this.contracts.entries(),
      risk: this.gate.stateIn(mode),
    };
  }

  // ------------------------------------------------------------ state

  toState(): EngineState {
    const pipelines: Record<string, PipelineState> = {};
    for (const key of [...this.pipelines.keys()].sort()) {
      const p = this.pipelines.get(key);
      if (p !== undefined) pipelines[key] = p.toState();
    }
    const lastMinutes: Record<string, number> = {};
    for (const key of [...this.lastMinutes.keys()].sort()) lastMinutes[key] = this.lastMinutes.get(key) ?? 0;
    return {
      version: 1,
      strategy: this.bound.name,
      paramsHash: this.paramsHash,
      variant: this.variant,
      windowMinutes: this.windowMinutes,
      pipelines,
      broker: this.broker.toState(),
      gate: this.gate.toState(),
      activeContracts: this.contracts.toState(),
      lastMinutes,
      dayStartEquity: this.dayStartEquity,
      recentTrades: this.recent.map((t) => ({ ...t })),
      suppressedDecisions: this.suppressedTotal,
      strategyState: this.strategyImpl.toState(),
    };
  }

  /**
   * Resumes from a state. A state saved under other parameters throws unless
   * `allowConfigChange`: then positions, orders and counters are kept, the strategy's own state
   * and the indicator checkpoints are dropped (the caller rebuilds them by replay).
   */
  static fromState(state: EngineState, bound: BoundStrategy, opts: EngineOptions & { allowConfigChange?: boolean }): TradingEngine {
    const what = 'trading engine state';
    assertObject(state, what);
    assertVersion(state, 1, what);
    const engine = new TradingEngine(bound, opts);
    if (state.strategy !== bound.name) throw new Error(`${what}: saved for strategy ${String(state.strategy)}, not ${bound.name}`);
    if (state.variant !== opts.variant) throw new Error(`${what}: saved for variant ${String(state.variant)}, not ${opts.variant}`);
    if (state.windowMinutes !== opts.windowMinutes) throw new Error(`${what}: saved for ${String(state.windowMinutes)}-minute windows, not ${String(opts.windowMinutes)}`);
    const same = state.paramsHash === engine.paramsHash;
    if (!same && opts.allowConfigChange !== true) {
      throw new Error(`${what} of ${opts.variant}: saved under other parameters (params hash ${String(state.paramsHash)}, config now ${engine.paramsHash})`);
    }
    engine.broker = PaperBroker.fromState(state.broker, brokerConfigOf(bound.params, opts.variant));
    engine.gate = RiskGate.fromState(state.gate, bound.params, engine.calendar);
    if (opts.allocator) engine.gate.setAllocator(opts.allocator);
    engine.contracts = ActiveContracts.fromState(state.activeContracts);
    assertObject(state.lastMinutes, `${what} lastMinutes`);
    for (const [vt, t] of Object.entries(state.lastMinutes)) {
      assertFinite(t, `${what} lastMinutes.${vt}`);
      if (same) engine.lastMinutes.set(vt, t);
    }
    assertFinite(state.dayStartEquity, `${what} dayStartEquity`);
    engine.dayStartEquity = state.dayStartEquity;
    if (!Array.isArray(state.recentTrades)) throw new Error(`${what} recentTrades: expected an array`);
    engine.recent = state.recentTrades.slice(-RECENT_TRADES).map((t) => ({ ...t }));
    assertCount(state.suppressedDecisions, `${what} suppressedDecisions`);
    engine.suppressedTotal = state.suppressedDecisions;
    if (same) {
      engine.strategyImpl = bound.restore(state.strategyState, `${what} strategyState`);
      assertObject(state.pipelines, `${what} pipelines`);
      for (const [vtSymbol, ps] of Object.entries(state.pipelines)) {
        engine.pipelines.set(vtSymbol, AnalysisPipeline.fromState(ps, { params: bound.signalParams, onWindow: engine.windowClosed(vtSymbol) }));
      }
    }
    return engine;
  }

  // ------------------------------------------------------------ inside

  private resetEvents(): void {
    const ev = this.ev;
    if (ev.fills.length > 0) ev.fills.length = 0;
    if (ev.ordersSent.length > 0) ev.ordersSent.length = 0;
    if (ev.ordersPlaced.length > 0) ev.ordersPlaced.length = 0;
    if (ev.cancelled.length > 0) ev.cancelled.length = 0;
    if (ev.decisions.length > 0) ev.decisions.length = 0;
    if (ev.log.length > 0) ev.log.length = 0;
    if (ev.alerts.length > 0) ev.alerts.length = 0;
    ev.suppressed = 0;
    ev.reducingEntered = false;
  }

  private pipelineOf(vtSymbol: string): AnalysisPipeline {
    let p = this.pipelines.get(vtSymbol);
    if (p === undefined) {
      p = new AnalysisPipeline({ windowMinutes: this.windowMinutes, params: this.bound.signalParams, onWindow: this.windowClosed(vtSymbol) });
      this.pipelines.set(vtSymbol, p);
    }
    return p;
  }

  private windowClosed(vtSymbol: string): (analysis: WindowAnalysis) => void {
    return (analysis) => {
      if (!this.rebuilding) this.strategyImpl.onWindowBar(vtSymbol, analysis, this);
      this.onWindowHook?.(vtSymbol, analysis);
    };
  }

  private adoptContract(vtSymbol: string): void {
    const product = productOf(vtSymbol);
    if (this.contracts.get(product) !== null) return;
    this.contracts.set(product, vtSymbol);
    this.log('INFO', `active contract of ${product}: ${vtSymbol} (first fed)`, { product, vtSymbol });
  }

  private rollDay(time: number): void {
    const hour = Math.floor(time / 3600);
    if (hour !== this.dayCacheHour) {
      this.dayCacheHour = hour;
      this.dayCache = this.calendar.tradingDay(time);
    }
    const day = this.dayCache;
    const previous = this.gate.tradingDay;
    if (!this.gate.rollTo(day)) return;
    this.dayStartEquity = this.broker.equity();
    this.log('INFO', `trading day ${day}: daily open counters reset`, { tradingDay: day, previous });
    this.strategyImpl.onTradingDayRoll(day, this);
  }

  private checkLoss(): void {
    const today = this.broker.equity() - this.dayStartEquity;
    if (!this.gate.checkLoss(today)) return;
    this.ev.reducingEntered = true;
    this.log('ERROR', `maximum daily loss passed (${today.toFixed(2)} against ${String(this.gate.limits.maxDailyLoss)}): REDUCING until the next trading day`, {
      todayPnl: today,
      maxDailyLoss: this.gate.limits.maxDailyLoss,
    });
  }

  /** Closes the vtSymbol's positions through the gate (session end: only freezes stop it). */
  private closeAll(vtSymbol: string, tag: string, detail: string): void {
    for (const direction of ['long', 'short'] as const) {
      const volume = this.closeable(vtSymbol, direction);
      if (volume > 0) this.submit({ vtSymbol, side: closingSide(direction), offset: 'close', type: 'market', volume, tag, detail });
    }
  }

  private send(intent: OrderIntent): Order {
    if (intent.offset === 'close') {
      // A close replaces the position's resting stop-loss / take-profit.
      for (const o of this.broker.pendingOrders()) {
        if (o.vtSymbol === intent.vtSymbol && o.parentId !== null && o.side === intent.side) {
          const cancelled = this.broker.cancel(o.id, `replaced by a ${intent.tag} close`);
          if (cancelled !== null) this.ev.cancelled.push(cancelled);
        }
      }
    }
    const order = this.broker.submit({
      vtSymbol: intent.vtSymbol,
      side: intent.side,
      offset: intent.offset,
      type: intent.type,
      price: intent.price ?? null,
      volume: intent.volume,
      time: this.currentTime,
      tag: intent.tag,
      bracket: intent.bracket ?? null,
    });
    if (intent.offset === 'open') this.gate.recordOpen(order);
    this.ev.ordersSent.push(order);
    return order;
  }

  private recordFill(fill: Fill): void {
    this.ev.fills.push(fill);
    const t = fill.trade;
    this.recent.push({ ...t });
    if (this.recent.length > RECENT_TRADES) this.recent.splice(0, this.recent.length - RECENT_TRADES);
    const what = t.role === 'stopLoss' ? 'stop-loss filled' : t.role === 'takeProfit' ? 'take-profit filled' : 'filled';
    this.log('INFO', `${what}: ${t.side} ${t.offset} ${String(t.volume)} ${t.vtSymbol} @ ${String(t.price)}`, {
      tradeId: t.id,
      orderId: t.orderId,
      price: t.price,
      volume: t.volume,
      commission: t.commission,
      pnl: t.pnl,
      tag: t.tag,
    });
  }
}

/** A copy of events that outlives the next call (tests that collect them). */
export function copyEvents(e: EngineEvents): EngineEvents {
  return {
    fills: [...e.fills],
    ordersSent: [...e.ordersSent],
    ordersPlaced: [...e.ordersPlaced],
    cancelled: [...e.cancelled],
    decisions: [...e.decisions],
    suppressed: e.suppressed,
    log: [...e.log],
    reducingEntered: e.reducingEntered,
    alerts: [...e.alerts],
  };
}

