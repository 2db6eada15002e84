import { productOf, type OhlcvBar } from '../../shared/bar.js';
import { pendingRollSchema, type PendingRoll, type RollPolicy } from '../../shared/contractRoll.js';
import { RETRY_REASONS, type RiskGateStateName } from '../../shared/risk.js';
import type { StrategyDisplay } from '../../shared/strategyDisplay.js';
import { AnalysisPipeline, type PipelineState } from '../analysisPipeline.js';
import { barAt, type BarRows } from '../backtest/columnarBars.js';
import {
  PaperBroker,
  closingSide,
  type Bracket,
  type BrokerBarEvents,
  type BrokerInstrument,
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
import { ActiveContracts, type ActiveContractsState } from './activeContract.js';
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
 * The events object returned is reused by the next call: read it before calling again.
 *
 * The hot path (DOMAIN.md's 10 M bars/s): each instrument's per-bar state (last minute, its
 * pipeline, the broker's record of it) is one EngineInstrument found once per bar — or held by
 * the caller of `onMinuteRows`, the columnar path a backtest drives from typed-array columns. A
 * bar that closes no window and on which nothing fills allocates nothing: no bar object is built
 * unless an order trades on it or the strategy reads minute bars (`Strategy.ignoresMinuteBars`),
 * no Map is consulted, and the trading day is recomputed once per hour of bars.
 */

/** One instrument as the engine tracks it; `TradingEngine.instrument(vtSymbol)` hands it out. */
export class EngineInstrument {
  /** False until the instrument's first bar was taken. */
  fed = false;
  /** The last 1-minute bar taken (valid once fed). */
  lastMinute = 0;
  pipeline: AnalysisPipeline | null = null;
  constructor(
    readonly vtSymbol: string,
    readonly book: BrokerInstrument,
  ) {}
}

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
  /** Rolls whose orders a freeze held back (absent in states saved before rolls existed). */
  pendingRolls?: PendingRoll[];
}

/** A contract roll the worker decided at a trading day's first bar (see contractRoll.ts). */
export interface ContractRollPlan {
  product: string;
  to: string;
  policy: RollPolicy;
  tradingDay: string;
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
  pendingRolls: PendingRoll[];
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
  private readonly slots = new Map<string, EngineInstrument>();
  /** The slot of the last lookup: a one-instrument feed never reaches the Map. */
  private lastSlot: EngineInstrument | null = null;
  private readonly externalWindows: boolean;
  private readonly onWindowHook: ((vtSymbol: string, analysis: WindowAnalysis) => void) | undefined;
  private dayStartEquity = 0;
  private recent: TradeRow[] = [];
  private suppressedTotal = 0;
  private pendingRollList: PendingRoll[] = [];
  private dayCacheHour = Number.NaN;
  private dayCache = '';
  private readonly ev: EngineEvents = { fills: [], ordersSent: [], ordersPlaced: [], cancelled: [], decisions: [], suppressed: 0, log: [], reducingEntered: false, alerts: [] };
  private readonly accepted: InstrumentBar[] = [];
  private readonly acceptedSlots: EngineInstrument[] = [];
  private readonly acceptedRows: number[] = [];
  /** Scratch bars of the columnar path, one per instrument of a minute, refilled in place. */
  private readonly rowBars: OhlcvBar[] = [emptyBar()];
  private readonly single: InstrumentBar[] = [{ vtSymbol: '', bar: { time: 0, open: 0, high: 0, low: 0, close: 0, volume: 0, turnover: 0, openInterest: 0 } }];
  /** The call in progress. */
  private currentMode: TradingMode = 'restoring';
  private currentTime = 0;
  /** The session-end close or the daily loss limit is on: each bar checks them. */
  private readonly checksPerBar: boolean;
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
    this.checksPerBar = bound.params.closeAtSessionEnd || bound.params.maxDailyLoss !== null;
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
    const held = this.broker.openVolume(vtSymbol, direction);
    if (held === 0) return 0;
    const side = closingSide(direction);
    let closing = 0;
    const pending = this.broker.pendingView();
    for (let i = 0; i < pending.length; i++) {
      const o = pending[i] as Order;
      if (o.vtSymbol === vtSymbol && o.offset === 'close' && o.side === side && o.parentId === null) closing += o.volume;
    }
    return Math.max(0, held - closing);
  }

  isActive(vtSymbol: string): boolean {
    return this.contracts.isActive(vtSymbol);
  }

  submit(intent: OrderIntent): IntentOutcome {
    const verdict = this.gate.check(intent, this.currentMode, this.currentTime, this.broker);
    const direction: PositionDirection = intent.offset === 'open' ? (intent.side === 'buy' ? 'long' : 'short') : intent.side === 'sell' ? 'long' : 'short';
    const { vtSymbol, tag, offset } = intent;
    const time = this.currentTime;
    const mode = this.currentMode;
    // Decision and log context written out field by field (same keys, same order as ever): object
    // spreads cost more than the rest of an intent's path.
    if (!verdict.passed) {
      const suppressed = RETRY_REASONS.has(verdict.reason);
      if (suppressed) {
        this.suppressedTotal++;
        this.ev.suppressed++;
      }
      const refusal = verdict.reason;
      this.ev.decisions.push({ time, vtSymbol, kind: offset, direction, reason: tag, outcome: suppressed ? 'suppressed' : 'refused', detail: `${intent.detail}; ${verdict.detail}`, orderId: null, refusal });
      this.log(
        suppressed ? 'INFO' : 'WARNING',
        suppressed ? `${offset} ${direction} ${vtSymbol} suppressed (${mode}): ${intent.detail}` : `${offset} ${direction} ${vtSymbol} refused: ${verdict.detail}`,
        { vtSymbol, direction, reason: tag, mode, refusal },
      );
      return { passed: false, reason: refusal, suppressed, detail: verdict.detail };
    }
    const order = this.send(intent);
    this.ev.decisions.push({ time, vtSymbol, kind: offset, direction, reason: tag, outcome: 'sent', detail: intent.detail, orderId: order.id, refusal: null });
    this.log('INFO', `${offset} ${direction} ${vtSymbol}: ${intent.detail}`, { vtSymbol, direction, reason: tag, mode, orderId: order.id, opensToday: this.gate.opensToday() });
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
    // One instrument, or one bar in this minute: no group bookkeeping. (Kept small: V8 inlines it.)
    if (bars.length === 1) return this.onOneBar(bars[0] as InstrumentBar);
    return this.onBarGroup(bars);
  }

  private onOneBar(ib: InstrumentBar): EngineEvents {
    const bar = ib.bar;
    const inst = this.slot(ib.vtSymbol);
    if (!this.take(inst, bar)) return this.ev;
    if (this.strategyImpl.ignoresMinuteBars !== true) this.minuteBarsToStrategy(ib);
    if (!this.externalWindows) this.pushWindow(inst, bar);
    return this.ev;
  }

  private minuteBarsToStrategy(ib: InstrumentBar): void {
    const accepted = this.accepted;
    if (accepted.length !== 1) accepted.length = 1;
    accepted[0] = ib;
    this.strategyImpl.onMinuteBars(accepted, this);
  }

  // The group paths keep their scratch arrays' capacity: `length = 0` would drop the backing
  // store and the next push would allocate a new one, every minute.
  private onBarGroup(bars: readonly InstrumentBar[]): EngineEvents {
    const slots = this.acceptedSlots;
    const taken = this.acceptedRows;
    let n = 0;
    for (let i = 0; i < bars.length; i++) {
      const ib = bars[i] as InstrumentBar;
      const inst = this.slot(ib.vtSymbol);
      if (!this.take(inst, ib.bar)) continue;
      slots[n] = inst;
      taken[n] = i;
      n++;
    }
    if (n === 0) return this.ev;
    if (this.strategyImpl.ignoresMinuteBars !== true) {
      const accepted = this.accepted;
      if (accepted.length !== n) accepted.length = n;
      for (let j = 0; j < n; j++) accepted[j] = bars[taken[j] as number] as InstrumentBar;
      this.strategyImpl.onMinuteBars(accepted, this);
    }
    if (this.externalWindows) return this.ev;
    for (let j = 0; j < n; j++) this.pushWindow(slots[j] as EngineInstrument, (bars[taken[j] as number] as InstrumentBar).bar);
    return this.ev;
  }

  /** The instrument's handle for `onMinuteRows` (created on first use; it stays valid for this engine). */
  instrument(vtSymbol: string): EngineInstrument {
    return this.slot(vtSymbol);
  }

  /**
   * The columnar path (backtests): the bars of one minute, given as rows of typed-array columns —
   * instrument k's bar is row `rows[k]` of `columns[k]`, for k < count, in vtSymbol order. Exactly
   * `onMinuteBars` on those bars, but no bar object is built for a bar on which nothing trades
   * (unless the strategy reads minute bars).
   */
  onMinuteRows(instruments: readonly EngineInstrument[], columns: readonly BarRows[], rows: ArrayLike<number>, count: number, mode: TradingMode): EngineEvents {
    this.resetEvents();
    this.currentMode = mode;
    if (count === 1) {
      const inst = instruments[0] as EngineInstrument;
      const c = columns[0] as BarRows;
      const i = rows[0] as number;
      // The engine's own scratch bar: filled in place, read during this call only, never kept.
      const bar = loadRow(this.rowBars[0] as OhlcvBar, c, i);
      if (!this.take(inst, bar)) return this.ev;
      if (this.strategyImpl.ignoresMinuteBars !== true) {
        const accepted = this.accepted;
        if (accepted.length !== 1) accepted.length = 1;
        accepted[0] = { vtSymbol: inst.vtSymbol, bar: barAt(c, i) };
        this.strategyImpl.onMinuteBars(accepted, this);
      }
      if (!this.externalWindows) this.pushWindow(inst, bar);
      return this.ev;
    }
    const slots = this.acceptedSlots;
    const taken = this.acceptedRows;
    const scratch = this.rowBars;
    while (scratch.length < count) scratch.push(emptyBar());
    let n = 0;
    for (let k = 0; k < count; k++) {
      const bar = loadRow(scratch[k] as OhlcvBar, columns[k] as BarRows, rows[k] as number);
      const inst = instruments[k] as EngineInstrument;
      if (!this.take(inst, bar)) continue;
      slots[n] = inst;
      taken[n] = k;
      n++;
    }
    if (n === 0) return this.ev;
    if (this.strategyImpl.ignoresMinuteBars !== true) {
      const accepted = this.accepted;
      if (accepted.length !== n) accepted.length = n;
      for (let j = 0; j < n; j++) {
        const k = taken[j] as number;
        accepted[j] = { vtSymbol: (slots[j] as EngineInstrument).vtSymbol, bar: barAt(columns[k] as BarRows, rows[k] as number) };
      }
      this.strategyImpl.onMinuteBars(accepted, this);
    }
    if (this.externalWindows) return this.ev;
    for (let j = 0; j < n; j++) this.pushWindow(slots[j] as EngineInstrument, scratch[taken[j] as number] as OhlcvBar);
    return this.ev;
  }

  /**
   * Feeds a window bar's analysis directly (tests, and a caller that has window bars only); the
   * worker never needs it: closed windows come from the pipelines.
   */
  onWindowAnalysis(vtSymbol: string, analysis: WindowAnalysis, mode: TradingMode): EngineEvents {
    this.resetEvents();
    this.currentMode = mode;
    this.currentTime = Math.max(this.lastMinuteOf(vtSymbol) ?? analysis.bar.time, analysis.bar.time);
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
      const time = this.lastMinuteOf(p.vtSymbol) ?? this.currentTime;
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
    return this.slots.get(vtSymbol)?.pipeline ?? null;
  }

  /** Instruments fed so far, sorted. */
  instruments(): string[] {
    const fed: string[] = [];
    for (const inst of this.slots.values()) if (inst.fed) fed.push(inst.vtSymbol);
    return fed.sort();
  }

  lastMinuteOf(vtSymbol: string): number | null {
    const inst = this.slots.get(vtSymbol);
    return inst !== undefined && inst.fed ? inst.lastMinute : null;
  }

  // ------------------------------------------------------------ contracts

  activeContract(product: string): string | null {
    return this.contracts.get(product);
  }

  setActiveContract(product: string, vtSymbol: string): boolean {
    return this.contracts.set(product, vtSymbol);
  }

  /** Rolls decided while frozen whose orders are still to be sent. */
  get pendingRolls(): readonly PendingRoll[] {
    return this.pendingRollList;
  }

  /**
   * A contract roll, called by the worker right after a trading day's first minute went through
   * onMinuteBars (so the day's counters are reset and that bar's fills are in). The product's
   * active contract becomes `to` (new opens go there); pending opens on the old contract are
   * cancelled; then, by policy, `keep` leaves the position on the old contract, `close` closes
   * it and `move` also opens the same direction and size on `to` (carrying the stop-loss and
   * take-profit distances). The intents are tagged `roll` and pass the risk gate; their orders
   * fill at each instrument's next bar open. A freeze (halted, degraded) holds them back: the
   * roll waits in `pendingRolls` (state) until `resumeRolls` in live mode.
   */
  rollContract(plan: ContractRollPlan, mode: TradingMode): EngineEvents {
    this.resetEvents();
    this.currentMode = mode;
    const from = this.contracts.get(plan.product);
    if (from === null || from === plan.to) return this.ev;
    this.contracts.set(plan.product, plan.to);
    this.currentTime = Math.max(this.currentTime, this.lastMinuteOf(from) ?? 0);
    this.log('INFO', `contract roll: ${plan.product} ${from} → ${plan.to} (${plan.policy})`, { product: plan.product, from, to: plan.to, policy: plan.policy, tradingDay: plan.tradingDay });
    for (const o of this.broker.pendingOrders()) {
      if (o.vtSymbol !== from || o.offset !== 'open' || o.parentId !== null) continue;
      const cancelled = this.broker.cancel(o.id, `contract roll to ${plan.to}`);
      if (cancelled !== null) this.ev.cancelled.push(cancelled);
    }
    const roll: PendingRoll = { product: plan.product, from, to: plan.to, tradingDay: plan.tradingDay, policy: plan.policy };
    if (roll.policy !== 'keep' && !this.sendRoll(roll)) this.pendingRollList.push(roll);
    return this.ev;
  }

  /** Sends the orders of rolls a freeze held back (the worker calls it when trading resumes). */
  resumeRolls(mode: TradingMode): EngineEvents {
    this.resetEvents();
    this.currentMode = mode;
    const waiting = this.pendingRollList.splice(0);
    for (const roll of waiting) {
      this.currentTime = Math.max(this.currentTime, this.lastMinuteOf(roll.from) ?? 0, this.lastMinuteOf(roll.to) ?? 0);
      if (!this.sendRoll(roll)) this.pendingRollList.push(roll);
    }
    return this.ev;
  }

  /**
   * Builds a contract's indicators from its history without trading on it (a contract the
   * variant starts following at a roll): the bars go through its pipeline only, and it takes
   * bars after the last of them.
   */
  warmUp(vtSymbol: string, bars: readonly OhlcvBar[]): void {
    const inst = this.slot(vtSymbol);
    const last = inst.fed ? inst.lastMinute : Number.NEGATIVE_INFINITY;
    const pipeline = this.pipelineOf(inst);
    this.rebuilding = true;
    try {
      for (const bar of bars) if (bar.time > last) pipeline.pushMinute(bar);
    } finally {
      this.rebuilding = false;
    }
    const newest = bars[bars.length - 1];
    if (newest !== undefined && newest.time > last) {
      inst.fed = true;
      inst.lastMinute = newest.time;
    }
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
      pendingRolls: this.pendingRollList.map((r) => ({ ...r })),
      risk: this.gate.stateIn(mode),
    };
  }

  // ------------------------------------------------------------ state

  toState(): EngineState {
    const pipelines: Record<string, PipelineState> = {};
    const lastMinutes: Record<string, number> = {};
    for (const key of [...this.slots.keys()].sort()) {
      const inst = this.slots.get(key) as EngineInstrument;
      if (inst.pipeline !== null) pipelines[key] = inst.pipeline.toState();
    }
    for (const key of this.instruments()) lastMinutes[key] = (this.slots.get(key) as EngineInstrument).lastMinute;
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
      pendingRolls: this.pendingRollList.map((r) => ({ ...r })),
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
    if (state.pendingRolls !== undefined) {
      if (!Array.isArray(state.pendingRolls)) throw new Error(`${what} pendingRolls: expected an array`);
      engine.pendingRollList = state.pendingRolls.map((r, i) => {
        const parsed = pendingRollSchema.safeParse(r);
        if (!parsed.success) throw new Error(`${what} pendingRolls[${String(i)}]: ${parsed.error.issues.map((e) => `${e.path.join('.')} ${e.message}`).join('; ')}`);
        return parsed.data;
      });
    }
    assertObject(state.lastMinutes, `${what} lastMinutes`);
    for (const [vt, t] of Object.entries(state.lastMinutes)) {
      assertFinite(t, `${what} lastMinutes.${vt}`);
      if (same) {
        const inst = engine.slot(vt);
        inst.fed = true;
        inst.lastMinute = t;
      }
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
        engine.slot(vtSymbol).pipeline = AnalysisPipeline.fromState(ps, { params: bound.signalParams, onWindow: engine.windowClosed(vtSymbol) });
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

  private slot(vtSymbol: string): EngineInstrument {
    const last = this.lastSlot;
    if (last !== null && last.vtSymbol === vtSymbol) return last;
    let inst = this.slots.get(vtSymbol);
    if (inst === undefined) {
      inst = new EngineInstrument(vtSymbol, this.broker.instrument(vtSymbol));
      this.slots.set(vtSymbol, inst);
    }
    this.lastSlot = inst;
    return inst;
  }

  private pipelineOf(inst: EngineInstrument): AnalysisPipeline {
    let p = inst.pipeline;
    if (p === null) {
      p = new AnalysisPipeline({ windowMinutes: this.windowMinutes, params: this.bound.signalParams, onWindow: this.windowClosed(inst.vtSymbol) });
      inst.pipeline = p;
    }
    return p;
  }

  /**
   * The first half of a minute for one bar: the day rolls, the broker fills, the session-end close
   * and the loss check run. False when the bar was already traded on (it only rebuilt an indicator
   * checkpoint that was dropped). The bar is read during the call only.
   */
  private take(inst: EngineInstrument, bar: OhlcvBar): boolean {
    // The bar's values are read here, not passed in: doubles passed to a call that V8 does not
    // inline are boxed, one allocation each.
    const time = bar.time;
    if (inst.fed && !(time > inst.lastMinute)) {
      if (!this.externalWindows) this.rebuild(inst, bar);
      return false;
    }
    if (!inst.fed) this.firstBar(inst);
    inst.lastMinute = time;
    this.currentTime = time;
    // Trading days change on whole hours (the roll hour, midnight): within one hour of bars the
    // day is the one already tried, and rollTo(a day tried before) changes nothing.
    if (Math.floor(time / 3600) !== this.dayCacheHour) this.rollDay(time);
    const b = this.broker.onMinuteBarOf(inst.book, bar);
    if (b.fills.length > 0 || b.placed.length > 0 || b.cancelled.length > 0) this.brokerActed(b);
    if (this.checksPerBar) this.perBarLimits(inst, time);
    return true;
  }

  private firstBar(inst: EngineInstrument): void {
    inst.fed = true;
    this.adoptContract(inst.vtSymbol);
  }

  private brokerActed(b: BrokerBarEvents): void {
    for (const fill of b.fills) this.recordFill(fill);
    this.ev.ordersPlaced.push(...b.placed);
    this.ev.cancelled.push(...b.cancelled);
    for (const fill of b.fills) this.strategyImpl.onFill(fill, this);
  }

  /** The gate's per-bar rules, when configured: the session-end close, the day's loss. */
  private perBarLimits(inst: EngineInstrument, time: number): void {
    const limits = this.gate.limits;
    if (limits.closeAtSessionEnd && this.broker.hasPositions && this.gate.inClosingWindow(time)) this.closeAll(inst.vtSymbol, 'sessionEnd', 'the session ends');
    if (limits.maxDailyLoss !== null) this.checkLoss();
  }

  /** A bar already traded on rebuilds its instrument's dropped indicator checkpoint: its windows skip the strategy. */
  private rebuild(inst: EngineInstrument, bar: OhlcvBar): void {
    this.rebuilding = true;
    try {
      this.pipelineOf(inst).pushMinute(bar);
    } finally {
      this.rebuilding = false;
    }
  }

  /** The second half: the bar enters its instrument's pipeline; a closed window reaches the strategy. */
  private pushWindow(inst: EngineInstrument, bar: OhlcvBar): void {
    const p = inst.pipeline ?? this.pipelineOf(inst);
    this.currentTime = bar.time;
    p.pushMinute(bar);
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
    if (hour === this.dayCacheHour) return;
    this.dayCacheHour = hour;
    this.dayCache = this.calendar.tradingDay(time);
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

  /**
   * The roll's orders: a market close of each direction held on the old contract and, for
   * `move`, an open of the same direction and size on the new one. False when a freeze held
   * them back (closes pass every rule but the freezes, so the roll is then untouched). An open
   * refused by a limit leaves the position closed; the refusal is alerted like any other.
   */
  private sendRoll(roll: PendingRoll): boolean {
    const detail = `contract roll ${roll.from} → ${roll.to}`;
    for (const direction of ['long', 'short'] as const) {
      const volume = this.closeable(roll.from, direction);
      if (volume === 0) continue;
      const bracket = roll.policy === 'move' ? this.bracketOf(roll.from, direction) : null;
      const closed = this.submit({ vtSymbol: roll.from, side: closingSide(direction), offset: 'close', type: 'market', volume, tag: 'roll', detail });
      if (!closed.passed) {
        if (closed.suppressed) return false;
        continue;
      }
      if (roll.policy === 'move') this.submit({ vtSymbol: roll.to, side: direction === 'long' ? 'buy' : 'sell', offset: 'open', type: 'market', volume, tag: 'roll', detail, bracket });
    }
    return true;
  }

  /** The position's resting stop-loss / take-profit as distances in ticks from its average price. */
  private bracketOf(vtSymbol: string, direction: PositionDirection): Bracket | null {
    const pos = this.broker.position(vtSymbol, direction);
    if (pos === null) return null;
    const tick = this.broker.specOf(vtSymbol).priceTick;
    const side = closingSide(direction);
    const bracket: Bracket = { stopLoss: null, takeProfit: null };
    for (const o of this.broker.pendingOrders()) {
      if (o.vtSymbol !== vtSymbol || o.parentId === null || o.side !== side || o.price === null || o.role === null) continue;
      bracket[o.role] = { unit: 'ticks', value: Math.max(1, Math.round(Math.abs(o.price - pos.avgPrice) / tick)) };
    }
    return bracket.stopLoss === null && bracket.takeProfit === null ? null : bracket;
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

function emptyBar(): OhlcvBar {
  return { time: 0, open: 0, high: 0, low: 0, close: 0, volume: 0, turnover: 0, openInterest: 0 };
}

/** Copies row i of the columns into `bar` (no allocation) and returns it. */
function loadRow(bar: OhlcvBar, c: BarRows, i: number): OhlcvBar {
  bar.time = c.time[i] as number;
  bar.open = c.open[i] as number;
  bar.high = c.high[i] as number;
  bar.low = c.low[i] as number;
  bar.close = c.close[i] as number;
  bar.volume = c.volume[i] as number;
  bar.turnover = c.turnover[i] as number;
  bar.openInterest = c.openInterest[i] as number;
  return bar;
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

