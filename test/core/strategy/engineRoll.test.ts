/**
 * TradingEngine.rollContract: the roll's intents through the gate, the bracket carried over,
 * an open refused by a limit, and the pending roll of a frozen engine kept in its state.
 */
import { describe, expect, it } from 'vitest';
import { TradingEngine, copyEvents, type EngineState } from '../../../src/core/strategy/engine.js';
import { bindStrategy, type InstrumentBar, type Strategy, type StrategyContext, type StrategyDefinition } from '../../../src/core/strategy/strategy.js';
import { parseWith, tradingParamsSchema, type TradingParams } from '../../../src/shared/strategyConfig.js';
import { at } from '../fixtures.js';

const FROM = 'rb2505.SHFE';
const TO = 'rb2510.SHFE';

/** Opens one long on FROM on its first bar, with a 30-tick stop-loss and a 60-tick take-profit. */
class OpenOnce implements Strategy {
  private done = false;
  onMinuteBars(bars: readonly InstrumentBar[], ctx: StrategyContext): void {
    if (this.done || !bars.some((b) => b.vtSymbol === FROM)) return;
    this.done = ctx.submit({ vtSymbol: FROM, side: 'buy', offset: 'open', type: 'market', volume: 1, tag: 't', detail: 't', bracket: { stopLoss: { unit: 'ticks', value: 30 }, takeProfit: { unit: 'ticks', value: 60 } } }).passed;
  }
  onWindowBar(): void {}
  onFill(): void {}
  onTradingDayRoll(): void {}
  toState() {
    return { version: 1, data: { done: this.done } };
  }
}

const definition: StrategyDefinition<TradingParams> = {
  name: 'open-once',
  parseParams: (input, where) => parseWith(tradingParamsSchema, input, where),
  stateVersion: 1,
  create: () => new OpenOnce(),
  restore: () => new OpenOnce(),
  display: () => ({ lines: [], panes: [], marks: [], badges: [] }),
};

function engineWith(params: Record<string, unknown> = {}): TradingEngine {
  return new TradingEngine(bindStrategy(definition, { priceTick: 1, slippageTicks: 0, ...params }, 'test'), { variant: 'v', windowMinutes: 5, activeContracts: { rb: FROM } });
}

function minute(engine: TradingEngine, time: string, price: number, mode: 'live' | 'halted' = 'live') {
  const t = at(time);
  const bar = (p: number) => ({ time: t, open: p, high: p + 2, low: p - 2, close: p, volume: 10, turnover: 0, openInterest: 0 });
  return copyEvents(engine.onMinuteBars([{ vtSymbol: FROM, bar: bar(price) }, { vtSymbol: TO, bar: bar(price - 50) }], mode));
}

const plan = { product: 'rb', to: TO, policy: 'move' as const, tradingDay: '2025-01-07' };

describe('TradingEngine.rollContract', () => {
  it('move: closes on the old contract and reopens on the new one, tagged roll, with the stop-loss and take-profit distances', () => {
    const e = engineWith();
    minute(e, '2025-01-06 09:00', 3600);
    minute(e, '2025-01-06 09:01', 3610); // the open fills at 3610; its bracket rests at 3580 / 3670
    minute(e, '2025-01-06 21:00', 3620);
    const ev = copyEvents(e.rollContract(plan, 'live'));
    expect(e.activeContract('rb')).toBe(TO);
    expect(ev.cancelled.map((o) => o.role)).toEqual(['stopLoss', 'takeProfit']);
    expect(ev.ordersSent.map((o) => [o.vtSymbol, o.side, o.offset, o.volume, o.tag, o.bracket])).toEqual([
      [FROM, 'sell', 'close', 1, 'roll', null],
      [TO, 'buy', 'open', 1, 'roll', { stopLoss: { unit: 'ticks', value: 30 }, takeProfit: { unit: 'ticks', value: 60 } }],
    ]);
    expect(ev.decisions.map((d) => [d.reason, d.outcome])).toEqual([['roll', 'sent'], ['roll', 'sent']]);
    const fill = minute(e, '2025-01-06 21:01', 3630);
    expect(fill.fills.map((f) => [f.trade.vtSymbol, f.trade.offset, f.trade.price])).toEqual([[FROM, 'close', 3630], [TO, 'open', 3580]]);
    expect(e.pendingOrders().map((o) => [o.vtSymbol, o.role, o.price])).toEqual([[TO, 'stopLoss', 3550], [TO, 'takeProfit', 3640]]);
    // A second roll to the same contract changes nothing.
    expect(e.rollContract(plan, 'live').ordersSent).toEqual([]);
  });

  it('an open the gate refuses by a limit leaves the position closed', () => {
    const e = engineWith({ maxDailyOpenPerProduct: 1 });
    minute(e, '2025-01-06 09:00', 3600);
    minute(e, '2025-01-06 09:01', 3610);
    const ev = copyEvents(e.rollContract(plan, 'live'));
    expect(ev.decisions.map((d) => [d.kind, d.outcome, d.refusal])).toEqual([['close', 'sent', null], ['open', 'refused', 'dailyOpenLimitProduct']]);
    expect(e.pendingRolls).toEqual([]);
  });

  it('frozen: the contract switches, the orders wait in the state, and go out on resumeRolls', () => {
    const e = engineWith();
    minute(e, '2025-01-06 09:00', 3600);
    minute(e, '2025-01-06 09:01', 3610);
    minute(e, '2025-01-06 21:00', 3620, 'halted');
    const ev = copyEvents(e.rollContract(plan, 'halted'));
    expect(ev.ordersSent).toEqual([]);
    expect(ev.decisions.map((d) => d.outcome)).toEqual(['suppressed']);
    expect(e.activeContract('rb')).toBe(TO);
    const state = JSON.parse(JSON.stringify(e.toState())) as EngineState;
    expect(state.pendingRolls).toEqual([{ product: 'rb', from: FROM, to: TO, tradingDay: '2025-01-07', policy: 'move' }]);
    const back = TradingEngine.fromState(state, e.bound, { variant: 'v', windowMinutes: 5 });
    expect(back.snapshot().pendingRolls).toEqual(state.pendingRolls);
    // Still frozen: nothing goes, the roll stays.
    expect(back.resumeRolls('halted').ordersSent).toEqual([]);
    expect(back.pendingRolls).toHaveLength(1);
    const sent = copyEvents(back.resumeRolls('live'));
    expect(sent.ordersSent.map((o) => [o.vtSymbol, o.offset, o.createdAt])).toEqual([[FROM, 'close', at('2025-01-06 21:00')], [TO, 'open', at('2025-01-06 21:00')]]);
    expect(back.pendingRolls).toEqual([]);
  });

  it('a state with a malformed pending roll is refused, naming the field', () => {
    const e = engineWith();
    const state = { ...e.toState(), pendingRolls: [{ product: 'rb', from: FROM, to: TO, tradingDay: 'x', policy: 'jump' }] } as unknown as EngineState;
    expect(() => TradingEngine.fromState(state, e.bound, { variant: 'v', windowMinutes: 5 })).toThrow(/pendingRolls\[0\]: policy/);
  });
});
