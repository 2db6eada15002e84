import { RETRY_REASONS, RISK_REFUSAL_REASONS, type RiskGateStateName, type RiskLimits, type RiskRefusalReason } from '../../shared/risk.js';
import type { Order, Position, PositionDirection } from '../broker/paperBroker.js';
import type { TradingCalendar } from '../market/tradingCalendar.js';
import { assertCount, assertObject, assertVersion } from '../state.js';
import { DailyOpenCounters, type DailyOpenCountersState } from '../strategy/tradingDay.js';
import { productOf } from '../../shared/bar.js';
import type { OrderIntent, TradingMode } from '../strategy/strategy.js';

/**
 * The risk gate (DOMAIN.md "Risk gate"; nautilus_trader's RiskEngine): every order intent of
 * every strategy passes here before the broker sees it. It owns the daily open counters, the
 * REDUCING state of a day that lost more than `maxDailyLoss`, the per-reason refusal counters
 * and the seam where the fund allocator plugs in.
 *
 * Order of the rules (the first that fails names the refusal): the freezes — halted (kill
 * switch), restoring, degraded — then, for opening intents only: reducing, session end, daily
 * open limit per product, global, max position per instrument, the allocator. An intent that
 * closes a position passes every rule but the freezes: reducing risk is never refused.
 */

export type GateDecision = { passed: true } | { passed: false; reason: RiskRefusalReason; detail: string };

/**
 * The allocator seam (DOMAIN.md "Grid trader and the global fund allocator"). Synchronous on
 * purpose: the authority lives in the main process, but the gate runs inside a bar's
 * processing, which must not wait on IPC. A worker answers from a grant cached from main (a
 * reservation per symbol that main hands out ahead and tops up over IPC); a backtest plugs the
 * allocator in-process. `reserve` is called once the gate passed an open, so the cached grant
 * shrinks before the next intent is checked (check-and-reserve, atomic within the worker).
 */
export interface AllocatorCheck {
  /** `pending`: the answer is on its way (the buy is held, tried again on a later bar), not a denial. */
  check(intent: OrderIntent, price: number | null): { allowed: true } | { allowed: false; reason: string; pending?: boolean };
  reserve(order: Order): void;
}

/** What the gate reads of the book. */
export interface GateBook {
  position(vtSymbol: string, direction: PositionDirection): Position | null;
  pendingOrders(): readonly Order[];
  lastPrice(vtSymbol: string): number | null;
}

export interface RiskGateState {
  version: 1;
  counters: DailyOpenCountersState;
  /** The trading day in REDUCING, or null. */
  reducingDay: string | null;
  /** reason → refusals since the variant began (freezes included). */
  refusals: Partial<Record<RiskRefusalReason, number>>;
}

/** A session end counts for closeAtSessionEnd from this long before it: the last two minutes. */
const SESSION_END_LEAD_SECONDS = 120;

export class RiskGate {
  private counters: DailyOpenCounters;
  private reducingDay: string | null = null;
  private readonly refusals = new Map<RiskRefusalReason, number>();
  private allocator: AllocatorCheck | null = null;

  constructor(
    readonly limits: Readonly<RiskLimits>,
    private readonly calendar: TradingCalendar,
  ) {
    this.counters = new DailyOpenCounters({ perProduct: limits.maxDailyOpenPerProduct, global: limits.maxDailyOpenGlobal });
  }

  /** Plugs the fund allocator in (null: no allocator rule). */
  setAllocator(allocator: AllocatorCheck | null): void {
    this.allocator = allocator;
  }

  get tradingDay(): string | null {
    return this.counters.tradingDay;
  }

  opensToday(product?: string): number {
    return this.counters.opensToday(product);
  }

  opensByProduct(): Record<string, number> {
    return this.counters.toState().byProduct;
  }

  /** The gate's state in `mode`: HALTED while the kill switch is on. */
  stateIn(mode: TradingMode): RiskGateStateName {
    if (mode === 'halted') return 'HALTED';
    return this.reducingDay !== null ? 'REDUCING' : 'ACTIVE';
  }

  get reducing(): boolean {
    return this.reducingDay !== null;
  }

  /** A new trading day: counters to 0, REDUCING left. Returns whether the day changed. */
  rollTo(tradingDay: string): boolean {
    if (!this.counters.rollTo(tradingDay)) return false;
    this.reducingDay = null;
    return true;
  }

  /**
   * Today's PnL (realised + unrealised since the day began); returns true when this call put the
   * gate into REDUCING (the caller raises the ERROR alert once).
   */
  checkLoss(todayPnl: number): boolean {
    const limit = this.limits.maxDailyLoss;
    if (limit === null || this.reducingDay !== null || !(todayPnl < -limit)) return false;
    this.reducingDay = this.counters.tradingDay ?? '';
    return true;
  }

  /** Whether `time` is in the last minutes before a session end followed by a long pause. */
  inClosingWindow(time: number): boolean {
    const end = this.calendar.sessionEndsAt(time);
    if (end === null || time < end - SESSION_END_LEAD_SECONDS) return false;
    const pause = this.calendar.firstOpenMinuteAtOrAfter(end) - end;
    return pause >= this.limits.sessionEndMinPauseMinutes * 60;
  }

  check(intent: OrderIntent, mode: TradingMode, time: number, book: GateBook): GateDecision {
    if (mode !== 'live') return this.refuse(mode, `mode ${mode}`);
    if (intent.offset === 'close') return { passed: true };
    const product = productOf(intent.vtSymbol);
    if (this.reducingDay !== null) return this.refuse('reducing', `the day's loss passed ${String(this.limits.maxDailyLoss)}: only reducing orders pass until the next trading day`);
    if (this.limits.closeAtSessionEnd && this.inClosingWindow(time)) return this.refuse('sessionEnd', 'the session ends');
    const permission = this.counters.check(product);
    if (!permission.allowed) {
      const own = this.counters.opensToday(product) >= this.limits.maxDailyOpenPerProduct;
      return this.refuse(own ? 'dailyOpenLimitProduct' : 'dailyOpenLimitGlobal', permission.reason);
    }
    const max = this.limits.maxPositionPerInstrument;
    if (max !== null) {
      const direction: PositionDirection = intent.side === 'buy' ? 'long' : 'short';
      let held = this.book(book, intent.vtSymbol, direction);
      held += intent.volume;
      if (held > max) return this.refuse('maxPosition', `max position per instrument: ${String(held)} lots ${direction} ${intent.vtSymbol} would pass ${String(max)}`);
    }
    if (this.allocator !== null) {
      const answer = this.allocator.check(intent, intent.price ?? book.lastPrice(intent.vtSymbol));
      if (!answer.allowed) return this.refuse(answer.pending === true ? 'awaitingAllocation' : 'allocator', `allocator: ${answer.reason}`);
    }
    return { passed: true };
  }

  /** An open the gate passed became an order: count it against today's limits and the allocation. */
  recordOpen(order: Order): void {
    this.counters.record(productOf(order.vtSymbol));
    this.allocator?.reserve(order);
  }

  private book(book: GateBook, vtSymbol: string, direction: PositionDirection): number {
    let lots = book.position(vtSymbol, direction)?.volume ?? 0;
    const side = direction === 'long' ? 'buy' : 'sell';
    for (const o of book.pendingOrders()) if (o.vtSymbol === vtSymbol && o.offset === 'open' && o.side === side) lots += o.volume;
    return lots;
  }

  private refuse(reason: RiskRefusalReason, detail: string): GateDecision {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
    return { passed: false, reason, detail };
  }

  refusalCount(reason: RiskRefusalReason): number {
    return this.refusals.get(reason) ?? 0;
  }

  /** Refusals by a limit (freezes and held buys left out). */
  get limitRefusals(): number {
    let n = 0;
    for (const [reason, count] of this.refusals) if (!RETRY_REASONS.has(reason)) n += count;
    return n;
  }

  toState(): RiskGateState {
    const refusals: Partial<Record<RiskRefusalReason, number>> = {};
    for (const reason of RISK_REFUSAL_REASONS) {
      const n = this.refusals.get(reason);
      if (n !== undefined) refusals[reason] = n;
    }
    return { version: 1, counters: this.counters.toState(), reducingDay: this.reducingDay, refusals };
  }

  static fromState(state: RiskGateState, limits: RiskLimits, calendar: TradingCalendar): RiskGate {
    const what = 'risk gate state';
    assertObject(state, what);
    assertVersion(state, 1, what);
    const gate = new RiskGate(limits, calendar);
    gate.counters = DailyOpenCounters.fromState(state.counters, gate.counters.limits);
    if (state.reducingDay !== null && typeof state.reducingDay !== 'string') throw new Error(`${what} reducingDay: expected a day or null`);
    gate.reducingDay = state.reducingDay;
    assertObject(state.refusals, `${what} refusals`);
    for (const [reason, n] of Object.entries(state.refusals)) {
      if (!(RISK_REFUSAL_REASONS as readonly string[]).includes(reason)) throw new Error(`${what} refusals.${reason}: not a refusal reason`);
      assertCount(n, `${what} refusals.${reason}`);
      gate.refusals.set(reason as RiskRefusalReason, n);
    }
    return gate;
  }
}
