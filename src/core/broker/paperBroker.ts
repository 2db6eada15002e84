import { productOf, type OhlcvBar } from '../../shared/bar.js';
import type { Commission, ContractSpec, ProtectiveLevel } from '../../shared/strategyConfig.js';
import type { TradeFill, TradeOffset, TradeSide } from '../../shared/trade.js';
import { roundToTick } from '../market/simulatedMarket.js';
import { assertCount, assertFinite, assertObject, assertVersion } from '../state.js';

/**
 * The paper broker (DOMAIN.md "Paper broker"): fills orders against 1-minute bars, keeps
 * positions per vtSymbol and direction (long and short may coexist, as on Chinese futures
 * exchanges), and turns every fill into a trade row. Pure and deterministic; its whole state is
 * the pending orders, the open positions and a few sums, so it serialises to a small object.
 *
 * Fill rules, per 1-minute bar of a vtSymbol (`onMinuteBar`), in this order:
 * 1. market orders sent before the bar (createdAt < bar.time), in the order they were sent,
 *    at the bar's open ± slippage (a buy pays `slippageTicks` ticks more, a sell receives
 *    that much less);
 * 2. stop orders: a sell stop triggers when low <= stop, a buy stop when high >= stop (touching
 *    is enough); it fills at the stop price, or at the open if the bar opened through it, ±
 *    slippage (a triggered stop is a market order);
 * 3. limit orders: a buy limit fills when low <= limit, a sell limit when high >= limit
 *    (touching fills, as in vnpy's backtester), at the limit price, or at the open if the bar
 *    opened through it; no slippage.
 *    Stops are judged before limits: when one bar reaches both the stop-loss and the
 *    take-profit of a position its path is unknown, and the stop is the careful assumption.
 * Protective orders created by an entry's bracket are placed at the entry's fill and judged
 * against the rest of that very bar (everything in a bar's range happened at or after its
 * open) and every later bar; the stop-loss and take-profit of one entry cancel each other.
 * A close order fills at most the position it closes (volume capped at fill time) and is
 * cancelled when there is nothing left to close. Fills are whole: bar volume is not consulted.
 *
 * Money: commission per fill (per lot, or a rate of price × volume × multiplier), both ways.
 * A closing trade row's `pnl` is the round trip's net result for the closed lots: price
 * difference × volume × multiplier, minus this fill's commission, minus the share of the
 * opening commission carried by the closed lots. A position's unrealised PnL is marked at the
 * last close of its vtSymbol, net of the opening commission it still carries; so
 * realised + unrealised is exactly the equity change since the start.
 */

export type OrderSide = TradeSide;
export type OrderOffset = TradeOffset;
export type PositionDirection = 'long' | 'short';
export type OrderType = 'market' | 'limit' | 'stop';
export type OrderStatus = 'pending' | 'filled' | 'cancelled';
export type ProtectiveRole = 'stopLoss' | 'takeProfit';

/** Protective orders to place when an opening order fills, relative to its fill price. */
export interface Bracket {
  stopLoss: ProtectiveLevel | null;
  takeProfit: ProtectiveLevel | null;
}

export interface OrderRequest {
  vtSymbol: string;
  side: OrderSide;
  offset: OrderOffset;
  type: OrderType;
  /** Limit or stop price; ignored (null) for market orders. */
  price?: number | null;
  /** Lots, a positive integer. */
  volume: number;
  /** Decision time (local-as-UTC seconds): the order can fill from the first bar after it. */
  time: number;
  bracket?: Bracket | null;
  /** Free text kept on the order and its trade (e.g. the strategy's reason). */
  tag?: string | null;
}

export interface Order {
  id: string;
  vtSymbol: string;
  side: OrderSide;
  offset: OrderOffset;
  type: OrderType;
  price: number | null;
  volume: number;
  status: OrderStatus;
  createdAt: number;
  tag: string | null;
  bracket: Bracket | null;
  /** For protective orders: the entry order whose fill created them (their OCO group). */
  parentId: string | null;
  role: ProtectiveRole | null;
  /** Why it was cancelled. */
  reason: string | null;
}

/** The broker's trade row: the fill (src/shared/trade.ts) with the order it came from. */
export interface TradeRow extends TradeFill {
  orderId: string;
  tag: string | null;
  role: ProtectiveRole | null;
}

export interface Fill {
  trade: TradeRow;
  /** The order as filled (status 'filled'). */
  order: Order;
}

export interface BrokerBarEvents {
  fills: Fill[];
  /** Protective orders placed by entries filled on this bar. */
  placed: Order[];
  /** Orders cancelled on this bar (OCO sibling filled, position closed, nothing to close). */
  cancelled: Order[];
}

/** The answer for a bar on which nothing happened; shared, so callers must only read it. */
const QUIET_BAR: BrokerBarEvents = Object.freeze({ fills: [], placed: [], cancelled: [] }) as unknown as BrokerBarEvents;

export interface Position {
  vtSymbol: string;
  direction: PositionDirection;
  volume: number;
  /** Volume-weighted average fill price of the open lots (commission not included). */
  avgPrice: number;
  /** Opening commission still carried by the open lots. */
  openCommission: number;
  /** Last close of the vtSymbol, or null before its first bar. */
  lastPrice: number | null;
  /** (lastPrice − avgPrice) × volume × multiplier (sign by direction) − openCommission. */
  unrealizedPnl: number;
}

export interface PaperBrokerConfig {
  /** Prefix of order and trade ids (the variant name): `${idPrefix}-O1`, `${idPrefix}-T1`. */
  idPrefix: string;
  priceTick: number;
  contractMultiplier: number;
  /** Per product (`rb`): overrides priceTick and contractMultiplier. */
  contracts?: Record<string, ContractSpec>;
  slippageTicks: number;
  commission: Commission;
}

export interface PositionState {
  vtSymbol: string;
  direction: PositionDirection;
  volume: number;
  avgPrice: number;
  openCommission: number;
}

export interface PaperBrokerState {
  version: 1;
  nextOrderSeq: number;
  nextTradeSeq: number;
  /** Pending orders, in the order they were sent. */
  orders: Order[];
  /** Open positions, sorted by vtSymbol then direction. */
  positions: PositionState[];
  /** Last close per vtSymbol. */
  marks: Record<string, number>;
  /** Last 1-minute bar time processed per vtSymbol (bars at or before it are ignored). */
  lastBarTimes: Record<string, number>;
  /** Sum of closing trades' net pnl. */
  realizedPnl: number;
  commissionPaid: number;
  tradeCount: number;
}

/**
 * Everything the broker keeps about one vtSymbol, found with one lookup per bar (or none: the
 * engine holds it). A bar of the vtSymbol reads and writes only this and the pending orders.
 */
export class BrokerInstrument {
  // Numbers and "has" flags rather than number | null: a field that may hold null keeps a double
  // as a boxed heap number, so every bar would allocate one.
  hasBar = false;
  /** Last 1-minute bar time processed (bars at or before it are ignored); valid when hasBar. */
  lastBarTime = 0;
  hasMark = false;
  /** Last close; valid when hasMark. */
  mark = 0;
  long: PositionState | null = null;
  short: PositionState | null = null;
  /**
   * A bar whose high stays below `dueAbove` and whose low stays above `dueBelow` trades none of
   * the vtSymbol's resting stop / limit orders; `marketPending` says a market order waits. Kept by
   * the broker whenever its orders change, so most bars are judged by two comparisons.
   */
  dueAbove = Number.POSITIVE_INFINITY;
  dueBelow = Number.NEGATIVE_INFINITY;
  marketPending = false;
  constructor(readonly vtSymbol: string) {}
}

function comparePositions(a: PositionState, b: PositionState): number {
  if (a.vtSymbol !== b.vtSymbol) return a.vtSymbol < b.vtSymbol ? -1 : 1;
  return a.direction === b.direction ? 0 : a.direction === 'long' ? -1 : 1;
}

/** The position a close order of this side reduces: a sell closes a long, a buy a short. */
export function closedDirection(side: OrderSide): PositionDirection {
  return side === 'sell' ? 'long' : 'short';
}

/** The side that closes a position of this direction. */
export function closingSide(direction: PositionDirection): OrderSide {
  return direction === 'long' ? 'sell' : 'buy';
}

export class PaperBroker {
  readonly config: Readonly<PaperBrokerConfig>;
  private orders: Order[] = [];
  private readonly instruments = new Map<string, BrokerInstrument>();
  /** The instruments' due levels are out of date: the orders changed since they were computed. */
  private levelsStale = false;
  /** Open positions sorted (comparePositions); rebuilt only when a position opens or closes. */
  private sorted: PositionState[] | null = [];
  private nextOrderSeq = 1;
  private nextTradeSeq = 1;
  private realized = 0;
  private commissionTotal = 0;
  private trades = 0;

  constructor(config: PaperBrokerConfig) {
    if (config.idPrefix.length === 0) throw new Error('paper broker: idPrefix must not be empty');
    assertPositive(config.priceTick, 'paper broker priceTick');
    assertPositive(config.contractMultiplier, 'paper broker contractMultiplier');
    for (const [product, spec] of Object.entries(config.contracts ?? {})) {
      assertPositive(spec.priceTick, `paper broker contracts.${product}.priceTick`);
      assertPositive(spec.contractMultiplier, `paper broker contracts.${product}.contractMultiplier`);
    }
    assertCount(config.slippageTicks, 'paper broker slippageTicks');
    this.config = Object.freeze({ ...config, contracts: { ...(config.contracts ?? {}) } });
  }

  /** Tick and multiplier of a vtSymbol's product. */
  specOf(vtSymbol: string): ContractSpec {
    const own = this.config.contracts?.[productOf(vtSymbol)];
    return own ?? { priceTick: this.config.priceTick, contractMultiplier: this.config.contractMultiplier };
  }

  submit(request: OrderRequest): Order {
    const { vtSymbol, side, offset, type, volume, time } = request;
    if (vtSymbol.length === 0) throw new Error('order: vtSymbol is empty');
    if (!Number.isInteger(volume) || volume <= 0) throw new Error(`order ${vtSymbol}: volume must be a positive whole number of lots, got ${String(volume)}`);
    assertFinite(time, `order ${vtSymbol} time`);
    let price: number | null = null;
    if (type !== 'market') {
      const p = request.price;
      if (typeof p !== 'number' || !Number.isFinite(p) || p <= 0) throw new Error(`order ${vtSymbol}: a ${type} order needs a positive price, got ${String(p)}`);
      price = p;
    }
    const bracket = request.bracket ?? null;
    if (bracket !== null && offset !== 'open') throw new Error(`order ${vtSymbol}: only an opening order carries a bracket`);
    const order: Order = {
      id: `${this.config.idPrefix}-O${String(this.nextOrderSeq++)}`,
      vtSymbol,
      side,
      offset,
      type,
      price,
      volume,
      status: 'pending',
      createdAt: time,
      tag: request.tag ?? null,
      bracket: bracket === null ? null : { stopLoss: bracket.stopLoss, takeProfit: bracket.takeProfit },
      parentId: null,
      role: null,
      reason: null,
    };
    this.orders.push(order);
    this.levelsStale = true;
    return copyOrder(order);
  }

  /** Cancels a pending order; returns it (status 'cancelled'), or null when no such order is pending. */
  cancel(id: string, reason = 'cancelled'): Order | null {
    const i = this.orders.findIndex((o) => o.id === id);
    if (i < 0) return null;
    const [order] = this.orders.splice(i, 1);
    this.levelsStale = true;
    if (order === undefined) return null;
    order.status = 'cancelled';
    order.reason = reason;
    return copyOrder(order);
  }

  /** The vtSymbol's record (created on first use): hand it to `onMinuteValues` to skip the lookup. */
  instrument(vtSymbol: string): BrokerInstrument {
    let inst = this.instruments.get(vtSymbol);
    if (inst === undefined) {
      inst = new BrokerInstrument(vtSymbol);
      this.instruments.set(vtSymbol, inst);
    }
    return inst;
  }

  /** Processes one 1-minute bar of `vtSymbol`: fills, then marks the vtSymbol at the close. */
  onMinuteBar(vtSymbol: string, bar: OhlcvBar): BrokerBarEvents {
    return this.onMinuteBarOf(this.instrument(vtSymbol), bar);
  }

  /**
   * `onMinuteBar` with the vtSymbol's record at hand: a bar on which nothing resting trades
   * allocates nothing (it returns a shared, frozen answer). The bar is read during the call only.
   */
  onMinuteBarOf(inst: BrokerInstrument, bar: OhlcvBar): BrokerBarEvents {
    // Values are read here, not passed in: a double passed to a call V8 does not inline is boxed.
    const time = bar.time;
    // A bar at or before the last one (a restore replay overlapping the live feed) changes nothing.
    if (inst.hasBar && !(time > inst.lastBarTime)) return QUIET_BAR;
    inst.hasBar = true;
    inst.lastBarTime = time;
    if (this.orders.length === 0 || !this.mayTrade(inst, bar) || !this.anyDue(inst.vtSymbol, bar)) {
      // Most bars: nothing rests, or nothing resting trades on this bar: nothing allocated.
      inst.hasMark = true;
      inst.mark = bar.close;
      return QUIET_BAR;
    }
    const events: BrokerBarEvents = { fills: [], placed: [], cancelled: [] };
    const vtSymbol = inst.vtSymbol;
    const { open, high, low, close } = bar;

    for (const order of this.orders.slice()) {
      if (order.vtSymbol !== vtSymbol || order.type !== 'market' || !(order.createdAt < time) || order.status !== 'pending') continue;
      this.execute(order, this.slipped(vtSymbol, open, order.side), time, events);
    }
    // Protective orders placed during this loop are judged on this bar too: repeat until quiet.
    for (let progressed = true; progressed; ) {
      progressed = false;
      for (const type of ['stop', 'limit'] as const) {
        for (const order of this.orders.slice()) {
          if (order.vtSymbol !== vtSymbol || order.type !== type || order.status !== 'pending') continue;
          if (order.parentId === null && !(order.createdAt < time)) continue;
          const price = this.crossPrice(order, open, high, low);
          if (price === null) continue;
          this.execute(order, price, time, events);
          progressed = true;
        }
      }
    }
    inst.hasMark = true;
    inst.mark = close;
    return events;
  }

  /** False when the bar surely trades none of the vtSymbol's orders (its range reaches no order's level). */
  private mayTrade(inst: BrokerInstrument, bar: OhlcvBar): boolean {
    if (this.levelsStale) this.refreshLevels();
    return inst.marketPending || bar.high >= inst.dueAbove || bar.low <= inst.dueBelow;
  }

  private refreshLevels(): void {
    this.levelsStale = false;
    for (const inst of this.instruments.values()) {
      inst.dueAbove = Number.POSITIVE_INFINITY;
      inst.dueBelow = Number.NEGATIVE_INFINITY;
      inst.marketPending = false;
    }
    for (const o of this.orders) {
      const inst = this.instrument(o.vtSymbol);
      if (o.type === 'market' || o.price === null) {
        inst.marketPending = true;
        continue;
      }
      // A buy stop and a sell limit trade when the high reaches them; a sell stop and a buy limit when the low does.
      if ((o.type === 'stop') === (o.side === 'buy')) inst.dueAbove = Math.min(inst.dueAbove, o.price);
      else inst.dueBelow = Math.max(inst.dueBelow, o.price);
    }
  }

  /** Whether any pending order of the vtSymbol fills on this bar (the same tests as below, without allocating). */
  private anyDue(vtSymbol: string, bar: OhlcvBar): boolean {
    const { time, high, low } = bar;
    for (let i = 0; i < this.orders.length; i++) {
      const o = this.orders[i] as Order;
      if (o.vtSymbol !== vtSymbol || o.status !== 'pending') continue;
      if (o.type === 'market') {
        if (o.createdAt < time) return true;
        continue;
      }
      if (o.parentId === null && !(o.createdAt < time)) continue;
      const level = o.price;
      if (level === null) continue;
      const buy = o.side === 'buy';
      if (o.type === 'stop' ? (buy ? high >= level : low <= level) : buy ? low <= level : high >= level) return true;
    }
    return false;
  }

  /** The fill price if this resting order trades on the bar, else null. */
  private crossPrice(order: Order, open: number, high: number, low: number): number | null {
    const level = order.price;
    if (level === null) return null;
    const buy = order.side === 'buy';
    if (order.type === 'stop') {
      if (buy ? high >= level : low <= level) {
        return this.slipped(order.vtSymbol, buy ? Math.max(level, open) : Math.min(level, open), order.side);
      }
      return null;
    }
    if (buy ? low <= level : high >= level) return buy ? Math.min(level, open) : Math.max(level, open);
    return null;
  }

  private slipped(vtSymbol: string, price: number, side: OrderSide): number {
    const slip = this.config.slippageTicks;
    if (slip === 0) return price;
    const tick = this.specOf(vtSymbol).priceTick;
    return roundToTick(side === 'buy' ? price + slip * tick : price - slip * tick, tick);
  }

  private commissionOf(vtSymbol: string, price: number, volume: number): number {
    const c = this.config.commission;
    if (c.kind === 'perLot') return c.amount * volume;
    return price * volume * this.specOf(vtSymbol).contractMultiplier * c.rate;
  }

  private execute(order: Order, price: number, time: number, events: BrokerBarEvents): void {
    const spec = this.specOf(order.vtSymbol);
    let volume = order.volume;
    let pnl: number | null = null;
    let commission: number;
    if (order.offset === 'close') {
      const direction = closedDirection(order.side);
      const inst = this.instrument(order.vtSymbol);
      const pos = inst[direction];
      volume = Math.min(volume, pos?.volume ?? 0);
      if (pos === null || volume <= 0) {
        this.removePending(order);
        order.status = 'cancelled';
        order.reason = `no ${direction} position of ${order.vtSymbol} to close`;
        events.cancelled.push(copyOrder(order));
        return;
      }
      commission = this.commissionOf(order.vtSymbol, price, volume);
      const sign = direction === 'long' ? 1 : -1;
      // `+ 0` turns a −0 (a flat short: 0 × −1) into 0, which is what JSON gives back on restore.
      const gross = (price - pos.avgPrice) * volume * spec.contractMultiplier * sign + 0;
      const carried = volume === pos.volume ? pos.openCommission : (pos.openCommission * volume) / pos.volume;
      pnl = gross - commission - carried;
      pos.volume -= volume;
      pos.openCommission -= carried;
      this.realized += pnl;
      if (pos.volume === 0) {
        inst[direction] = null;
        this.sorted = null;
      }
    } else {
      commission = this.commissionOf(order.vtSymbol, price, volume);
      const direction: PositionDirection = order.side === 'buy' ? 'long' : 'short';
      const inst = this.instrument(order.vtSymbol);
      const pos = inst[direction];
      if (pos === null) {
        inst[direction] = { vtSymbol: order.vtSymbol, direction, volume, avgPrice: price, openCommission: commission };
        this.sorted = null;
      } else {
        pos.avgPrice = (pos.avgPrice * pos.volume + price * volume) / (pos.volume + volume);
        pos.volume += volume;
        pos.openCommission += commission;
      }
    }
    this.commissionTotal += commission;
    this.trades++;
    this.removePending(order);
    order.status = 'filled';
    const trade: TradeRow = {
      id: `${this.config.idPrefix}-T${String(this.nextTradeSeq++)}`,
      orderId: order.id,
      vtSymbol: order.vtSymbol,
      side: order.side,
      offset: order.offset,
      price,
      volume,
      time,
      commission,
      pnl,
      tag: order.tag,
      role: order.role,
    };
    events.fills.push({ trade, order: copyOrder(order) });

    if (order.offset === 'open' && order.bracket !== null) this.placeProtection(order, price, time, events);
    if (order.parentId !== null) {
      for (const sibling of this.orders.slice()) {
        if (sibling.parentId === order.parentId) events.cancelled.push(this.cancelInternal(sibling, `OCO: ${order.id} filled`));
      }
    }
    if (order.offset === 'close' && this.openVolume(order.vtSymbol, closedDirection(order.side)) === 0) {
      // The position is flat: its remaining protective orders protect nothing.
      for (const other of this.orders.slice()) {
        if (other.parentId !== null && other.vtSymbol === order.vtSymbol && other.side === order.side && other.offset === 'close') {
          events.cancelled.push(this.cancelInternal(other, 'position closed'));
        }
      }
    }
  }

  private placeProtection(entry: Order, fillPrice: number, time: number, events: BrokerBarEvents): void {
    const bracket = entry.bracket;
    if (bracket === null) return;
    if (bracket.stopLoss !== null) this.placeProtective(entry, 'stopLoss', bracket.stopLoss, fillPrice, time, events);
    if (bracket.takeProfit !== null) this.placeProtective(entry, 'takeProfit', bracket.takeProfit, fillPrice, time, events);
  }

  private placeProtective(entry: Order, role: ProtectiveRole, level: ProtectiveLevel, fillPrice: number, time: number, events: BrokerBarEvents): void {
    const tick = this.specOf(entry.vtSymbol).priceTick;
    const long = entry.side === 'buy';
    // Adverse for a stop-loss, favourable for a take-profit; at least one tick from the entry.
    const towardsLoss = role === 'stopLoss';
    const down = long === towardsLoss;
    const distance = level.unit === 'ticks' ? level.value * tick : (fillPrice * level.value) / 100;
    let price = roundToTick(down ? fillPrice - distance : fillPrice + distance, tick);
    price = down ? Math.min(price, roundToTick(fillPrice - tick, tick)) : Math.max(price, roundToTick(fillPrice + tick, tick));
    if (!(price > 0)) return;
    const order: Order = {
      id: `${this.config.idPrefix}-O${String(this.nextOrderSeq++)}`,
      vtSymbol: entry.vtSymbol,
      side: long ? 'sell' : 'buy',
      offset: 'close',
      type: towardsLoss ? 'stop' : 'limit',
      price,
      volume: entry.volume,
      status: 'pending',
      createdAt: time,
      tag: entry.tag,
      bracket: null,
      parentId: entry.id,
      role,
      reason: null,
    };
    this.orders.push(order);
    this.levelsStale = true;
    events.placed.push(copyOrder(order));
  }

  private removePending(order: Order): void {
    const i = this.orders.indexOf(order);
    if (i >= 0) {
      this.orders.splice(i, 1);
      this.levelsStale = true;
    }
  }

  private cancelInternal(order: Order, reason: string): Order {
    this.removePending(order);
    order.status = 'cancelled';
    order.reason = reason;
    return copyOrder(order);
  }

  /** Open positions, sorted by vtSymbol then direction (long first). */
  positions(): Position[] {
    return this.sortedBook().map((p) => this.positionView(p));
  }

  position(vtSymbol: string, direction: PositionDirection): Position | null {
    const p = this.instruments.get(vtSymbol)?.[direction] ?? null;
    return p === null ? null : this.positionView(p);
  }

  /** Lots held of vtSymbol in direction (0 when flat): `position()` without the copy. */
  openVolume(vtSymbol: string, direction: PositionDirection): number {
    return this.instruments.get(vtSymbol)?.[direction]?.volume ?? 0;
  }

  /** Whether any position is open. */
  get hasPositions(): boolean {
    return this.sortedBook().length > 0;
  }

  /** Pending orders, in the order they were sent. */
  pendingOrders(): Order[] {
    return this.orders.map(copyOrder);
  }

  /**
   * The pending orders themselves, in the order they were sent, for a caller that only reads them
   * during the call (the engine's per-window checks): no copies. Never keep or change them.
   */
  pendingView(): readonly Readonly<Order>[] {
    return this.orders;
  }

  lastPrice(vtSymbol: string): number | null {
    const inst = this.instruments.get(vtSymbol);
    return inst !== undefined && inst.hasMark ? inst.mark : null;
  }

  lastBarTime(vtSymbol: string): number | null {
    const inst = this.instruments.get(vtSymbol);
    return inst !== undefined && inst.hasBar ? inst.lastBarTime : null;
  }

  private positionView(p: PositionState): Position {
    return {
      vtSymbol: p.vtSymbol,
      direction: p.direction,
      volume: p.volume,
      avgPrice: p.avgPrice,
      openCommission: p.openCommission,
      lastPrice: this.lastPrice(p.vtSymbol),
      unrealizedPnl: this.unrealizedOf(p),
    };
  }

  /** Sum of the closing trades' net pnl. */
  get realizedPnl(): number {
    return this.realized;
  }

  get commissionPaid(): number {
    return this.commissionTotal;
  }

  get tradeCount(): number {
    return this.trades;
  }

  /** Sum of the open positions' unrealised PnL (net of the opening commission they carry). */
  unrealizedPnl(): number {
    let sum = 0;
    for (const p of this.sortedBook()) sum += this.unrealizedOf(p);
    return sum;
  }

  /** realised + unrealised: the equity change since the broker started. */
  equity(): number {
    return this.realized + this.unrealizedPnl();
  }

  private sortedRecord(field: 'mark' | 'lastBarTime'): Record<string, number> {
    const out: Record<string, number> = {};
    for (const key of [...this.instruments.keys()].sort()) {
      const v = field === 'mark' ? this.lastPrice(key) : this.lastBarTime(key);
      if (v !== null) out[key] = v;
    }
    return out;
  }

  private unrealizedOf(p: PositionState): number {
    const mark = this.lastPrice(p.vtSymbol) ?? p.avgPrice;
    const sign = p.direction === 'long' ? 1 : -1;
    return (mark - p.avgPrice) * p.volume * this.specOf(p.vtSymbol).contractMultiplier * sign - p.openCommission + 0;
  }

  /** The open positions, sorted; the broker's own array (kept until a position opens or closes). */
  private sortedBook(): readonly PositionState[] {
    let sorted = this.sorted;
    if (sorted === null) {
      sorted = [];
      for (const inst of this.instruments.values()) {
        if (inst.long !== null) sorted.push(inst.long);
        if (inst.short !== null) sorted.push(inst.short);
      }
      sorted.sort(comparePositions);
      this.sorted = sorted;
    }
    return sorted;
  }

  toState(): PaperBrokerState {
    return {
      version: 1,
      nextOrderSeq: this.nextOrderSeq,
      nextTradeSeq: this.nextTradeSeq,
      orders: this.orders.map(copyOrder),
      positions: this.sortedBook().map((p) => ({ vtSymbol: p.vtSymbol, direction: p.direction, volume: p.volume, avgPrice: p.avgPrice, openCommission: p.openCommission })),
      marks: this.sortedRecord('mark'),
      lastBarTimes: this.sortedRecord('lastBarTime'),
      realizedPnl: this.realized,
      commissionPaid: this.commissionTotal,
      tradeCount: this.trades,
    };
  }

  static fromState(state: PaperBrokerState, config: PaperBrokerConfig): PaperBroker {
    const what = 'paper broker state';
    assertObject(state, what);
    assertVersion(state, 1, what);
    const broker = new PaperBroker(config);
    assertCount(state.nextOrderSeq, `${what} nextOrderSeq`);
    assertCount(state.nextTradeSeq, `${what} nextTradeSeq`);
    assertCount(state.tradeCount, `${what} tradeCount`);
    assertFinite(state.realizedPnl, `${what} realizedPnl`);
    assertFinite(state.commissionPaid, `${what} commissionPaid`);
    broker.nextOrderSeq = state.nextOrderSeq;
    broker.nextTradeSeq = state.nextTradeSeq;
    broker.trades = state.tradeCount;
    broker.realized = state.realizedPnl;
    broker.commissionTotal = state.commissionPaid;
    if (!Array.isArray(state.orders)) throw new Error(`${what} orders: expected an array`);
    broker.orders = state.orders.map((o, i) => checkedOrder(o, `${what} orders[${String(i)}]`));
    broker.levelsStale = true;
    if (!Array.isArray(state.positions)) throw new Error(`${what} positions: expected an array`);
    state.positions.forEach((p, i) => {
      const where = `${what} positions[${String(i)}]`;
      assertObject(p, where);
      if (typeof p.vtSymbol !== 'string') throw new Error(`${where}.vtSymbol: expected a string`);
      if (p.direction !== 'long' && p.direction !== 'short') throw new Error(`${where}.direction: ${String(p.direction)}`);
      assertCount(p.volume, `${where}.volume`);
      assertFinite(p.avgPrice, `${where}.avgPrice`);
      assertFinite(p.openCommission, `${where}.openCommission`);
      if (p.volume > 0) broker.instrument(p.vtSymbol)[p.direction] = { vtSymbol: p.vtSymbol, direction: p.direction, volume: p.volume, avgPrice: p.avgPrice, openCommission: p.openCommission };
    });
    broker.sorted = null;
    for (const [name, field] of [['marks', 'mark'], ['lastBarTimes', 'lastBarTime']] as const) {
      const record: unknown = state[name];
      assertObject(record, `${what} ${name}`);
      for (const [vtSymbol, v] of Object.entries(record)) {
        assertFinite(v, `${what} ${name}.${vtSymbol}`);
        const inst = broker.instrument(vtSymbol);
        if (field === 'mark') {
          inst.hasMark = true;
          inst.mark = v;
        } else {
          inst.hasBar = true;
          inst.lastBarTime = v;
        }
      }
    }
    return broker;
  }
}

function assertPositive(value: number, what: string): void {
  assertFinite(value, what);
  if (value <= 0) throw new Error(`${what}: must be > 0, got ${String(value)}`);
}


function copyOrder(o: Order): Order {
  return { ...o, bracket: o.bracket === null ? null : { stopLoss: copyLevel(o.bracket.stopLoss), takeProfit: copyLevel(o.bracket.takeProfit) } };
}

function copyLevel(level: ProtectiveLevel | null): ProtectiveLevel | null {
  return level === null ? null : { unit: level.unit, value: level.value };
}

function checkedLevel(value: unknown, where: string): ProtectiveLevel | null {
  if (value === null) return null;
  assertObject(value, where);
  const v = value as { unit?: unknown; value?: unknown };
  if (v.unit !== 'ticks' && v.unit !== 'percent') throw new Error(`${where}.unit: ${String(v.unit)}`);
  assertFinite(v.value, `${where}.value`);
  return { unit: v.unit, value: v.value };
}

function checkedOrder(value: unknown, where: string): Order {
  assertObject(value, where);
  const o = value as Partial<Record<keyof Order, unknown>>;
  const str = (k: keyof Order): string => {
    const v = o[k];
    if (typeof v !== 'string') throw new Error(`${where}.${k}: expected a string`);
    return v;
  };
  const strOrNull = (k: keyof Order): string | null => (o[k] === null ? null : str(k));
  const side = str('side');
  const offset = str('offset');
  const type = str('type');
  const status = str('status');
  if (side !== 'buy' && side !== 'sell') throw new Error(`${where}.side: ${side}`);
  if (offset !== 'open' && offset !== 'close') throw new Error(`${where}.offset: ${offset}`);
  if (type !== 'market' && type !== 'limit' && type !== 'stop') throw new Error(`${where}.type: ${type}`);
  if (status !== 'pending') throw new Error(`${where}.status: only pending orders are state, got ${status}`);
  const price = o.price === null ? null : (assertFinite(o.price, `${where}.price`), o.price);
  assertCount(o.volume, `${where}.volume`);
  assertFinite(o.createdAt, `${where}.createdAt`);
  const role = strOrNull('role');
  if (role !== null && role !== 'stopLoss' && role !== 'takeProfit') throw new Error(`${where}.role: ${role}`);
  let bracket: Bracket | null = null;
  if (o.bracket !== null) {
    assertObject(o.bracket, `${where}.bracket`);
    const b = o.bracket as { stopLoss?: unknown; takeProfit?: unknown };
    bracket = { stopLoss: checkedLevel(b.stopLoss ?? null, `${where}.bracket.stopLoss`), takeProfit: checkedLevel(b.takeProfit ?? null, `${where}.bracket.takeProfit`) };
  }
  return {
    id: str('id'),
    vtSymbol: str('vtSymbol'),
    side,
    offset,
    type,
    price,
    volume: o.volume,
    status,
    createdAt: o.createdAt,
    tag: strOrNull('tag'),
    bracket,
    parentId: strOrNull('parentId'),
    role,
    reason: strOrNull('reason'),
  };
}
