import { describe, expect, it } from 'vitest';
import { TradingEngine, type EngineState } from '../../../src/core/strategy/engine.js';
import { strategyFor } from '../../../src/core/strategy/registry.js';
import type { MacdTdConfigInput } from '../../../src/shared/strategyConfig.js';
import { at } from '../fixtures.js';
import { Tape, analysis, macdTdEngine, minuteBar } from './tape.js';

const RB = 'rb2505.SHFE';
/** Tick 1, multiplier 10, 1 tick slippage, 2 per lot each way: easy sums. */
const BASE: MacdTdConfigInput = { priceTick: 1, contractMultiplier: 10, slippageTicks: 1, commission: { kind: 'perLot', amount: 2 } };

function make(over: MacdTdConfigInput = {}, activeContracts?: Record<string, string>): { s: TradingEngine; tape: Tape } {
  const s = macdTdEngine({ ...BASE, ...over }, { variant: 'rb-15m', ...(activeContracts ? { activeContracts } : {}) });
  return { s, tape: new Tape(s, RB) };
}

const bottomDiv = { bottomDivergence: true } as const;
const topDiv = { topDivergence: true } as const;

describe('MACD-TD through the engine entries', () => {
  it('opens long on a bottom divergence with a not-bear EMA; the order fills at the next minute open + slippage', () => {
    const { s, tape } = make();
    const e = tape.step('2025-01-06 09:00', 3600, { ...bottomDiv, emaState: 'neutral' });
    expect(e.ordersSent.map((o) => [o.id, o.side, o.offset, o.type, o.volume, o.createdAt])).toEqual([['rb-15m-O1', 'buy', 'open', 'market', 1, at('2025-01-06 09:14')]]);
    expect(e.decisions).toMatchObject([{ kind: 'open', direction: 'long', reason: 'bottomSignal', outcome: 'sent', detail: 'bottom divergence, confirmed by EMA state neutral' }]);
    expect(s.positions()).toEqual([]);
    expect(s.opensToday('rb')).toBe(1);

    const fill = tape.minute('2025-01-06 09:15', 3602);
    expect(fill.fills.map((f) => [f.trade.id, f.trade.price, f.trade.time])).toEqual([['rb-15m-T1', 3603, at('2025-01-06 09:15')]]);
    expect(s.positions().map((p) => [p.vtSymbol, p.direction, p.volume, p.avgPrice])).toEqual([[RB, 'long', 1, 3603]]);
  });

  it('does not open on a bottom signal when the EMA state is bear and no buy 9 is recent', () => {
    const { s, tape } = make();
    const e = tape.step('2025-01-06 09:00', 3600, { ...bottomDiv, emaState: 'bear' });
    expect(e.ordersSent).toEqual([]);
    expect(e.decisions).toEqual([]);
    expect(s.opensToday()).toBe(0);
  });

  it('takes a buy setup 9 as confirmation when it completed within nineWithinBars window bars', () => {
    const nine = { marks: [{ time: 0, side: 'buy' as const, kind: 9 as const, price: 3590 }] };
    // nineWithinBars 3: a 9 two bars before the signal bar confirms ...
    const a = make({ nineWithinBars: 3 });
    a.tape.step('2025-01-06 09:00', 3600, nine);
    a.tape.step('2025-01-06 09:15', 3600);
    const ok = a.tape.step('2025-01-06 09:30', 3600, { ...bottomDiv, emaState: 'bear' });
    expect(ok.decisions.map((d) => d.detail)).toEqual(['bottom divergence, confirmed by buy setup 9 2 bar(s) ago']);
    // ... three bars before does not.
    const b = make({ nineWithinBars: 3 });
    b.tape.step('2025-01-06 09:00', 3600, nine);
    b.tape.step('2025-01-06 09:15', 3600);
    b.tape.step('2025-01-06 09:30', 3600);
    expect(b.tape.step('2025-01-06 09:45', 3600, { ...bottomDiv, emaState: 'bear' }).ordersSent).toEqual([]);
    // A sell 9 does not confirm a long.
    const c = make();
    expect(c.tape.step('2025-01-06 09:00', 3600, { ...bottomDiv, emaState: 'bear', marks: [{ time: 0, side: 'sell', kind: 9, price: 3610 }] }).ordersSent).toEqual([]);
  });

  it('takes bottom dullness in structure (not mere dull) as a bottom signal, for as long as it stays there', () => {
    const { tape } = make();
    expect(tape.step('2025-01-06 09:00', 3600, { bottomDullness: 'dull' }).ordersSent).toEqual([]);
    // Structure on a bear bar: no confirmation yet; on the next bar, still structure, the EMA turns neutral.
    expect(tape.step('2025-01-06 09:15', 3600, { bottomDullness: 'structure', emaState: 'bear' }).ordersSent).toEqual([]);
    const e = tape.step('2025-01-06 09:30', 3600, { bottomDullness: 'structure', emaState: 'neutral' });
    expect(e.decisions.map((d) => [d.direction, d.detail])).toEqual([['long', 'bottom dullness structure, confirmed by EMA state neutral']]);
  });

  it('opens short on the mirrored top signal (EMA not bull), and never when both signals are present', () => {
    const { s, tape } = make();
    expect(tape.step('2025-01-06 09:00', 3600, { ...bottomDiv, ...topDiv }).ordersSent).toEqual([]);
    const e = tape.step('2025-01-06 09:15', 3600, { topDullness: 'structure', emaState: 'bear' });
    expect(e.ordersSent.map((o) => [o.side, o.offset])).toEqual([['sell', 'open']]);
    tape.minute('2025-01-06 09:30', 3600);
    expect(s.positions().map((p) => [p.direction, p.avgPrice])).toEqual([['short', 3599]]);
  });

  it('enters once per signal episode: no re-entry after a stop-loss until the signal has gone and come back', () => {
    const { s, tape } = make({ stopLoss: { unit: 'ticks', value: 5 } });
    tape.step('2025-01-06 09:00', 3600, bottomDiv);
    tape.minute('2025-01-06 09:15', 3600); // long @ 3601, stop 3596
    const stop = tape.minute('2025-01-06 09:16', 3598, 3599, 3590, 3592);
    expect(stop.fills.map((f) => [f.trade.price, f.trade.role])).toEqual([[3595, 'stopLoss']]);
    // Same episode still active: nothing.
    expect(tape.step('2025-01-06 09:15', 3592, bottomDiv).ordersSent).toEqual([]);
    expect(tape.step('2025-01-06 09:30', 3592).ordersSent).toEqual([]);
    // A new episode: enters again.
    expect(tape.step('2025-01-06 09:45', 3592, bottomDiv).ordersSent.map((o) => o.side)).toEqual(['buy']);
    expect(s.opensToday()).toBe(2);
  });
});

describe('MACD-TD through the engine exits', () => {
  function longAt3603(over: MacdTdConfigInput = {}): { s: TradingEngine; tape: Tape } {
    const m = make(over);
    m.tape.step('2025-01-06 09:00', 3600, bottomDiv);
    m.tape.minute('2025-01-06 09:15', 3602);
    return m;
  }

  it('closes a long on the top signal; a bull EMA keeps it from reversing', () => {
    const { s, tape } = longAt3603();
    const e = tape.step('2025-01-06 09:15', 3640, { ...topDiv, emaState: 'bull' });
    expect(e.ordersSent.map((o) => [o.side, o.offset, o.volume, o.tag])).toEqual([['sell', 'close', 1, 'topSignal']]);
    const f = tape.minute('2025-01-06 09:30', 3650);
    // (3649 − 3603) × 10 − 2 − 2 = 456
    expect(f.fills.map((x) => [x.trade.price, x.trade.pnl])).toEqual([[3649, 456]]);
    expect(s.positions()).toEqual([]);
    expect(s.realizedPnl).toBe(456);
  });

  it('reverses a long into a short when the top signal is confirmed', () => {
    const { s, tape } = longAt3603();
    const e = tape.step('2025-01-06 09:15', 3640, { ...topDiv, emaState: 'neutral' });
    expect(e.ordersSent.map((o) => [o.side, o.offset])).toEqual([
      ['sell', 'close'],
      ['sell', 'open'],
    ]);
    tape.minute('2025-01-06 09:30', 3650);
    expect(s.positions().map((p) => [p.direction, p.volume, p.avgPrice])).toEqual([['short', 1, 3649]]);
    expect(s.opensToday()).toBe(2);
  });

  it('stops out in ticks: the stop fills at its level less slippage on the minute that touches it', () => {
    const { s, tape } = longAt3603({ stopLoss: { unit: 'ticks', value: 10 } }); // stop 3593
    expect(s.pendingOrders().map((o) => [o.type, o.price, o.role])).toEqual([['stop', 3593, 'stopLoss']]);
    expect(tape.minute('2025-01-06 09:16', 3600, 3601, 3594, 3595).fills).toEqual([]);
    const e = tape.minute('2025-01-06 09:17', 3595, 3596, 3592, 3594);
    // min(3593, open 3595) − 1 = 3592; (3592 − 3603) × 10 − 4 = −114
    expect(e.fills.map((f) => [f.trade.price, f.trade.pnl, f.trade.role])).toEqual([[3592, -114, 'stopLoss']]);
    expect(e.log.some((l) => l.message.startsWith('stop-loss filled'))).toBe(true);
  });

  it('takes profit in percent at the level, rounded to the tick', () => {
    const { s, tape } = longAt3603({ takeProfit: { unit: 'percent', value: 1 } }); // 3603 × 1.01 = 3639.03 → 3639
    expect(s.pendingOrders().map((o) => [o.type, o.price, o.role])).toEqual([['limit', 3639, 'takeProfit']]);
    const e = tape.minute('2025-01-06 09:16', 3630, 3640, 3629, 3638);
    // (3639 − 3603) × 10 − 4 = 356
    expect(e.fills.map((f) => [f.trade.price, f.trade.pnl])).toEqual([[3639, 356]]);
  });

  it('stops out in percent', () => {
    const { tape } = longAt3603({ stopLoss: { unit: 'percent', value: 0.5 } }); // 3603 × 0.995 = 3584.985 → 3585
    const e = tape.minute('2025-01-06 09:16', 3590, 3591, 3580, 3581);
    expect(e.fills.map((f) => f.trade.price)).toEqual([3584]);
  });
});

describe('MACD-TD through the engine session end', () => {
  it('closes before 15:00 (sent on the second-to-last minute, filled at the last minute open), not before lunch', () => {
    const { s, tape } = make({ closeAtSessionEnd: true });
    tape.step('2025-01-06 11:00', 3600, bottomDiv);
    tape.minute('2025-01-06 11:15', 3600); // long @ 3601
    // 11:28, 11:29: lunch (a two-hour pause) is not a session end for closeAtSessionEnd.
    expect(tape.minute('2025-01-06 11:28', 3600).ordersSent).toEqual([]);
    expect(tape.minute('2025-01-06 11:29', 3600).ordersSent).toEqual([]);
    expect(tape.minute('2025-01-06 14:57', 3610).ordersSent).toEqual([]);
    const e = tape.minute('2025-01-06 14:58', 3610);
    expect(e.ordersSent.map((o) => [o.side, o.offset, o.tag])).toEqual([['sell', 'close', 'sessionEnd']]);
    expect(e.decisions.map((d) => [d.reason, d.outcome])).toEqual([['sessionEnd', 'sent']]);
    const f = tape.minute('2025-01-06 14:59', 3612);
    expect(f.fills.map((x) => [x.trade.price, x.trade.pnl])).toEqual([[3611, 96]]);
    expect(s.positions()).toEqual([]);
  });

  it('closes before the night session ends, and does not open on a window that closes in the last two minutes', () => {
    const { s, tape } = make({ closeAtSessionEnd: true });
    tape.step('2025-01-06 22:00', 3600, bottomDiv);
    tape.minute('2025-01-06 22:15', 3600);
    expect(tape.minute('2025-01-06 22:58', 3600).ordersSent.map((o) => o.tag)).toEqual(['sessionEnd']);
    tape.minute('2025-01-06 22:59', 3600);
    expect(s.positions()).toEqual([]);
    tape.step('2025-01-07 14:30', 3600); // the 22:00 episode ends
    // The 14:45 window closes at 14:59: its signal would fill at the night open; it is skipped.
    const e = tape.step('2025-01-07 14:45', 3600, { ...bottomDiv, emaState: 'bull' });
    expect(e.ordersSent).toEqual([]);
    expect(e.decisions.map((d) => [d.outcome, d.detail])).toEqual([['refused', 'bottom divergence, confirmed by EMA state bull; the session ends']]);
    // Only the night open counts: 2025-01-06 22:00 already belonged to trading day 2025-01-07.
    expect(s.tradingDay).toBe('2025-01-07');
    expect(s.opensToday()).toBe(1);
  });
});

describe('MACD-TD through the engine modes', () => {
  it('while restoring it decides but sends nothing and counts nothing; live again, it orders', () => {
    const { s, tape } = make();
    const r = tape.step('2025-01-06 09:00', 3600, bottomDiv, 'restoring');
    expect(r.ordersSent).toEqual([]);
    expect(r.suppressed).toBe(1);
    expect(r.decisions.map((d) => [d.kind, d.outcome, d.detail])).toEqual([['open', 'suppressed', 'bottom divergence, confirmed by EMA state neutral; mode restoring']]);
    expect(s.suppressedDecisions).toBe(1);
    expect(s.opensToday()).toBe(0);
    expect(s.pendingOrders()).toEqual([]);
    expect(s.snapshot().counters.suppressedDecisions).toBe(1);
    // The divergence is still active on the next window bar, now live: the episode was not used up.
    const live = tape.step('2025-01-06 09:15', 3600, bottomDiv, 'live');
    expect(live.ordersSent.map((o) => [o.side, o.offset])).toEqual([['buy', 'open']]);
    expect(live.suppressed).toBe(0);
    expect(s.opensToday()).toBe(1);
  });

  it('halted or degraded: no close is sent either, but a resting stop-loss still protects the position', () => {
    const { s, tape } = make({ stopLoss: { unit: 'ticks', value: 10 } });
    tape.step('2025-01-06 09:00', 3600, bottomDiv);
    tape.minute('2025-01-06 09:15', 3602); // long @ 3603, stop 3593
    const h = tape.step('2025-01-06 09:15', 3640, topDiv, 'halted');
    expect(h.ordersSent).toEqual([]);
    expect(h.decisions.map((d) => [d.kind, d.outcome])).toEqual([['close', 'suppressed']]);
    const d = tape.minute('2025-01-06 09:30', 3600, 3600, 3580, 3585, 'degraded');
    expect(d.fills.map((f) => [f.trade.role, f.trade.price])).toEqual([['stopLoss', 3592]]);
    expect(s.positions()).toEqual([]);
    expect(s.suppressedDecisions).toBe(1);
  });
});

describe('MACD-TD through the engine active contract', () => {
  it('opens only on the active contract, manages a position left on the old one, one position per product', () => {
    const s = macdTdEngine(BASE, { variant: 'rb-15m', activeContracts: { rb: 'rb2505.SHFE' } });
    const old = new Tape(s, 'rb2501.SHFE');
    const cur = new Tape(s, 'rb2505.SHFE');
    expect(old.step('2025-01-06 09:00', 3500, bottomDiv).ordersSent).toEqual([]);
    expect(cur.step('2025-01-06 09:00', 3600, bottomDiv).ordersSent.map((o) => o.vtSymbol)).toEqual(['rb2505.SHFE']);
    cur.minute('2025-01-06 09:15', 3600);

    expect(s.setActiveContract('rb', 'rb2509.SHFE')).toBe(true);
    expect(s.symbolsNeeded()).toEqual(['rb2505.SHFE', 'rb2509.SHFE']);
    const next = new Tape(s, 'rb2509.SHFE');
    // The product still holds the rb2505 long: no second position on rb2509.
    expect(next.step('2025-01-06 09:15', 3700, bottomDiv).ordersSent).toEqual([]);
    // rb2505 is no longer active, yet its long still closes on its top signal.
    expect(cur.step('2025-01-06 09:15', 3650, { ...topDiv, emaState: 'bull' }).ordersSent.map((o) => [o.vtSymbol, o.offset])).toEqual([['rb2505.SHFE', 'close']]);
    cur.minute('2025-01-06 09:30', 3650);
    expect(s.positions()).toEqual([]);
    // The rb2509 episode was used up by the rb2505 long (it was the product's position); a new one trades.
    expect(next.step('2025-01-06 09:30', 3700, bottomDiv).ordersSent).toEqual([]);
    next.step('2025-01-06 09:45', 3700);
    expect(next.step('2025-01-06 10:00', 3700, bottomDiv).ordersSent.map((o) => o.vtSymbol)).toEqual(['rb2509.SHFE']);
  });

  it('adopts the first contract fed when the product has none', () => {
    const { s, tape } = make();
    tape.minute('2025-01-06 09:00', 3600);
    expect(s.activeContract('rb')).toBe(RB);
    expect(s.snapshot().activeContracts).toEqual({ rb: RB });
  });
});

describe('MACD-TD through the engine replay and state', () => {
  it('ignores minute and window bars it has already processed (restore replay overlapping)', () => {
    const { s, tape } = make();
    tape.step('2025-01-06 09:00', 3600, bottomDiv);
    tape.minute('2025-01-06 09:15', 3602);
    const before = JSON.stringify(s.toState());
    expect(tape.minute('2025-01-06 09:15', 3602).fills).toEqual([]);
    expect(tape.step('2025-01-06 09:00', 3600, bottomDiv).ordersSent).toEqual([]);
    expect(JSON.stringify(s.toState())).toBe(before);
  });

  it('keeps a small JSON state; restoring under other parameters is refused unless allowed', () => {
    const { s, tape } = make({ stopLoss: { unit: 'ticks', value: 10 } });
    tape.step('2025-01-06 09:00', 3600, bottomDiv);
    tape.minute('2025-01-06 09:15', 3602);
    const state = JSON.parse(JSON.stringify(s.toState())) as EngineState;
    expect(JSON.stringify(state).length).toBeLessThan(4000);
    expect(state.paramsHash).toMatch(/^[0-9a-f]{16}$/);
    // Key order does not matter; values do.
    expect(TradingEngine.paramsHashOf(strategyFor('macd-td', { stopLoss: { value: 10, unit: 'ticks' }, ...BASE }, 'test'))).toBe(state.paramsHash);
    const changed = { ...BASE, stopLoss: { unit: 'ticks', value: 12 } } as const;
    const bound = strategyFor('macd-td', changed, 'test');
    expect(() => TradingEngine.fromState(state, bound, { variant: 'rb-15m', windowMinutes: 15 })).toThrow(/saved under other parameters/);
    const restored = TradingEngine.fromState(state, bound, { variant: 'rb-15m', windowMinutes: 15, allowConfigChange: true });
    expect(restored.positions()).toEqual(s.positions());
    expect(restored.paramsHash).not.toBe(state.paramsHash);
    expect(restored.toState().paramsHash).toBe(restored.paramsHash);
  });

  it('reports positions, orders, counters and PnL for the snapshot file', () => {
    const { s, tape } = make({ stopLoss: { unit: 'ticks', value: 10 } });
    tape.step('2025-01-06 09:00', 3600, bottomDiv);
    tape.minute('2025-01-06 09:15', 3602, 3615, 3600, 3613); // long @ 3603, marked 3613
    const snap = s.snapshot();
    // (3613 − 3603) × 10 − 2 carried commission = 98
    expect(snap.positions).toEqual([{ vtSymbol: RB, direction: 'long', volume: 1, avgPrice: 3603, unrealizedPnl: 98 }]);
    expect(snap.orders.map((o) => [o.type, o.price, o.status])).toEqual([['stop', 3593, 'pending']]);
    expect(snap.counters).toMatchObject({ opensToday: 1, 'opensToday.rb': 1, suppressedDecisions: 0, trades: 1 });
    expect(snap.pnl).toEqual({ realized: 0, unrealized: 98, today: 98 });
    expect(snap.recentTrades.map((t) => t.id)).toEqual(['rb-15m-T1']);
    expect(snap.tradingDay).toBe('2025-01-06');
  });

  it('starts today\'s PnL from the equity at the 21:00 roll', () => {
    const { s, tape } = make();
    tape.step('2025-01-06 14:00', 3600, bottomDiv);
    tape.minute('2025-01-06 14:15', 3600); // long @ 3601
    tape.minute('2025-01-06 14:59', 3611); // equity (3611 − 3601) × 10 − 2 = 98
    expect(s.snapshot().pnl.today).toBe(98);
    s.onMinuteBar(RB, minuteBar(at('2025-01-06 21:00'), 3621), 'live'); // trading day 2025-01-07
    expect(s.tradingDay).toBe('2025-01-07');
    expect(s.snapshot().pnl).toEqual({ realized: 0, unrealized: 198, today: 100 });
  });

  it('builds analyses the way the engine reports them', () => {
    // Guards the test helper: a quiet analysis carries no signal.
    const a = analysis(at('2025-01-06 09:00'), 3600);
    expect([a.bottomDivergence, a.topDivergence, a.bottomDullness, a.topDullness, a.marks]).toEqual([false, false, 'none', 'none', []]);
  });
});
