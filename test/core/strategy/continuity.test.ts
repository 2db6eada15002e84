/**
 * Continuity: a variant interrupted after any 1-minute bar and resumed from its JSON state
 * continues exactly as the uninterrupted run: the same fills (ids, prices, pnl), orders,
 * decisions, positions, counters and PnL. Data: the simulated market (three correlated
 * products), 15-minute windows, the real AnalysisPipeline and MACD-TD through the TradingEngine.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_INSTRUMENTS, SimulatedMarket, backfillStart } from '../../../src/core/market/simulatedMarket.js';
import { TradingCalendar } from '../../../src/core/market/tradingCalendar.js';
import { TradingEngine, copyEvents, type EngineEvents as StrategyEvents, type EngineState } from '../../../src/core/strategy/engine.js';
import { strategyFor } from '../../../src/core/strategy/registry.js';
import type { TradingMode } from '../../../src/core/strategy/strategy.js';
import { vtSymbolOf, type OhlcvBar } from '../../../src/shared/bar.js';
import type { MacdTdConfigInput } from '../../../src/shared/strategyConfig.js';
import { parseDatetime, weekdayOf, minuteOfDay } from '../../../src/shared/time.js';
import { prng } from '../fixtures.js';

const calendar = new TradingCalendar();
const END = parseDatetime('2026-03-16 09:00:00') ?? 0;
const DAYS = 25;
const START = backfillStart(calendar, END, DAYS);
/** The first five trading days run 'degraded' in the modes case, as a worker does before its indicators settle. */
const SETTLED = backfillStart(calendar, END, DAYS - 5);

interface Tick {
  vtSymbol: string;
  bar: OhlcvBar;
}

function marketTape(seed: number): Tick[] {
  const market = new SimulatedMarket({ seed, startTime: START, calendar });
  const out: Tick[] = [];
  while (market.peekNextTime() < END) {
    for (const b of market.nextMinute()) {
      const { symbol, exchange, interval: _interval, ...bar } = b;
      out.push({ vtSymbol: vtSymbolOf(symbol, exchange), bar });
    }
  }
  return out;
}

const DEMO_CONTRACTS = Object.fromEntries(
  DEMO_INSTRUMENTS.map((i) => [i.symbol.replace(/\d+$/, ''), { priceTick: i.priceTick, contractMultiplier: i.contractMultiplier ?? 10 }]),
);

const CONFIGS: Record<string, { config: MacdTdConfigInput; modes: boolean }> = {
  plain: { config: { contracts: DEMO_CONTRACTS, commission: { kind: 'rate', rate: 0.0001 } }, modes: false },
  brackets: {
    config: { contracts: DEMO_CONTRACTS, stopLoss: { unit: 'ticks', value: 12 }, takeProfit: { unit: 'percent', value: 0.8 }, commission: { kind: 'perLot', amount: 3 } },
    modes: false,
  },
  sessionEnd: { config: { contracts: DEMO_CONTRACTS, closeAtSessionEnd: true, maxDailyOpenPerProduct: 1, maxDailyOpenGlobal: 2 }, modes: false },
  modes: { config: { contracts: DEMO_CONTRACTS, stopLoss: { unit: 'percent', value: 0.6 }, nineWithinBars: 5 }, modes: true },
};

/** Deterministic in time only: degraded before SETTLED, halted on Wednesday afternoons. */
function modeAt(time: number, withModes: boolean): TradingMode {
  if (!withModes) return 'live';
  if (time < SETTLED) return 'degraded';
  const m = minuteOfDay(time);
  if (weekdayOf(time) === 3 && m >= 13 * 60 + 30 && m < 15 * 60) return 'halted';
  return 'live';
}

interface Record_ {
  events: StrategyEvents[];
  /** Tick index of each recorded event. */
  at: number[];
}

function drive(runner: TradingEngine, ticks: readonly Tick[], from: number, to: number, withModes: boolean, into: Record_): void {
  for (let i = from; i < to; i++) {
    const t = ticks[i];
    if (t === undefined) continue;
    const e = copyEvents(runner.onMinuteBar(t.vtSymbol, t.bar, modeAt(t.bar.time, withModes)));
    if (e.fills.length + e.ordersSent.length + e.decisions.length + e.cancelled.length + e.ordersPlaced.length > 0) {
      into.events.push(e);
      into.at.push(i);
    }
  }
}

/** The parts of events that must match; log lines are compared too (they carry decision times). */
function flatten(events: readonly StrategyEvents[]): unknown[] {
  return events.map((e) => ({
    fills: e.fills.map((f) => f.trade),
    sent: e.ordersSent.map((o) => o.id),
    placed: e.ordersPlaced.map((o) => [o.id, o.price]),
    cancelled: e.cancelled.map((o) => [o.id, o.reason]),
    decisions: e.decisions,
    suppressed: e.suppressed,
    log: e.log.filter((l) => !l.message.startsWith('trading day')),
  }));
}

const SEED = 20260101;
const ticks = marketTape(SEED);
const straightRuns = new Map<string, { runner: TradingEngine; rec: Record_ }>();
function straight(name: string): { runner: TradingEngine; rec: Record_ } {
  let s = straightRuns.get(name);
  if (s === undefined) {
    const c = CONFIGS[name];
    if (c === undefined) throw new Error(name);
    const runner = new TradingEngine(strategyFor('macd-td', c.config, name), { variant: `demo-${name}`, windowMinutes: 15, calendar });
    const rec: Record_ = { events: [], at: [] };
    drive(runner, ticks, 0, ticks.length, c.modes, rec);
    s = { runner, rec };
    straightRuns.set(name, s);
  }
  return s;
}

describe('TradingEngine (MACD-TD) continuity on simulated data', () => {
  it('has data that trades: every config produces opens and closes', () => {
    expect(ticks.length).toBeGreaterThan(DAYS * 345 * 3 - 1);
    for (const name of Object.keys(CONFIGS)) {
      const { runner, rec } = straight(name);
      const trades = rec.events.flatMap((e) => e.fills.map((f) => f.trade));
      expect(trades.filter((t) => t.offset === 'open').length, name).toBeGreaterThan(5);
      expect(trades.filter((t) => t.pnl !== null).length, name).toBeGreaterThan(5);
      expect(runner.snapshot().counters.trades).toBe(trades.length);
    }
    const roles = (name: string) => straight(name).rec.events.flatMap((e) => e.fills.map((f) => f.trade.role ?? f.trade.tag));
    expect(roles('brackets')).toContain('stopLoss');
    expect(roles('brackets')).toContain('takeProfit');
    expect(roles('sessionEnd')).toContain('sessionEnd');
    expect(straight('sessionEnd').runner.snapshot().counters.refusedByLimit).toBeGreaterThan(0);
    expect(straight('modes').runner.suppressedDecisions).toBeGreaterThan(0);
    // Every trade's id is deterministic and sequential.
    const ids = straight('plain').rec.events.flatMap((e) => e.fills.map((f) => f.trade.id));
    expect(ids).toEqual(ids.map((_, i) => `demo-plain-T${String(i + 1)}`));
  });

  const rnd = prng(4242);
  const names = Object.keys(CONFIGS);
  const randomCases = Array.from({ length: 32 }, (_, i) => ({ name: names[i % names.length] ?? 'plain', split: 1 + Math.floor(rnd() * (ticks.length - 2)) }));
  // Splits right after a market order was sent (pending in the state, filling on the next bar)
  // and right after a fill placed a bracket.
  const eventCases = names.flatMap((name) => {
    const { rec } = straight(name);
    const sent = rec.events.flatMap((e, k) => (e.ordersSent.length > 0 ? [(rec.at[k] ?? 0) + 1] : []));
    const placed = rec.events.flatMap((e, k) => (e.ordersPlaced.length > 0 ? [(rec.at[k] ?? 0) + 1] : []));
    return [...sent.slice(0, 2), ...placed.slice(0, 1)].map((split) => ({ name, split }));
  });
  const cases = [...randomCases, ...eventCases];

  it.each(cases)('$name: split after tick $split, resumed from JSON state (pipelines and strategy)', ({ name, split }) => {
    const c = CONFIGS[name];
    if (c === undefined) throw new Error(name);
    const full = straight(name);
    const opts = { variant: `demo-${name}`, windowMinutes: 15, calendar };
    const first = new TradingEngine(strategyFor('macd-td', c.config, name), opts);
    const rec: Record_ = { events: [], at: [] };
    drive(first, ticks, 0, split, c.modes, rec);
    const text = JSON.stringify(first.toState());
    expect(text).not.toMatch(/Infinity|NaN/);
    // No bars or series in the strategy's own state: it stays small however long the run.
    expect(JSON.stringify(first.strategy.toState()).length).toBeLessThan(8000);
    const resumed = TradingEngine.fromState(JSON.parse(text) as EngineState, strategyFor('macd-td', c.config, name), opts);
    expect(JSON.stringify(resumed.toState())).toBe(text);
    drive(resumed, ticks, split, ticks.length, c.modes, rec);

    expect(flatten(rec.events)).toEqual(flatten(full.rec.events));
    expect(resumed.positions()).toEqual(full.runner.positions());
    expect(resumed.snapshot()).toEqual(full.runner.snapshot());
    expect(resumed.toState()).toEqual(full.runner.toState());
  });

  it.each(cases.slice(0, 4))('$name: split after tick $split, strategy state only, pipelines rebuilt by replaying the history', ({ name, split }) => {
    const c = CONFIGS[name];
    if (c === undefined) throw new Error(name);
    const full = straight(name);
    const opts = { variant: `demo-${name}`, windowMinutes: 15, calendar };
    const first = new TradingEngine(strategyFor('macd-td', c.config, name), opts);
    const rec: Record_ = { events: [], at: [] };
    drive(first, ticks, 0, split, c.modes, rec);
    const state = JSON.parse(JSON.stringify(first.toState())) as EngineState;
    const resumed = TradingEngine.fromState({ ...state, pipelines: {} }, strategyFor('macd-td', c.config, name), opts);
    // The replay covers bars the strategy has already seen: it must change nothing.
    for (let i = 0; i < split; i++) {
      const t = ticks[i];
      if (t === undefined) continue;
      const e = resumed.onMinuteBar(t.vtSymbol, t.bar, 'restoring');
      expect(e.fills.length + e.ordersSent.length + e.decisions.length + e.suppressed).toBe(0);
    }
    expect(resumed.strategy.toState()).toEqual(first.strategy.toState());
    drive(resumed, ticks, split, ticks.length, c.modes, rec);
    expect(flatten(rec.events)).toEqual(flatten(full.rec.events));
    expect(resumed.toState()).toEqual(full.runner.toState());
  });
});
