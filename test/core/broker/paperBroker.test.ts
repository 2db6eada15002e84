import { describe, expect, it } from 'vitest';
import { PaperBroker, type Fill, type OrderRequest, type PaperBrokerConfig, type PaperBrokerState } from '../../../src/core/broker/paperBroker.js';
import type { OhlcvBar } from '../../../src/shared/bar.js';
import { at, prng } from '../fixtures.js';

const RB = 'rb2505.SHFE';
const T0 = at('2025-01-06 09:00'); // a Monday

function minute(i: number, open: number, high: number, low: number, close: number): OhlcvBar {
  return { time: T0 + i * 60, open, high, low, close, volume: 10, turnover: 0, openInterest: 0 };
}

/** A flat bar: open = close = price, range ±1. */
function flat(i: number, price: number): OhlcvBar {
  return minute(i, price, price + 1, price - 1, price);
}

function broker(over: Partial<PaperBrokerConfig> = {}): PaperBroker {
  return new PaperBroker({
    idPrefix: 'v',
    priceTick: 1,
    contractMultiplier: 10,
    slippageTicks: 1,
    commission: { kind: 'perLot', amount: 2 },
    ...over,
  });
}

function order(over: Partial<OrderRequest> & Pick<OrderRequest, 'side' | 'offset'>): OrderRequest {
  return { vtSymbol: RB, type: 'market', volume: 1, time: T0, ...over };
}

describe('PaperBroker market orders', () => {
  it('fill at the NEXT bar open plus slippage for a buy, minus for a sell', () => {
    const b = broker();
    b.submit(order({ side: 'buy', offset: 'open', volume: 2, time: T0 + 60 }));
    b.submit(order({ side: 'sell', offset: 'open', volume: 1, time: T0 + 60 }));
    // The bar of the decision minute itself does not fill the order.
    expect(b.onMinuteBar(RB, flat(1, 3590)).fills).toEqual([]);
    const fills = b.onMinuteBar(RB, minute(2, 3600, 3610, 3595, 3605)).fills;
    expect(fills.map((f) => [f.trade.id, f.trade.orderId, f.trade.side, f.trade.price, f.trade.volume, f.trade.commission, f.trade.pnl])).toEqual([
      ['v-T1', 'v-O1', 'buy', 3601, 2, 4, null],
      ['v-T2', 'v-O2', 'sell', 3599, 1, 2, null],
    ]);
    expect(fills.every((f) => f.trade.time === T0 + 120 && f.order.status === 'filled')).toBe(true);
    expect(b.pendingOrders()).toEqual([]);
    // Long and short of one contract coexist (Chinese futures positions by direction).
    expect(b.positions().map((p) => [p.direction, p.volume, p.avgPrice])).toEqual([
      ['long', 2, 3601],
      ['short', 1, 3599],
    ]);
  });

  it('ignore a bar at or before the last one (restore overlap)', () => {
    const b = broker();
    b.onMinuteBar(RB, flat(5, 3600));
    b.submit(order({ side: 'buy', offset: 'open', time: T0 }));
    expect(b.onMinuteBar(RB, flat(5, 3600)).fills).toEqual([]);
    expect(b.onMinuteBar(RB, flat(4, 3600)).fills).toEqual([]);
    expect(b.onMinuteBar(RB, flat(6, 3650)).fills.map((f) => f.trade.price)).toEqual([3651]);
  });

  it('slip on a fractional tick without binary residue', () => {
    const b = broker({ contracts: { i: { priceTick: 0.2, contractMultiplier: 100 } }, slippageTicks: 2 });
    b.submit(order({ vtSymbol: 'i2505.DCE', side: 'buy', offset: 'open', time: T0 }));
    const [fill] = b.onMinuteBar('i2505.DCE', minute(1, 3.2, 3.4, 3.0, 3.2)).fills;
    expect(fill?.trade.price).toBe(3.6);
  });
});

describe('PaperBroker limit orders', () => {
  it('fill when a later bar touches the price, at the price, or at the open when it opens through', () => {
    const b = broker();
    b.submit(order({ side: 'buy', offset: 'open', type: 'limit', price: 3590, time: T0 }));
    b.submit(order({ side: 'sell', offset: 'open', type: 'limit', price: 3610, time: T0 }));
    expect(b.onMinuteBar(RB, minute(1, 3600, 3609, 3591, 3600)).fills).toEqual([]);
    // Low touches 3590 exactly: buy fills at 3590, no slippage on a limit.
    const a = b.onMinuteBar(RB, minute(2, 3595, 3600, 3590, 3592)).fills;
    expect(a.map((f) => [f.trade.side, f.trade.price])).toEqual([['buy', 3590]]);
    // Opens at 3615, above the sell limit: the seller gets the better open.
    const c = b.onMinuteBar(RB, minute(3, 3615, 3620, 3612, 3618)).fills;
    expect(c.map((f) => [f.trade.side, f.trade.price])).toEqual([['sell', 3615]]);
    b.submit(order({ side: 'buy', offset: 'open', type: 'limit', price: 3590, time: T0 + 180 }));
    const d = b.onMinuteBar(RB, minute(4, 3585, 3588, 3580, 3586)).fills;
    expect(d.map((f) => f.trade.price)).toEqual([3585]);
  });

  it('rejects a limit order without a price', () => {
    expect(() => broker().submit(order({ side: 'buy', offset: 'open', type: 'limit' }))).toThrow(/needs a positive price/);
    expect(() => broker().submit(order({ side: 'buy', offset: 'open', volume: 1.5 }))).toThrow(/whole number of lots/);
  });
});

describe('PaperBroker money', () => {
  it('charges commission per lot both ways and nets it into the closing pnl', () => {
    const b = broker();
    b.submit(order({ side: 'buy', offset: 'open', volume: 2 }));
    b.onMinuteBar(RB, flat(1, 3600)); // buys 2 @ 3601, commission 4
    b.submit(order({ side: 'sell', offset: 'close', volume: 2, time: T0 + 60 }));
    const [fill] = b.onMinuteBar(RB, flat(2, 3620)).fills; // sells 2 @ 3619, commission 4
    // (3619 − 3601) × 2 × 10 = 360, minus 4 (close) and 4 (open) = 352.
    expect(fill?.trade.commission).toBe(4);
    expect(fill?.trade.pnl).toBe(352);
    expect(b.realizedPnl).toBe(352);
    expect(b.commissionPaid).toBe(8);
    expect(b.positions()).toEqual([]);
  });

  it('charges commission by value rate both ways', () => {
    const b = broker({ commission: { kind: 'rate', rate: 0.0001 } });
    b.submit(order({ side: 'buy', offset: 'open', volume: 2 }));
    const [open] = b.onMinuteBar(RB, flat(1, 3600)).fills;
    // 3601 × 2 lots × 10 × 0.0001 = 7.202
    expect(open?.trade.commission).toBeCloseTo(7.202, 10);
    b.submit(order({ side: 'sell', offset: 'close', volume: 2, time: T0 + 60 }));
    const [close] = b.onMinuteBar(RB, flat(2, 3621)).fills;
    // 3620 × 20 × 0.0001 = 7.24; pnl = (3620 − 3601) × 20 − 7.24 − 7.202 = 365.558
    expect(close?.trade.price).toBe(3620);
    expect(close?.trade.commission).toBeCloseTo(7.24, 10);
    expect(close?.trade.pnl).toBeCloseTo(365.558, 9);
  });

  it('averages the price over adds; realises pnl on a partial and then a full close', () => {
    const b = broker();
    b.submit(order({ side: 'buy', offset: 'open', volume: 1 }));
    b.onMinuteBar(RB, flat(1, 3600)); // 1 @ 3601, commission 2
    b.submit(order({ side: 'buy', offset: 'open', volume: 2, time: T0 + 60 }));
    b.onMinuteBar(RB, flat(2, 3610)); // 2 @ 3611, commission 4
    const [pos] = b.positions();
    // (3601 + 2 × 3611) / 3 = 10823 / 3 = 3607.67
    expect(pos?.avgPrice).toBeCloseTo(10823 / 3, 9);
    expect(pos?.volume).toBe(3);
    expect(pos?.openCommission).toBe(6);

    b.submit(order({ side: 'sell', offset: 'close', volume: 1, time: T0 + 120 }));
    const [partial] = b.onMinuteBar(RB, flat(3, 3630)).fills; // 1 @ 3629
    // (3629 − 10823/3) × 10 = 640/3 = 213.33; minus 2 (close) and 6 × 1/3 = 2 (open share) → 209.33
    expect(partial?.trade.pnl).toBeCloseTo(640 / 3 - 4, 9);
    const [rest] = b.positions();
    expect(rest?.volume).toBe(2);
    expect(rest?.avgPrice).toBeCloseTo(10823 / 3, 9);
    expect(rest?.openCommission).toBeCloseTo(4, 12);

    b.submit(order({ side: 'sell', offset: 'close', volume: 2, time: T0 + 180 }));
    const [full] = b.onMinuteBar(RB, flat(4, 3600)).fills; // 2 @ 3599
    // (3599 − 10823/3) × 20 = −520/3 = −173.33; minus 4 (close) and 4 (open) → −181.33
    expect(full?.trade.pnl).toBeCloseTo(-520 / 3 - 8, 9);
    // All in: price gains 640/3 − 520/3 = 40, commissions 2 + 4 + 2 + 4 = 12.
    expect(b.realizedPnl).toBeCloseTo(28, 9);
    expect(b.positions()).toEqual([]);
  });

  it('realises a short: sells high, buys back lower; unrealised marks at the last close', () => {
    const b = broker();
    b.submit(order({ side: 'sell', offset: 'open' }));
    b.onMinuteBar(RB, minute(1, 3600, 3602, 3575, 3580)); // 1 @ 3599, marked at 3580
    const [pos] = b.positions();
    // (3580 − 3599) × 10 × (−1) − 2 carried commission = 188
    expect(pos?.lastPrice).toBe(3580);
    expect(pos?.unrealizedPnl).toBe(188);
    expect(b.unrealizedPnl()).toBe(188);
    expect(b.equity()).toBe(188);
    b.submit(order({ side: 'buy', offset: 'close', time: T0 + 60 }));
    const [fill] = b.onMinuteBar(RB, flat(2, 3570)).fills; // buys back @ 3571
    // (3599 − 3571) × 10 = 280, minus 2 + 2 = 276
    expect(fill?.trade.pnl).toBe(276);
    expect(b.equity()).toBe(276);
  });

  it('reports a flat round trip as 0, not −0 (JSON would not give −0 back)', () => {
    const b = broker({ commission: { kind: 'perLot', amount: 0 }, slippageTicks: 0 });
    b.submit(order({ side: 'sell', offset: 'open' }));
    b.onMinuteBar(RB, flat(1, 3600));
    b.submit(order({ side: 'buy', offset: 'close', time: T0 + 60 }));
    const [fill] = b.onMinuteBar(RB, flat(2, 3600)).fills;
    expect(Object.is(fill?.trade.pnl, 0)).toBe(true);
  });

  it('caps a close at the position and cancels a close with nothing to close', () => {
    const b = broker();
    b.submit(order({ side: 'buy', offset: 'open', volume: 2 }));
    b.onMinuteBar(RB, flat(1, 3600));
    b.submit(order({ side: 'sell', offset: 'close', volume: 5, time: T0 + 60 }));
    b.submit(order({ side: 'sell', offset: 'close', volume: 1, time: T0 + 60 }));
    const e = b.onMinuteBar(RB, flat(2, 3600));
    expect(e.fills.map((f) => f.trade.volume)).toEqual([2]);
    expect(e.cancelled.map((o) => [o.id, o.status, o.reason])).toEqual([['v-O3', 'cancelled', 'no long position of rb2505.SHFE to close']]);
  });
});

describe('PaperBroker brackets (stop-loss / take-profit)', () => {
  const bracket = { stopLoss: { unit: 'ticks', value: 10 }, takeProfit: { unit: 'ticks', value: 20 } } as const;

  it('places a stop and a limit at the entry fill, OCO; the take-profit fills at its price', () => {
    const b = broker();
    b.submit(order({ side: 'buy', offset: 'open', bracket }));
    const e = b.onMinuteBar(RB, flat(1, 3600)); // entry 3601 → SL 3591 (stop), TP 3621 (limit)
    expect(e.placed.map((o) => [o.id, o.type, o.side, o.offset, o.price, o.role, o.parentId])).toEqual([
      ['v-O2', 'stop', 'sell', 'close', 3591, 'stopLoss', 'v-O1'],
      ['v-O3', 'limit', 'sell', 'close', 3621, 'takeProfit', 'v-O1'],
    ]);
    const tp = b.onMinuteBar(RB, minute(2, 3610, 3625, 3605, 3620));
    expect(tp.fills.map((f) => [f.trade.price, f.trade.role, f.trade.pnl])).toEqual([[3621, 'takeProfit', 200 - 4]]);
    expect(tp.cancelled.map((o) => [o.id, o.reason])).toEqual([['v-O2', 'OCO: v-O3 filled']]);
    expect(b.pendingOrders()).toEqual([]);
  });

  it('stop fills at the stop minus slippage, at the open when it gaps through, and wins a bar that reaches both', () => {
    const b = broker();
    b.submit(order({ side: 'buy', offset: 'open', bracket }));
    b.onMinuteBar(RB, flat(1, 3600));
    // This bar reaches 3621 and 3591: the stop is assumed first.
    const both = b.onMinuteBar(RB, minute(2, 3600, 3625, 3590, 3600));
    expect(both.fills.map((f) => [f.trade.price, f.trade.role])).toEqual([[3590, 'stopLoss']]);

    b.submit(order({ side: 'buy', offset: 'open', bracket, time: T0 + 120 }));
    b.onMinuteBar(RB, flat(3, 3600)); // 3601 again
    const gap = b.onMinuteBar(RB, minute(4, 3580, 3582, 3570, 3575));
    // Opened through the 3591 stop: fills at the open 3580 − 1 tick.
    expect(gap.fills.map((f) => [f.trade.price, f.trade.pnl])).toEqual([[3579, (3579 - 3601) * 10 - 4]]);
  });

  it('judges the bracket on the entry bar itself: the entry filled at its open, the rest of the bar came after', () => {
    const b = broker();
    b.submit(order({ side: 'sell', offset: 'open', bracket }));
    // Short @ 3599 → SL 3609 (buy stop), TP 3579; the same bar rallies to 3612.
    const e = b.onMinuteBar(RB, minute(1, 3600, 3612, 3598, 3611));
    expect(e.fills.map((f) => [f.trade.side, f.trade.offset, f.trade.price, f.trade.role])).toEqual([
      ['sell', 'open', 3599, null],
      ['buy', 'close', 3610, 'stopLoss'],
    ]);
  });

  it('puts percent levels on the tick grid', () => {
    const b = broker();
    b.submit(order({ side: 'buy', offset: 'open', bracket: { stopLoss: { unit: 'percent', value: 1 }, takeProfit: { unit: 'percent', value: 2 } } }));
    const e = b.onMinuteBar(RB, flat(1, 3600));
    // 3601 × 0.99 = 3564.99 → 3565; 3601 × 1.02 = 3673.02 → 3673
    expect(e.placed.map((o) => o.price)).toEqual([3565, 3673]);
  });

  it('cancels the protection when the position is closed otherwise', () => {
    const b = broker();
    b.submit(order({ side: 'buy', offset: 'open', bracket }));
    b.onMinuteBar(RB, flat(1, 3600));
    b.submit(order({ side: 'sell', offset: 'close', time: T0 + 60 }));
    const e = b.onMinuteBar(RB, flat(2, 3600));
    expect(e.cancelled.map((o) => o.role)).toEqual(['stopLoss', 'takeProfit']);
    expect(b.pendingOrders()).toEqual([]);
  });
});

describe('PaperBroker state', () => {
  /** Random orders on a random walk; the same seed gives the same script. */
  function script(seed: number, bars: number): { bars: OhlcvBar[]; orders: Map<number, OrderRequest[]> } {
    const rnd = prng(seed);
    const out: OhlcvBar[] = [];
    const orders = new Map<number, OrderRequest[]>();
    let price = 3600;
    for (let i = 0; i < bars; i++) {
      const open = price + Math.round((rnd() - 0.5) * 4);
      const close = open + Math.round((rnd() - 0.5) * 10);
      out.push(minute(i, open, Math.max(open, close) + Math.round(rnd() * 4), Math.min(open, close) - Math.round(rnd() * 4), close));
      price = close;
      if (rnd() < 0.3) {
        const kind = rnd();
        const side = rnd() < 0.5 ? 'buy' : 'sell';
        const offset = rnd() < 0.6 ? 'open' : 'close';
        const type = kind < 0.5 ? 'market' : kind < 0.8 ? 'limit' : 'stop';
        const off = Math.round(rnd() * 8);
        const level = type === 'limit' ? (side === 'buy' ? close - off : close + off) : side === 'buy' ? close + off : close - off;
        const withBracket = offset === 'open' && rnd() < 0.5;
        orders.set(i, [
          {
            vtSymbol: RB,
            side,
            offset,
            type,
            price: type === 'market' ? null : level,
            volume: 1 + Math.floor(rnd() * 3),
            time: T0 + i * 60,
            bracket: withBracket ? { stopLoss: { unit: 'ticks', value: 3 + Math.floor(rnd() * 5) }, takeProfit: rnd() < 0.5 ? null : { unit: 'percent', value: 0.1 } } : null,
          },
        ]);
      }
    }
    return { bars: out, orders };
  }

  function run(b: PaperBroker, s: ReturnType<typeof script>, from: number, to: number, fills: Fill[]): void {
    for (let i = from; i < to; i++) {
      const bar = s.bars[i];
      if (bar === undefined) continue;
      fills.push(...b.onMinuteBar(RB, bar).fills);
      for (const o of s.orders.get(i) ?? []) b.submit(o);
    }
  }

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: resuming from a JSON state mid-way equals the uninterrupted run', (seed) => {
    const s = script(seed, 600);
    const cfg: PaperBrokerConfig = { idPrefix: 'v', priceTick: 1, contractMultiplier: 10, slippageTicks: 1, commission: { kind: 'rate', rate: 0.00013 } };
    const straight: Fill[] = [];
    const a = new PaperBroker(cfg);
    run(a, s, 0, 600, straight);

    const split = 50 + Math.floor(prng(seed * 7)() * 500);
    const resumed: Fill[] = [];
    const first = new PaperBroker(cfg);
    run(first, s, 0, split, resumed);
    const text = JSON.stringify(first.toState());
    const b = PaperBroker.fromState(JSON.parse(text) as PaperBrokerState, cfg);
    expect(b.toState()).toEqual(first.toState());
    run(b, s, split, 600, resumed);

    expect(straight.length).toBeGreaterThan(20);
    expect(straight.some((f) => f.trade.role === 'stopLoss')).toBe(true);
    expect(resumed).toEqual(straight);
    expect(b.toState()).toEqual(a.toState());
    expect(b.positions()).toEqual(a.positions());
    expect(b.equity()).toBe(a.equity());
  });

  it('rejects a state with a malformed order, naming the field', () => {
    const b = broker();
    b.submit(order({ side: 'buy', offset: 'open' }));
    const state = JSON.parse(JSON.stringify(b.toState())) as PaperBrokerState;
    (state.orders[0] as unknown as Record<string, unknown>).side = 'long';
    expect(() => PaperBroker.fromState(state, { idPrefix: 'v', priceTick: 1, contractMultiplier: 10, slippageTicks: 1, commission: { kind: 'perLot', amount: 2 } })).toThrow(
      /orders\[0\]\.side: long/,
    );
  });
});
