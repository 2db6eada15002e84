import { GRID_MAX_LEVELS, gridParamsSchema, parseGridParams, type GridParams } from '../../../shared/gridParams.js';
import type { Fill } from '../../broker/paperBroker.js';
import { assertCount, assertFinite, assertObject } from '../../state.js';
import type { RegisteredDefinition } from '../registry.js';
import type { InstrumentBar, Strategy, StrategyContext, StrategyStateEnvelope } from '../strategy.js';
import { gridLevels, lotsAt } from './gridLevels.js';

/**
 * The grid trader (DOMAIN.md "Grid trader and the global fund allocator") behind the Strategy
 * seam. Levels L0 < L1 < … < Ln−1 from `lower` to `upper`; slot i (0 ≤ i < n − 1) owns level Li:
 *
 *   idle ──(Li below the last close: limit buy at Li)──▶ buy resting ──(filled)──▶ filled:
 *   limit sell of the same lots at Li+1 ──(filled)──▶ idle again (one round trip earned).
 *
 * A buy is only placed below the last close (never one the market would take at once) and
 * passes the risk gate like any open, so the allocator decides whether the money is there; a
 * refused or suppressed buy is simply tried again on a later bar. Sells close the slot's own lots
 * and pass every rule but the freezes. A close outside the band — below `lower − stopBelow` or
 * above `upper + stopAbove` — stops the grid for good: its resting orders are cancelled, its
 * inventory is sold at market and an alert is raised.
 *
 * The grid trades one instrument: the variant's (the first one fed). Orders are placed only in
 * `live` mode: a restore replay or a halted variant leaves the book as the state has it.
 */

export interface GridSlotState {
  /** The resting limit buy at this slot's level, or null. */
  buyOrderId: string | null;
  /** The resting limit sell one level up for this slot's filled lots, or null. */
  sellOrderId: string | null;
  /** Lots bought at this level and not sold yet (0: the slot is not filled). */
  lots: number;
  /** The buy's fill price (null while not filled). */
  cost: number | null;
}

export interface GridState {
  vtSymbol: string | null;
  /** One per buy level (levels − 1 entries): the state stays this size whatever the run's length. */
  slots: GridSlotState[];
  /** Why and when the grid stopped; null while it runs. */
  stopped: { time: number; price: number; reason: string } | null;
  /** Completed buy → sell round trips. */
  roundTrips: number;
}

export const GRID_STATE_VERSION = 1;

export class GridStrategy implements Strategy {
  readonly levels: readonly number[];
  private vtSymbol: string | null = null;
  private slots: GridSlotState[];
  private stopped: GridState['stopped'] = null;
  private roundTrips = 0;
  /** Levels whose quote amount buys less than one lot (logged once each). */
  private readonly tooSmall = new Set<number>();
  /** A grid built afresh over a book that may hold another grid's orders (its parameters changed) looks once. */
  private orphansChecked = false;

  constructor(readonly params: Readonly<GridParams>) {
    this.levels = gridLevels(params);
    this.slots = this.levels.slice(0, -1).map(() => ({ buyOrderId: null, sellOrderId: null, lots: 0, cost: null }));
  }

  /** Lots held (filled, not sold yet). */
  get inventory(): number {
    let n = 0;
    for (const s of this.slots) n += s.lots;
    return n;
  }

  /** Volume-weighted buy price of the lots held; null when flat. */
  get averageCost(): number | null {
    let lots = 0;
    let value = 0;
    for (const s of this.slots) {
      if (s.cost === null) continue;
      lots += s.lots;
      value += s.lots * s.cost;
    }
    return lots === 0 ? null : value / lots;
  }

  get isStopped(): boolean {
    return this.stopped !== null;
  }

  get completedRoundTrips(): number {
    return this.roundTrips;
  }

  /** Indices of the levels whose buy filled and whose lots are still held. */
  filledLevels(): number[] {
    const out: number[] = [];
    this.slots.forEach((s, i) => {
      if (s.lots > 0) out.push(i);
    });
    return out;
  }

  onMinuteBars(bars: readonly InstrumentBar[], ctx: StrategyContext): void {
    if (this.vtSymbol === null) this.vtSymbol = bars[0]?.vtSymbol ?? null;
    let bar = null;
    for (const b of bars) if (b.vtSymbol === this.vtSymbol) bar = b.bar;
    if (bar === null || this.stopped !== null || ctx.mode !== 'live') return;
    const vtSymbol = this.vtSymbol as string;
    if (!this.orphansChecked) this.takeOverBook(vtSymbol, ctx);
    this.reconcile(ctx);
    const price = bar.close;
    const { lower, upper, stopBelow, stopAbove } = this.params;
    if (stopBelow !== null && price < lower - stopBelow) {
      this.stop(ctx, price, `close ${String(price)} below the band's floor ${String(lower - stopBelow)} (lower ${String(lower)} − stopBelow ${String(stopBelow)})`);
      return;
    }
    if (stopAbove !== null && price > upper + stopAbove) {
      this.stop(ctx, price, `close ${String(price)} above the band's ceiling ${String(upper + stopAbove)} (upper ${String(upper)} + stopAbove ${String(stopAbove)})`);
      return;
    }
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i] as GridSlotState;
      if (slot.lots > 0) {
        if (slot.sellOrderId === null) this.placeSell(i, ctx);
        continue;
      }
      const level = this.levels[i] as number;
      if (slot.buyOrderId !== null || !(level < price)) continue;
      const lots = lotsAt(this.params.size, level, this.params.contractMultiplier);
      if (lots <= 0) {
        if (!this.tooSmall.has(i)) {
          this.tooSmall.add(i);
          ctx.log('WARNING', `grid level ${String(i)} at ${String(level)}: the quote amount buys less than one lot; the level is skipped`, { level, vtSymbol });
        }
        continue;
      }
      const outcome = ctx.submit({ vtSymbol, side: 'buy', offset: 'open', type: 'limit', price: level, volume: lots, tag: 'gridBuy', detail: `grid level ${String(i)} at ${String(level)}` });
      if (outcome.passed) slot.buyOrderId = outcome.order.id;
    }
  }

  onWindowBar(): void {
    // A grid trades on prices, not on window analysis.
  }

  onTradingDayRoll(): void {
    // 24/7: the day's roll changes nothing for a grid.
  }

  onFill(fill: Fill, ctx: StrategyContext): void {
    const id = fill.order.id;
    const t = fill.trade;
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i] as GridSlotState;
      if (slot.buyOrderId === id) {
        slot.buyOrderId = null;
        slot.lots = t.volume;
        slot.cost = t.price;
        if (ctx.mode === 'live' && this.stopped === null) this.placeSell(i, ctx);
        return;
      }
      if (slot.sellOrderId === id) {
        slot.sellOrderId = null;
        slot.lots = Math.max(0, slot.lots - t.volume);
        if (slot.lots === 0) {
          slot.cost = null;
          this.roundTrips++;
        }
        return;
      }
    }
    if (t.vtSymbol === this.vtSymbol && t.offset === 'close' && t.side === 'sell') this.sellOff(t.volume);
  }

  onStop(ctx: StrategyContext): void {
    let cancelled = 0;
    for (const s of this.slots) {
      for (const id of [s.buyOrderId, s.sellOrderId]) if (id !== null && ctx.cancel(id, 'shutdown: placed again from the grid state after the restart') !== null) cancelled++;
      s.buyOrderId = null;
      s.sellOrderId = null;
    }
    if (cancelled > 0) ctx.log('INFO', `grid stopping: ${String(cancelled)} resting order(s) cancelled, to be placed again after the restart`, { cancelled });
  }

  /** A sell that was not a slot's own (the grid's stop, a flatten): the lots leave from the top level down. */
  private sellOff(volume: number): void {
    let left = volume;
    for (let i = this.slots.length - 1; i >= 0 && left > 0; i--) {
      const slot = this.slots[i] as GridSlotState;
      if (slot.lots === 0) continue;
      const take = Math.min(left, slot.lots);
      slot.lots -= take;
      left -= take;
      if (slot.lots === 0) slot.cost = null;
    }
  }

  private placeSell(i: number, ctx: StrategyContext): void {
    const slot = this.slots[i] as GridSlotState;
    const vtSymbol = this.vtSymbol as string;
    const level = this.levels[i + 1] as number;
    const outcome = ctx.submit({
      vtSymbol,
      side: 'sell',
      offset: 'close',
      type: 'limit',
      price: level,
      volume: slot.lots,
      tag: 'gridSell',
      detail: `grid level ${String(i)} bought at ${String(slot.cost)}, sold one level up at ${String(level)}`,
    });
    if (outcome.passed) slot.sellOrderId = outcome.order.id;
  }

  /**
   * A grid started without its own state (first start, or its parameters changed) over a book that
   * holds resting orders of its instrument: they belong to no slot of this grid and are cancelled;
   * lots already held are left to the trader (said once), not adopted onto lines they were not bought at.
   */
  private takeOverBook(vtSymbol: string, ctx: StrategyContext): void {
    this.orphansChecked = true;
    let cancelled = 0;
    for (const o of ctx.pendingOrders()) {
      if (o.vtSymbol === vtSymbol && o.type === 'limit' && ctx.cancel(o.id, 'not an order of this grid (its parameters changed)') !== null) cancelled++;
    }
    const held = ctx.position(vtSymbol, 'long')?.volume ?? 0;
    if (cancelled > 0 || held > 0) {
      ctx.log('WARNING', `grid starting over an existing book: ${String(cancelled)} resting order(s) cancelled; ${String(held)} lot(s) held are not managed by this grid`, { vtSymbol, cancelled, held });
    }
  }

  /** An order the state names but the book no longer rests (cancelled from outside: flatten, a shutdown) is forgotten, to be placed again. */
  private reconcile(ctx: StrategyContext): void {
    const resting = new Set<string>();
    for (const o of ctx.pendingOrders()) resting.add(o.id);
    for (const s of this.slots) {
      if (s.buyOrderId !== null && !resting.has(s.buyOrderId)) s.buyOrderId = null;
      if (s.sellOrderId !== null && !resting.has(s.sellOrderId)) s.sellOrderId = null;
    }
  }

  private stop(ctx: StrategyContext, price: number, reason: string): void {
    const vtSymbol = this.vtSymbol as string;
    this.stopped = { time: ctx.time, price, reason };
    let cancelled = 0;
    for (const s of this.slots) {
      for (const id of [s.buyOrderId, s.sellOrderId]) if (id !== null && ctx.cancel(id, 'grid stopped') !== null) cancelled++;
      s.buyOrderId = null;
      s.sellOrderId = null;
    }
    const held = ctx.closeable(vtSymbol, 'long');
    if (held > 0) ctx.submit({ vtSymbol, side: 'sell', offset: 'close', type: 'market', volume: held, tag: 'gridStop', detail: `grid stopped: ${reason}` });
    ctx.log('WARNING', `grid stopped: ${reason}`, { vtSymbol, price, cancelled, inventorySold: held });
    ctx.alert({
      level: 'WARNING',
      title: 'Grid stopped: the price left its band',
      message: `${vtSymbol}: ${reason}; ${String(cancelled)} resting order(s) cancelled${held > 0 ? `, ${String(held)} lot(s) sold at market` : ''}`,
      key: `grid-stopped:${vtSymbol}`,
    });
  }

  toState(): StrategyStateEnvelope {
    const data: GridState = {
      vtSymbol: this.vtSymbol,
      slots: this.slots.map((s) => ({ ...s })),
      stopped: this.stopped === null ? null : { ...this.stopped },
      roundTrips: this.roundTrips,
    };
    return { version: GRID_STATE_VERSION, data };
  }

  static restore(data: unknown, params: GridParams): GridStrategy {
    const what = 'grid state';
    assertObject(data, what);
    const d = data as Partial<Record<keyof GridState, unknown>>;
    const g = new GridStrategy(params);
    g.orphansChecked = true;
    if (d.vtSymbol !== null && typeof d.vtSymbol !== 'string') throw new Error(`${what} vtSymbol: expected a vtSymbol or null`);
    g.vtSymbol = d.vtSymbol;
    if (!Array.isArray(d.slots) || d.slots.length > GRID_MAX_LEVELS) throw new Error(`${what} slots: expected an array of at most ${String(GRID_MAX_LEVELS)}`);
    if (d.slots.length !== g.slots.length) throw new Error(`${what} slots: ${String(d.slots.length)} slots saved, the grid has ${String(g.slots.length)}`);
    g.slots = d.slots.map((s: unknown, i) => checkedSlot(s, `${what} slots[${String(i)}]`));
    if (d.stopped !== null) {
      assertObject(d.stopped, `${what} stopped`);
      const s = d.stopped as { time?: unknown; price?: unknown; reason?: unknown };
      assertFinite(s.time, `${what} stopped.time`);
      assertFinite(s.price, `${what} stopped.price`);
      if (typeof s.reason !== 'string') throw new Error(`${what} stopped.reason: expected text`);
      g.stopped = { time: s.time, price: s.price, reason: s.reason };
    }
    assertCount(d.roundTrips, `${what} roundTrips`);
    g.roundTrips = d.roundTrips;
    return g;
  }
}

function checkedSlot(value: unknown, where: string): GridSlotState {
  assertObject(value, where);
  const s = value as Partial<Record<keyof GridSlotState, unknown>>;
  const id = (k: 'buyOrderId' | 'sellOrderId'): string | null => {
    const v = s[k];
    if (v !== null && typeof v !== 'string') throw new Error(`${where}.${k}: expected an order id or null`);
    return v;
  };
  assertCount(s.lots, `${where}.lots`);
  if (s.cost !== null) assertFinite(s.cost, `${where}.cost`);
  return { buyOrderId: id('buyOrderId'), sellOrderId: id('sellOrderId'), lots: s.lots, cost: s.cost as number | null };
}

export const gridDefinition: RegisteredDefinition<GridParams> = {
  name: 'grid',
  paramsSchema: gridParamsSchema,
  parseParams: (input, where) => parseGridParams(input, where),
  stateVersion: GRID_STATE_VERSION,
  // Levels are prices, not indicators: a grid trades from its first bar.
  windowBarsToTrade: () => 0,
  create: (params) => new GridStrategy(params),
  restore: (data, params) => GridStrategy.restore(data, params),
  display: (params) => ({
    lines: [],
    panes: [],
    marks: [],
    badges: [],
    priceLines: gridLevels(params).map((price, i) => ({ price, label: `G${String(i)}` })),
    orders: true,
    fills: true,
  }),
};
