import type { Order } from '../core/broker/paperBroker.js';
import type { EngineEvents, TradingEngine } from '../core/strategy/engine.js';
import type { AllocatorCheck } from '../core/risk/riskGate.js';
import type { OrderIntent } from '../core/strategy/strategy.js';
import type { AllocationAnswer } from './allocationClient.js';

/** What the ledger needs of the allocator's worker client (AllocationClient). */
export interface AllocationRequester {
  requestBuy(symbol: string, amount: number): Promise<AllocationAnswer>;
  release(symbol: string, amount: number, cause: 'cancel' | 'sell'): void;
  report(usage: { symbol: string; amount: number }[]): void;
}

export interface GrantLedgerOptions {
  /** Money per lot per unit of price (the broker's contract multiplier of the vtSymbol). */
  multiplierOf(vtSymbol: string): number;
  /** A grant nobody used within this many engine calls (bars) goes back to main. */
  grantTtlBars?: number;
  /** After a denial, buys of the symbol are refused here for this many bars (or until funds are released) rather than asked again. */
  denyHoldBars?: number;
  /** A line for the strategy log (a late answer, a grant returned unused). */
  log?: (message: string, context: Record<string, string | number>) => void;
}

interface Ask {
  symbol: string;
  amount: number;
  state: 'pending' | 'granted' | 'denied';
  reason: string | null;
  /** Engine calls since the answer came. */
  age: number;
}

/**
 * The worker's side of the allocator, behind the risk gate's synchronous `AllocatorCheck`.
 *
 * The authority lives in main and is asked over IPC, but a bar's processing never waits: a buy
 * with no grant yet is held — the gate refuses it as `awaitingAllocation`, a retry reason like a
 * freeze, so the strategy simply submits it again on a later bar — and the request goes out. When
 * main's answer has come, the same buy (symbol, price, volume) is let through by a grant, or
 * refused as `allocator` by a denial (counted and alerted like any limit). Check-and-reserve is
 * main's; within the worker the grant is consumed by the very order the gate passed (`reserve`).
 *
 * From then on the ledger keeps main's picture of this worker true: a cancelled buy gives its
 * reservation back, a buy filled below its limit gives back the difference, a sell gives back the
 * sold lots' cost, a grant left unused goes back after a few bars. After restore it reports the
 * whole use (positions at cost + resting buys), which main takes instead of what it held. A
 * restore replay never reaches it: the gate refuses everything while restoring before asking.
 */
export class GrantLedger implements AllocatorCheck {
  private readonly asks = new Map<string, Ask>();
  /** Resting buys: order id → its reservation. */
  private readonly held = new Map<string, { symbol: string; amount: number }>();
  /** Long positions at cost, per symbol. */
  private readonly positions = new Map<string, { lots: number; cost: number }>();
  /** Symbols just denied: refused locally until the bars run out or the symbol frees funds. */
  private readonly holds = new Map<string, { bars: number; reason: string }>();
  private readonly ttl: number;
  private readonly denyHold: number;
  private counts = { granted: 0, denied: 0, returnedUnused: 0 };

  constructor(
    private readonly requester: AllocationRequester,
    private readonly opts: GrantLedgerOptions,
  ) {
    this.ttl = opts.grantTtlBars ?? 5;
    this.denyHold = opts.denyHoldBars ?? 30;
  }

  check(intent: OrderIntent, price: number | null): { allowed: true } | { allowed: false; reason: string; pending?: boolean } {
    if (intent.side !== 'buy' || intent.offset !== 'open') return { allowed: true };
    if (price === null || !(price > 0)) return { allowed: false, reason: `no price to value a buy of ${intent.vtSymbol} at` };
    const key = askKey(intent.vtSymbol, price, intent.volume);
    const ask = this.asks.get(key);
    const hold = this.holds.get(intent.vtSymbol);
    if (ask === undefined && hold !== undefined) return { allowed: false, reason: `${hold.reason} (asked again in ${String(hold.bars)} bar(s), or once ${intent.vtSymbol} frees funds)` };
    if (ask === undefined) {
      const amount = price * intent.volume * this.opts.multiplierOf(intent.vtSymbol);
      const fresh: Ask = { symbol: intent.vtSymbol, amount, state: 'pending', reason: null, age: 0 };
      this.asks.set(key, fresh);
      void this.requester.requestBuy(intent.vtSymbol, amount).then((answer) => this.answered(key, fresh, answer));
      return { allowed: false, pending: true, reason: `asked for ${fmt(amount)} for a buy of ${String(intent.volume)} ${intent.vtSymbol} at ${String(price)}; held until the answer` };
    }
    if (ask.state === 'pending') return { allowed: false, pending: true, reason: `the answer for ${fmt(ask.amount)} is on its way` };
    if (ask.state === 'granted') return { allowed: true };
    this.asks.delete(key);
    // Asking again on every bar would only be denied again: wait a while, or for funds to come back.
    if (this.denyHold > 0) this.holds.set(ask.symbol, { bars: this.denyHold, reason: ask.reason ?? 'denied' });
    return { allowed: false, reason: ask.reason ?? 'denied' };
  }

  reserve(order: Order): void {
    if (order.side !== 'buy' || order.offset !== 'open' || order.price === null) return;
    const key = askKey(order.vtSymbol, order.price, order.volume);
    const ask = this.asks.get(key);
    if (ask?.state !== 'granted') return;
    this.asks.delete(key);
    this.held.set(order.id, { symbol: ask.symbol, amount: ask.amount });
  }

  /** After every engine call (a bar, a flatten): fills, cancels, and the age of unused grants. */
  observe(events: EngineEvents): void {
    for (const f of events.fills) {
      const t = f.trade;
      const value = t.price * t.volume * this.opts.multiplierOf(t.vtSymbol);
      if (t.side === 'buy' && t.offset === 'open') {
        const pos = this.positions.get(t.vtSymbol) ?? { lots: 0, cost: 0 };
        pos.lots += t.volume;
        pos.cost += value;
        this.positions.set(t.vtSymbol, pos);
        const h = this.held.get(t.orderId);
        this.held.delete(t.orderId);
        // Filled below its limit (the bar opened through it): the position costs less than was reserved.
        if (h !== undefined && h.amount - value > 1e-9) this.giveBack(h.symbol, h.amount - value, 'cancel');
      } else if (t.side === 'sell' && t.offset === 'close') {
        const pos = this.positions.get(t.vtSymbol);
        if (pos === undefined || pos.lots <= 0) continue;
        const lots = Math.min(t.volume, pos.lots);
        const share = lots === pos.lots ? pos.cost : (pos.cost * lots) / pos.lots;
        pos.lots -= lots;
        pos.cost -= share;
        if (pos.lots === 0) this.positions.delete(t.vtSymbol);
        this.giveBack(t.vtSymbol, share, 'sell');
      }
    }
    for (const o of events.cancelled) {
      const h = this.held.get(o.id);
      if (h === undefined) continue;
      this.held.delete(o.id);
      this.giveBack(h.symbol, h.amount, 'cancel');
    }
    for (const [symbol, hold] of this.holds) if (--hold.bars <= 0) this.holds.delete(symbol);
    for (const [key, ask] of this.asks) {
      if (ask.state === 'pending' || ++ask.age <= this.ttl) continue;
      this.asks.delete(key);
      if (ask.state === 'granted') {
        this.counts.returnedUnused++;
        this.requester.release(ask.symbol, ask.amount, 'cancel');
        this.opts.log?.('an allocation grant was not used and went back', { symbol: ask.symbol, amount: ask.amount });
      }
    }
  }

  /**
   * After restore: rebuilds the picture from the engine's book (long positions at cost, resting
   * buys at their limit) and reports it, so main's use for this worker is re-derived, not kept.
   */
  restored(engine: TradingEngine): void {
    // Answers to asks from before the report are stale: a late grant goes straight back (see answered).
    this.asks.clear();
    this.holds.clear();
    this.held.clear();
    this.positions.clear();
    for (const p of engine.positions()) {
      if (p.direction !== 'long') continue;
      this.positions.set(p.vtSymbol, { lots: p.volume, cost: p.avgPrice * p.volume * this.opts.multiplierOf(p.vtSymbol) });
    }
    for (const o of engine.pendingOrders()) {
      if (o.side !== 'buy' || o.offset !== 'open' || o.price === null) continue;
      this.held.set(o.id, { symbol: o.vtSymbol, amount: o.price * o.volume * this.opts.multiplierOf(o.vtSymbol) });
    }
    this.requester.report(this.usage());
  }

  /** This worker's use per symbol: positions at cost plus resting buys (what it reports). */
  usage(): { symbol: string; amount: number }[] {
    const sums = new Map<string, number>();
    for (const [symbol, p] of this.positions) sums.set(symbol, (sums.get(symbol) ?? 0) + p.cost);
    for (const h of this.held.values()) sums.set(h.symbol, (sums.get(h.symbol) ?? 0) + h.amount);
    return [...sums].sort(([a], [b]) => (a < b ? -1 : 1)).map(([symbol, amount]) => ({ symbol, amount }));
  }

  stats(): { granted: number; denied: number; returnedUnused: number; pending: number } {
    let pending = 0;
    for (const a of this.asks.values()) if (a.state === 'pending') pending++;
    return { ...this.counts, pending };
  }

  /** Funds of the symbol go back to main; a buy held back by a denial may ask again now. */
  private giveBack(symbol: string, amount: number, cause: 'cancel' | 'sell'): void {
    this.requester.release(symbol, amount, cause);
    this.holds.delete(symbol);
  }

  private answered(key: string, ask: Ask, answer: AllocationAnswer): void {
    if (answer.granted) this.counts.granted++;
    else this.counts.denied++;
    if (this.asks.get(key) !== ask) {
      // The ask was dropped meanwhile: a grant nobody will use goes straight back.
      if (answer.granted) this.requester.release(ask.symbol, ask.amount, 'cancel');
      return;
    }
    ask.state = answer.granted ? 'granted' : 'denied';
    ask.reason = answer.reason;
    ask.age = 0;
  }
}

function askKey(vtSymbol: string, price: number, volume: number): string {
  return `${vtSymbol}|${String(price)}|${String(volume)}`;
}

function fmt(amount: number): string {
  return amount.toFixed(2);
}
