import { describe, expect, it } from 'vitest';
import { ContinuousCalendar, calendarForExchange } from '../../../src/core/market/continuousCalendar.js';
import { TradingCalendar } from '../../../src/core/market/tradingCalendar.js';
import type { TradeRow } from '../../../src/core/broker/paperBroker.js';
import { copyEvents, TradingEngine, type EngineEvents } from '../../../src/core/strategy/engine.js';
import { gridLevels, lotsAt } from '../../../src/core/strategy/grid/gridLevels.js';
import type { GridStrategy } from '../../../src/core/strategy/grid/gridStrategy.js';
import { strategyFor } from '../../../src/core/strategy/registry.js';
import type { TradingMode } from '../../../src/core/strategy/strategy.js';
import { parseGridParams, type GridParamsInput } from '../../../src/shared/gridParams.js';
import { variantConfigSchema } from '../../../src/shared/config.js';

const VT = 'BTCUSDT.BINANCE';
/** 2024-01-01 00:00 UTC, a Monday. */
const T0 = 1_704_067_200;

const base: GridParamsInput = {
  lower: 100,
  upper: 110,
  levels: 6,
  size: { kind: 'quantity', lots: 1 },
  stopBelow: 1,
  stopAbove: 0,
  priceTick: 0.5,
  contractMultiplier: 1,
  slippageTicks: 0,
};

function engineFor(params: GridParamsInput = base): TradingEngine {
  const bound = strategyFor('grid', params, 'test grid');
  return new TradingEngine(bound, { variant: 'g', windowMinutes: 1, calendar: new ContinuousCalendar(), externalWindows: true });
}

function bar(minute: number, open: number, high: number, low: number, close: number) {
  return { time: T0 + minute * 60, open, high, low, close, volume: 1, turnover: 0, openInterest: 0 };
}

function feed(engine: TradingEngine, rows: [number, number, number, number, number][], mode: TradingMode = 'live'): EngineEvents[] {
  return rows.map(([m, o, h, l, c]) => copyEvents(engine.onMinuteBar(VT, bar(m, o, h, l, c), mode)));
}

function trades(events: EngineEvents[]): Pick<TradeRow, 'side' | 'offset' | 'price' | 'volume' | 'tag'>[] {
  return events.flatMap((e) => e.fills.map((f) => ({ side: f.trade.side, offset: f.trade.offset, price: f.trade.price, volume: f.trade.volume, tag: f.trade.tag })));
}

function resting(engine: TradingEngine): string[] {
  return engine
    .pendingOrders()
    .map((o) => `${o.side} ${String(o.price)}`)
    .sort();
}

describe('grid levels', () => {
  it('spaces arithmetic levels evenly and geometric ones by a constant ratio, on the tick', () => {
    expect(gridLevels({ lower: 100, upper: 110, levels: 6, spacing: 'arithmetic', priceTick: 0.5 })).toEqual([100, 102, 104, 106, 108, 110]);
    // 100 × (121/100)^(i/2): 100, 110, 121 — a constant ratio of 1.1.
    expect(gridLevels({ lower: 100, upper: 121, levels: 3, spacing: 'geometric', priceTick: 0.01 })).toEqual([100, 110, 121]);
    // 1 × 2^(i/3) = 1, 1.2599…, 1.5874…, 2, rounded to the 0.01 tick.
    expect(gridLevels({ lower: 1, upper: 2, levels: 4, spacing: 'geometric', priceTick: 0.01 })).toEqual([1, 1.26, 1.59, 2]);
  });

  it('sizes a level by quantity, or by the lots a quote amount buys', () => {
    expect(lotsAt({ kind: 'quantity', lots: 3 }, 100, 10)).toBe(3);
    // 2,500 / (100 × 10) = 2.5 → 2 whole lots; 1,000 buys exactly 1 at 100 × 10.
    expect(lotsAt({ kind: 'quote', amount: 2_500 }, 100, 10)).toBe(2);
    expect(lotsAt({ kind: 'quote', amount: 1_000 }, 100, 10)).toBe(1);
    expect(lotsAt({ kind: 'quote', amount: 999 }, 100, 10)).toBe(0);
  });
});

describe('grid params', () => {
  it('names the wrong field', () => {
    expect(() => parseGridParams({ ...base, upper: 90 }, 'variant g')).toThrow(/variant g: upper: upper \(90\) must be above lower \(100\)/);
    expect(() => parseGridParams({ ...base, levels: 1 }, 'variant g')).toThrow(/levels: a grid has at least 2 levels/);
    expect(() => parseGridParams({ ...base, spacing: 'log' }, 'variant g')).toThrow(/spacing/);
    expect(() => parseGridParams({ ...base, levels: 100, priceTick: 1 }, 'variant g')).toThrow(/levels: 100 levels between 100 and 110 are closer than one price tick/);
  });

  it('is validated by Settings through the variant schema, with the field path', () => {
    const ok = variantConfigSchema.safeParse({ name: 'g1', strategy: 'grid', vtSymbol: VT, windowMinutes: 1, params: base });
    expect(ok.success).toBe(true);
    const bad = variantConfigSchema.safeParse({ name: 'g1', strategy: 'grid', vtSymbol: VT, windowMinutes: 1, params: { ...base, size: { kind: 'quote', amount: -5 } } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['params.size.amount']);
  });
});

describe('grid strategy (hand-worked fills)', () => {
  it('rests buys below the price, sells one level up for each fill, and stops below the band', () => {
    const engine = engineFor();
    const grid = engine.strategy as GridStrategy;
    // Close 105: buys rest at the levels below it, 100, 102 and 104; none above.
    feed(engine, [[0, 105, 105, 105, 105]]);
    expect(resting(engine)).toEqual(['buy 100', 'buy 102', 'buy 104']);

    // Low 103.5 touches 104: bought at 104 (the bar opened above it); its sell rests at 106.
    let ev = feed(engine, [[1, 105, 105, 103.5, 104]]);
    expect(trades(ev)).toEqual([{ side: 'buy', offset: 'open', price: 104, volume: 1, tag: 'gridBuy' }]);
    expect(resting(engine)).toEqual(['buy 100', 'buy 102', 'sell 106']);
    expect(grid.inventory).toBe(1);
    expect(grid.averageCost).toBe(104);

    // High 106 sells it (one round trip, +2); the close 105.5 is above 104 again: the buy is back.
    ev = feed(engine, [[2, 104, 106, 104, 105.5]]);
    expect(trades(ev)).toEqual([{ side: 'sell', offset: 'close', price: 106, volume: 1, tag: 'gridSell' }]);
    expect(ev[0]?.fills[0]?.trade.pnl).toBe(2);
    expect(grid.completedRoundTrips).toBe(1);
    expect(resting(engine)).toEqual(['buy 100', 'buy 102', 'buy 104']);

    // Down to 101.5: 104 and 102 both fill; sells at 106 and 104; inventory 2 at (104 + 102) / 2.
    ev = feed(engine, [[3, 105, 105, 101.5, 102]]);
    // In the order the broker holds them: 102 rested first, 104 was placed again at minute 2.
    expect(trades(ev).map((t) => `${t.side} ${String(t.price)}`)).toEqual(['buy 102', 'buy 104']);
    expect(resting(engine)).toEqual(['buy 100', 'sell 104', 'sell 106']);
    expect(grid.inventory).toBe(2);
    expect(grid.averageCost).toBe(103);
    expect(grid.filledLevels()).toEqual([1, 2]);

    // A gap: the bar opens at 99.5, below 100, so the limit buy fills at the open (better than its level).
    // Close 99.5 is below lower but above the floor 100 − 1: the grid keeps running.
    ev = feed(engine, [[4, 99.5, 99.8, 99, 99.5]]);
    expect(trades(ev).map((t) => `${t.side} ${String(t.price)}`)).toEqual(['buy 99.5']);
    expect(resting(engine)).toEqual(['sell 102', 'sell 104', 'sell 106']);
    expect(grid.averageCost).toBe((104 + 102 + 99.5) / 3);
    expect(grid.isStopped).toBe(false);

    // Close 97.5 < 99: stopped — the three sells are cancelled, 3 lots sold at market, one alert.
    ev = feed(engine, [[5, 99, 99, 97, 97.5]]);
    expect(ev[0]?.cancelled.map((o) => `${o.side} ${String(o.price)}`).sort()).toEqual(['sell 102', 'sell 104', 'sell 106']);
    expect(ev[0]?.ordersSent.map((o) => `${o.type} ${o.side} ${String(o.volume)} ${String(o.tag)}`)).toEqual(['market sell 3 gridStop']);
    expect(ev[0]?.alerts.map((a) => a.title)).toEqual(['Grid stopped: the price left its band']);
    expect(grid.isStopped).toBe(true);

    // The market sell fills at the next open (no slippage configured); nothing more is placed, ever.
    ev = feed(engine, [
      [6, 97, 98, 96, 97],
      [7, 105, 105, 105, 105],
    ]);
    expect(trades(ev)).toEqual([{ side: 'sell', offset: 'close', price: 97, volume: 3, tag: 'gridStop' }]);
    expect(grid.inventory).toBe(0);
    expect(engine.pendingOrders()).toEqual([]);
    // Realised: +2 (104→106), then (97 − 104) + (97 − 102) + (97 − 99.5) = −14.5.
    expect(engine.realizedPnl).toBeCloseTo(2 - 14.5, 9);
  });

  it('stops above the band with stopAbove 0 once a close passes upper', () => {
    const engine = engineFor();
    feed(engine, [[0, 105, 105, 105, 105]]);
    const ev = feed(engine, [[1, 105, 111, 105, 110.5]]);
    expect(ev[0]?.cancelled).toHaveLength(3);
    expect(ev[0]?.alerts[0]?.message).toMatch(/above the band's ceiling 110/);
    expect((engine.strategy as GridStrategy).isStopped).toBe(true);
  });

  it('sizes by quote amount at each level', () => {
    const engine = engineFor({ ...base, size: { kind: 'quote', amount: 205 } });
    feed(engine, [[0, 105, 105, 105, 105]]);
    // 205 buys 2 lots at 100 and 102 (≥ 200, 204), 1 lot at 104 (208 > 205).
    expect(engine.pendingOrders().map((o) => `${String(o.price)}×${String(o.volume)}`)).toEqual(['100×2', '102×2', '104×1']);
  });

  it('places nothing while restoring or halted', () => {
    const engine = engineFor();
    feed(engine, [[0, 105, 105, 105, 105]], 'restoring');
    feed(engine, [[1, 105, 105, 105, 105]], 'halted');
    expect(engine.pendingOrders()).toEqual([]);
    feed(engine, [[2, 105, 105, 105, 105]]);
    expect(resting(engine)).toEqual(['buy 100', 'buy 102', 'buy 104']);
  });

  it('continues from its state exactly as an uninterrupted run, and the state stays small', () => {
    const path: [number, number, number, number, number][] = [];
    const priceAt = (m: number): number => Math.round((105 + 3.5 * Math.sin(m / 7) + 1.2 * Math.sin(m / 97)) * 2) / 2;
    for (let m = 0; m < 3_000; m++) {
      const [o, c] = [priceAt(m - 1), priceAt(m)];
      path.push([m, o, Math.max(o, c), Math.min(o, c), c]);
    }
    const whole = engineFor();
    const all = trades(feed(whole, path));
    expect(all.length).toBeGreaterThan(50);

    const first = engineFor();
    const before = trades(feed(first, path.slice(0, 1_234)));
    const state = JSON.parse(JSON.stringify(first.toState())) as ReturnType<TradingEngine['toState']>;
    const resumed = TradingEngine.fromState(state, strategyFor('grid', base, 'test grid'), { variant: 'g', windowMinutes: 1, calendar: new ContinuousCalendar(), externalWindows: true });
    const after = trades(feed(resumed, path.slice(1_234)));
    expect([...before, ...after]).toEqual(all);
    expect(resumed.realizedPnl).toBe(whole.realizedPnl);
    // Bounded: one slot per level whatever the run's length.
    expect(JSON.stringify(resumed.toState().strategyState).length).toBeLessThan(2_000);
  });

  it('cancels its resting orders at a graceful stop and places the same ones again after the restart', () => {
    const engine = engineFor();
    feed(engine, [
      [0, 105, 105, 105, 105],
      [1, 105, 105, 103.5, 104],
    ]);
    expect(resting(engine)).toEqual(['buy 100', 'buy 102', 'sell 106']);
    const stopped = copyEvents(engine.stop());
    expect(stopped.cancelled.map((o) => `${o.side} ${String(o.price)}`).sort()).toEqual(['buy 100', 'buy 102', 'sell 106']);
    expect(engine.pendingOrders()).toEqual([]);
    const state = JSON.parse(JSON.stringify(engine.toState())) as ReturnType<TradingEngine['toState']>;
    const resumed = TradingEngine.fromState(state, strategyFor('grid', base, 'test grid'), { variant: 'g', windowMinutes: 1, calendar: new ContinuousCalendar(), externalWindows: true });
    expect((resumed.strategy as GridStrategy).inventory).toBe(1);
    feed(resumed, [[2, 104, 104.5, 103.8, 104.2]]);
    expect(resting(resumed)).toEqual(['buy 100', 'buy 102', 'sell 106']);
  });

  it('with changed parameters, cancels the old grid\'s resting orders and leaves its lots alone', () => {
    const engine = engineFor();
    feed(engine, [
      [0, 105, 105, 105, 105],
      [1, 105, 105, 103.5, 104],
    ]);
    const state = JSON.parse(JSON.stringify(engine.toState())) as ReturnType<TradingEngine['toState']>;
    const changed = { ...base, lower: 101, upper: 107, levels: 4 };
    const resumed = TradingEngine.fromState(state, strategyFor('grid', changed, 'test grid'), { variant: 'g', windowMinutes: 1, calendar: new ContinuousCalendar(), externalWindows: true, allowConfigChange: true });
    const ev = feed(resumed, [[2, 104, 104.5, 103.8, 104.2]]);
    expect(ev[0]?.cancelled.map((o) => `${o.side} ${String(o.price)}`).sort()).toEqual(['buy 100', 'buy 102', 'sell 106']);
    expect(ev[0]?.log.some((l) => l.level === 'WARNING' && /1 lot\(s\) held are not managed/.test(l.message))).toBe(true);
    // The new lines: 101, 103, 105, 107; below 104.2: 101 and 103.
    expect(resting(resumed)).toEqual(['buy 101', 'buy 103']);
    expect(resumed.position(VT, 'long')?.volume).toBe(1);
  });

  it('refuses a state saved for another number of levels, naming it', () => {
    const engine = engineFor();
    feed(engine, [[0, 105, 105, 105, 105]]);
    const state = engine.toState().strategyState;
    const other = strategyFor('grid', { ...base, levels: 4 }, 'test grid');
    expect(() => other.restore(state, 'state')).toThrow(/grid state slots: 5 slots saved, the grid has 3/);
  });
});

describe('24/7 calendar', () => {
  it('is open every minute, has no session end, and its trading day is the UTC date', () => {
    const c = new ContinuousCalendar();
    const saturdayNight = T0 + 5 * 86_400 + 23 * 3_600 + 59 * 60;
    expect(c.isOpen(saturdayNight)).toBe(true);
    expect(c.sessionEndsAt(saturdayNight)).toBeNull();
    expect(c.tradingDay(saturdayNight)).toBe('2024-01-06');
    expect(c.tradingDay(saturdayNight + 60)).toBe('2024-01-07');
    expect(c.nextOpenMinute(saturdayNight)).toBe(saturdayNight + 60);
    expect(calendarForExchange('BINANCE')).toBeInstanceOf(ContinuousCalendar);
    expect(calendarForExchange('SHFE')).not.toBeInstanceOf(ContinuousCalendar);
    expect(calendarForExchange('SHFE')).toBeInstanceOf(TradingCalendar);
  });

  it('never closes a grid at a session end, even with closeAtSessionEnd on', () => {
    const engine = engineFor({ ...base, closeAtSessionEnd: true, sessionEndMinPauseMinutes: 1 });
    feed(engine, [
      [0, 105, 105, 105, 105],
      [1, 105, 105, 103.5, 104],
    ]);
    // 23:58–00:01 across the date line: a futures calendar would call the day's end here.
    const ev = feed(engine, [
      [1_438, 104.5, 104.5, 104.5, 104.5],
      [1_439, 104.5, 104.5, 104.5, 104.5],
      [1_440, 104.5, 104.5, 104.5, 104.5],
    ]);
    expect(ev.flatMap((e) => e.ordersSent.filter((o) => o.tag === 'sessionEnd'))).toEqual([]);
    expect((engine.strategy as GridStrategy).inventory).toBe(1);
    expect(engine.tradingDay).toBe('2024-01-02');
  });
});
