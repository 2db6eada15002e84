/**
 * The risk gate, one rule at a time: each refusal names its reason, counts under it, and
 * (through the worker, last test) raises the "Risk limit hit" alert. MACD-TD is the strategy
 * that asks; the hand-made window analyses of tape.ts make it ask when the test wants.
 */
import { describe, expect, it } from 'vitest';
import { PaperBroker } from '../../../src/core/broker/paperBroker.js';
import { TradingCalendar } from '../../../src/core/market/tradingCalendar.js';
import { RiskGate, type AllocatorCheck } from '../../../src/core/risk/riskGate.js';
import type { Order } from '../../../src/core/broker/paperBroker.js';
import type { OrderIntent } from '../../../src/core/strategy/strategy.js';
import { riskLimitsSchema } from '../../../src/shared/risk.js';
import type { MacdTdConfigInput } from '../../../src/shared/strategyConfig.js';
import { at } from '../fixtures.js';
import { Tape, macdTdEngine } from '../strategy/tape.js';
import { freshDir } from '../../helpers.js';
import { Tape as MarketTape, rig } from '../../worker/runnerFixture.js';

const RB = 'rb2505.SHFE';
const BASE: MacdTdConfigInput = { priceTick: 1, contractMultiplier: 10, slippageTicks: 1, commission: { kind: 'perLot', amount: 2 } };
const bottom = { bottomDivergence: true } as const;
const top = { topDivergence: true, emaState: 'bull' } as const;

function make(over: MacdTdConfigInput = {}) {
  const s = macdTdEngine({ ...BASE, ...over }, { variant: 'v' });
  return { s, tape: new Tape(s, RB) };
}

describe('risk gate rules', () => {
  it.each(['halted', 'restoring', 'degraded'] as const)('%s: a freeze suppresses every intent, counted under its reason', (mode) => {
    const { s, tape } = make();
    const e = tape.step('2025-01-06 09:00', 3600, bottom, mode);
    expect(e.ordersSent).toEqual([]);
    expect(e.decisions.map((d) => [d.outcome, d.refusal])).toEqual([['suppressed', mode]]);
    expect(s.refusals(mode)).toBe(1);
    expect(s.snapshot(mode).counters[`refused.${mode}`]).toBe(1);
    expect(s.riskState(mode)).toBe(mode === 'halted' ? 'HALTED' : 'ACTIVE');
  });

  it('daily open limit per product and global: refused with their own reasons', () => {
    const { s } = make({ maxDailyOpenPerProduct: 1, maxDailyOpenGlobal: 2 });
    const outcome = (vt: string, start: string) => new Tape(s, vt).step(start, 3600, bottom).decisions.map((d) => [d.outcome, d.refusal])[0];
    expect(outcome('rb2505.SHFE', '2025-01-06 09:00')).toEqual(['sent', null]);
    expect(outcome('i2505.DCE', '2025-01-06 09:00')).toEqual(['sent', null]);
    expect(outcome('m2505.DCE', '2025-01-06 09:00')).toEqual(['refused', 'dailyOpenLimitGlobal']);
    expect(s.refusals('dailyOpenLimitGlobal')).toBe(1);
    const { s: s2, tape: t2 } = make({ maxDailyOpenPerProduct: 0 });
    expect(t2.step('2025-01-06 09:00', 3600, bottom).decisions.map((d) => d.refusal)).toEqual(['dailyOpenLimitProduct']);
    expect(s2.snapshot().counters['refused.dailyOpenLimitProduct']).toBe(1);
  });

  it('session end: no open in the closing minutes', () => {
    const { s, tape } = make({ closeAtSessionEnd: true });
    const e = tape.step('2025-01-07 14:45', 3600, bottom);
    expect(e.decisions.map((d) => [d.outcome, d.refusal])).toEqual([['refused', 'sessionEnd']]);
    expect(s.refusals('sessionEnd')).toBe(1);
  });

  it('max position per instrument: an open that would pass it is refused; a close always passes', () => {
    const calendar = new TradingCalendar();
    const gate = new RiskGate(riskLimitsSchema.parse({ maxPositionPerInstrument: 2, maxDailyOpenPerProduct: 10 }), calendar);
    gate.rollTo('2025-01-06');
    const broker = new PaperBroker({ idPrefix: 'v', priceTick: 1, contractMultiplier: 10, slippageTicks: 0, commission: { kind: 'perLot', amount: 0 } });
    broker.submit({ vtSymbol: RB, side: 'buy', offset: 'open', type: 'market', volume: 2, time: at('2025-01-06 09:00') });
    broker.onMinuteBar(RB, { time: at('2025-01-06 09:01'), open: 3600, high: 3601, low: 3599, close: 3600, volume: 1, turnover: 0, openInterest: 0 });
    const open: OrderIntent = { vtSymbol: RB, side: 'buy', offset: 'open', type: 'market', volume: 1, tag: 't', detail: 'd' };
    const verdict = gate.check(open, 'live', at('2025-01-06 09:02'), broker);
    expect(verdict).toMatchObject({ passed: false, reason: 'maxPosition' });
    expect(gate.refusalCount('maxPosition')).toBe(1);
    // The other direction is another position.
    expect(gate.check({ ...open, side: 'sell' }, 'live', at('2025-01-06 09:02'), broker)).toEqual({ passed: true });
    expect(gate.check({ ...open, side: 'sell', offset: 'close', volume: 2 }, 'live', at('2025-01-06 09:02'), broker)).toEqual({ passed: true });
  });

  it('max loss per trading day: REDUCING with an ERROR, only reducing intents pass, ACTIVE again the next trading day', () => {
    const { s, tape } = make({ maxDailyLoss: 300, maxDailyOpenPerProduct: 10 });
    tape.step('2025-01-06 09:00', 3600, bottom);
    tape.minute('2025-01-06 09:15', 3600); // long @ 3601
    const drop = tape.minute('2025-01-06 09:16', 3570, 3571, 3560, 3565); // (3565 − 3601) × 10 − 2 = −362
    expect(drop.reducingEntered).toBe(true);
    expect(drop.log.filter((l) => l.level === 'ERROR').map((l) => l.message)).toEqual([expect.stringMatching(/maximum daily loss passed .*REDUCING/)]);
    expect(s.riskState('live')).toBe('REDUCING');
    // A new bottom episode while the long is held: the held position is its trade, no intent.
    tape.step('2025-01-06 09:15', 3565);
    const again = tape.step('2025-01-06 09:30', 3565, { ...bottom, emaState: 'neutral' });
    expect(again.decisions.map((d) => [d.kind, d.outcome, d.refusal])).toEqual([]);
    // The held long closes on the top signal: reducing passes.
    const close = tape.step('2025-01-06 09:45', 3570, top);
    expect(close.decisions.map((d) => [d.kind, d.outcome])).toEqual([['close', 'sent']]);
    tape.minute('2025-01-06 10:00', 3570);
    const reopen = tape.step('2025-01-06 10:00', 3570, { ...bottom, emaState: 'neutral' });
    expect(reopen.decisions.map((d) => [d.kind, d.outcome, d.refusal])).toEqual([['open', 'refused', 'reducing']]);
    expect(s.refusals('reducing')).toBe(1);
    // The night session belongs to the next trading day: ACTIVE again.
    tape.minute('2025-01-06 21:00', 3570);
    expect(s.riskState('live')).toBe('ACTIVE');
  });

  it('the allocator seam: a denial refuses with reason allocator; a passed open reserves its grant', () => {
    const reserved: Order[] = [];
    let room = 1;
    const allocator: AllocatorCheck = {
      check: (intent) => (intent.volume <= room ? { allowed: true } : { allowed: false, reason: `no grant left for ${intent.vtSymbol}` }),
      reserve: (order) => {
        reserved.push(order);
        room -= order.volume;
      },
    };
    const s = macdTdEngine({ ...BASE, maxDailyOpenPerProduct: 10 }, { variant: 'v', allocator });
    const tape = new Tape(s, RB);
    expect(tape.step('2025-01-06 09:00', 3600, bottom).ordersSent.map((o) => o.offset)).toEqual(['open']);
    expect(reserved.map((o) => o.id)).toEqual(['v-O1']);
    tape.step('2025-01-06 09:15', 3600, top); // closes
    tape.step('2025-01-06 09:30', 3600);
    const denied = tape.step('2025-01-06 09:45', 3600, bottom);
    expect(denied.decisions.map((d) => [d.outcome, d.refusal, d.detail])).toEqual([['refused', 'allocator', expect.stringContaining('no grant left for rb2505.SHFE')]]);
    expect(s.refusals('allocator')).toBe(1);
  });

  it('a refusal reaches the worker\'s alerts as "Risk limit hit", keyed by its reason', async () => {
    const tmp = freshDir('gate-alert');
    try {
      const r = rig(tmp.dir, { params: { stopLoss: { unit: 'ticks', value: 30 }, maxDailyOpenPerProduct: 0 } });
      const tape = new MarketTape(5);
      await r.store.write(tape.next(30 * 345));
      await r.runner.restore();
      await r.store.write(tape.next(20 * 345));
      await r.runner.follow();
      const hits = r.alerts.filter((a) => a.title === 'Risk limit hit');
      expect(hits.length).toBeGreaterThan(0);
      expect(hits.every((a) => a.level === 'WARNING' && a.key === 'rig-15m:risk-limit:dailyOpenLimitProduct')).toBe(true);
      expect(r.runner.buildSnapshot().counters?.['refused.dailyOpenLimitProduct']).toBe(hits.length);
      expect(r.journal.trades()).toEqual([]);
      await r.close();
    } finally {
      tmp.remove();
    }
  }, 60_000);
});

