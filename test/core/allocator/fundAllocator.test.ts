import { describe, expect, it } from 'vitest';
import { allocationGroupSchema, type AllocationGroupInput } from '../../../src/shared/allocation.js';
import { FundAllocator, REBALANCE_INTERVAL_MS } from '../../../src/core/allocator/fundAllocator.js';
import { returnStdev, targetWeights } from '../../../src/core/allocator/allocationWeights.js';

const HOUR = 3_600_000;

function group(input: Partial<AllocationGroupInput> = {}) {
  return allocationGroupSchema.parse({
    name: 'g',
    totalFunds: 1000,
    globalMaxUsage: 0.9,
    symbols: [{ symbol: 'A' }, { symbol: 'B' }, { symbol: 'C' }],
    ...input,
  });
}

function manualClock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('FundAllocator — checks and reservations', () => {
  it('EQUAL gives each symbol totalFunds × globalMaxUsage / n and refuses the buy that would pass it', () => {
    const a = new FundAllocator(group(), manualClock().now);
    for (const s of ['A', 'B', 'C']) expect(a.allocatedOf(s)).toBeCloseTo(300, 9);
    expect(a.reserve('A', 'buy', 200)).toEqual({ allowed: true, reason: null });
    expect(a.reserve('A', 'buy', 100)).toEqual({ allowed: true, reason: null });
    const refused = a.reserve('A', 'buy', 0.01);
    expect(refused.allowed).toBe(false);
    expect(refused.reason).toMatch(/A use 300 \+ 0.01 would exceed its allocation 300/);
    expect(a.usedOf('A')).toBe(300);
    expect(a.summary().blockedTrades).toBe(1);
    expect(a.status().find((s) => s.symbol === 'A')?.blockedTrades).toBe(1);
    expect(a.status().find((s) => s.symbol === 'B')?.blockedTrades).toBe(0);
  });

  it('sells always pass and reduce use; a released reservation frees room again', () => {
    const a = new FundAllocator(group(), manualClock().now);
    a.reserve('B', 'buy', 300);
    expect(a.reserve('B', 'buy', 50).allowed).toBe(false);
    expect(a.checkTradeAllowed('B', 'sell', 1e9)).toEqual({ allowed: true, reason: null });
    a.release('B', 120);
    expect(a.usedOf('B')).toBe(180);
    expect(a.reserve('B', 'buy', 50).allowed).toBe(true);
    a.recordTrade('B', 'sell', 1000);
    expect(a.usedOf('B')).toBe(0);
  });

  it('checkTradeAllowed reserves and counts nothing', () => {
    const a = new FundAllocator(group(), manualClock().now);
    expect(a.checkTradeAllowed('A', 'buy', 500).allowed).toBe(false);
    expect(a.checkTradeAllowed('A', 'buy', 100).allowed).toBe(true);
    expect(a.usedOf('A')).toBe(0);
    expect(a.summary().blockedTrades).toBe(0);
  });

  it('the global limit binds even when the symbol has room (use re-derived above an allocation)', () => {
    const a = new FundAllocator(group(), manualClock().now);
    a.setUsage('A', 700);
    expect(a.overAllocated()).toEqual(['A']);
    const refused = a.reserve('B', 'buy', 250);
    expect(refused.allowed).toBe(false);
    expect(refused.reason).toMatch(/global use 700 \+ 250 would exceed 900/);
    expect(a.reserve('B', 'buy', 200).allowed).toBe(true);
  });

  it('refuses unknown symbols and nonsense amounts, and counts them as blocked', () => {
    const a = new FundAllocator(group(), manualClock().now);
    expect(a.reserve('ZZZ', 'buy', 1).reason).toMatch(/ZZZ is not in allocation group g/);
    expect(a.reserve('A', 'buy', Number.NaN).allowed).toBe(false);
    expect(a.reserve('A', 'buy', -5).allowed).toBe(false);
    expect(a.summary().blockedTrades).toBe(3);
  });
});

describe('FundAllocator — strategies', () => {
  it('WEIGHTED follows the configured weights, each capped by maxUsagePct of the total', () => {
    const a = new FundAllocator(
      group({ strategy: 'WEIGHTED', symbols: [{ symbol: 'A', weight: 1 }, { symbol: 'B', weight: 2, maxUsagePct: 0.4 }, { symbol: 'C', weight: 1 }] }),
      manualClock().now,
    );
    // 900 × 1/4 = 225; B: 900 × 2/4 = 450, capped at 0.4 × 1000 = 400.
    expect(a.allocatedOf('A')).toBeCloseTo(225, 9);
    expect(a.allocatedOf('B')).toBeCloseTo(400, 9);
    expect(a.allocatedOf('C')).toBeCloseTo(225, 9);
    expect(a.status().map((s) => s.weight)).toEqual([0.25, 0.5, 0.25]);
  });

  it('DYNAMIC weights by inverse stdev of the last K window-close returns (hand-computed)', () => {
    // Returns of A alternate +1 %, −1 %, +1 %: mean 1/300, sample variance
    // ((2/300)² · 2 + (4/300)²) / 2 = 24/180000 → stdev 0.0115470. B alternates ±2 % and C ±4 %,
    // so their stdevs are exactly 2× and 4× A's: weights ∝ 1, 1/2, 1/4 → 4/7, 2/7, 1/7.
    const series = (step: number) => {
      const closes = [100];
      for (const sign of [1, -1, 1]) closes.push((closes.at(-1) as number) * (1 + sign * step));
      return closes;
    };
    const cfg = group({ strategy: 'DYNAMIC', lookback: 3, symbols: [{ symbol: 'A', maxUsagePct: 0.5 }, { symbol: 'B' }, { symbol: 'C' }] });
    const a = new FundAllocator(cfg, manualClock().now);
    // A wild older history that the look-back of 3 returns must ignore.
    for (const c of [10, 500, 3]) a.observeClose('A', c);
    for (const [symbol, step] of [['A', 0.01], ['B', 0.02], ['C', 0.04]] as const) for (const c of series(step)) a.observeClose(symbol, c);
    expect(returnStdev(series(0.01), 3)).toBeCloseTo(Math.sqrt(24 / 180_000), 12);
    const weights = targetWeights(cfg, new Map([['A', series(0.01)], ['B', series(0.02)], ['C', series(0.04)]]));
    expect(weights.get('A')).toBeCloseTo(4 / 7, 12);
    expect(weights.get('B')).toBeCloseTo(2 / 7, 12);
    expect(weights.get('C')).toBeCloseTo(1 / 7, 12);
    // Allocations are set at a rebalance: make the usage spread exceed 0.3 first.
    a.reserve('C', 'buy', 200);
    const record = a.rebalanceIfNeeded();
    expect(record).not.toBeNull();
    expect(record?.weights.A).toBeCloseTo(4 / 7, 12);
    // Targets: A 900 × 4/7 = 514.29, capped at 0.5 × 1000 = 500; B 900 × 2/7 = 1800/7; C 900/7 = 128.57,
    // below its use 200, so C keeps 200. A and B lack 500 + 1800/7 = 5300/7 but only 900 − 200 = 700
    // is left: each gets 700 / (5300/7) = 49/53 of its target.
    expect(a.allocatedOf('A')).toBeCloseTo((500 * 49) / 53, 9);
    expect(a.allocatedOf('B')).toBeCloseTo((1800 / 7) * (49 / 53), 9);
    expect(a.allocatedOf('C')).toBeCloseTo(200, 9);
  });

  it('DYNAMIC falls back to EQUAL while a symbol has too few closes or a flat series', () => {
    const cfg = group({ strategy: 'DYNAMIC' });
    const flat = new Map([['A', [1, 1, 1, 1]], ['B', [1, 2, 1, 2]], ['C', [1, 2, 3, 1]]]);
    expect([...targetWeights(cfg, flat).values()]).toEqual([1 / 3, 1 / 3, 1 / 3]);
    const short = new Map([['A', [1, 2]], ['B', [1, 2, 1, 2]], ['C', [1, 2, 3, 1]]]);
    expect([...targetWeights(cfg, short).values()]).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });
});

describe('FundAllocator — rebalancing', () => {
  it('does not rebalance while the usage spread is at most 0.3', () => {
    const a = new FundAllocator(group(), manualClock().now);
    a.reserve('A', 'buy', 90); // ratio 0.3 vs 0
    expect(a.rebalanceIfNeeded()).toBeNull();
    expect(a.summary().rebalances).toBe(0);
  });

  it('EQUAL: never below a symbol current use; the rest share what is left', () => {
    const a = new FundAllocator(group(), manualClock().now);
    a.setUsage('A', 500); // re-derived after a restart, above its 300
    const record = a.rebalanceIfNeeded();
    expect(record?.reason).toMatch(/usage spread 166.7 % > 30.0 % \(A 166.7 %, B 0.0 %\)/);
    expect(a.allocatedOf('A')).toBe(500);
    // B and C each lack 300 but only 900 − 500 = 400 is left: 200 each.
    expect(a.allocatedOf('B')).toBeCloseTo(200, 9);
    expect(a.allocatedOf('C')).toBeCloseTo(200, 9);
    expect(a.status().reduce((s, x) => s + x.allocatedAmount, 0)).toBeCloseTo(900, 9);
    expect(record?.before).toEqual({ A: 300, B: 300, C: 300 });
    expect(a.rebalanceHistory()).toHaveLength(1);
  });

  it('WEIGHTED: rebalances back towards the weights once use falls, never below use', () => {
    const clock = manualClock();
    const a = new FundAllocator(group({ strategy: 'WEIGHTED', symbols: [{ symbol: 'A', weight: 2 }, { symbol: 'B', weight: 1 }] }), clock.now);
    // A: 900 × 2/3 = 600, capped at the default maxUsagePct 0.5 × 1000; B: 900 × 1/3.
    expect(a.allocatedOf('A')).toBeCloseTo(500, 9);
    expect(a.allocatedOf('B')).toBeCloseTo(300, 9);
    a.setUsage('B', 400); // B above its 300
    expect(a.rebalanceIfNeeded()).not.toBeNull();
    expect(a.allocatedOf('B')).toBe(400);
    expect(a.allocatedOf('A')).toBeCloseTo(500, 9);
    a.setUsage('B', 0); // B sold everything: back to its weight, an hour later
    a.setUsage('A', 450);
    expect(a.rebalanceIfNeeded()).toBeNull();
    clock.advance(HOUR);
    expect(a.rebalanceIfNeeded()).not.toBeNull();
    expect(a.allocatedOf('B')).toBeCloseTo(300, 9);
  });

  it('at most hourly, however far the usage spreads', () => {
    const clock = manualClock();
    const a = new FundAllocator(group(), clock.now);
    a.setUsage('A', 400);
    const first = a.rebalanceIfNeeded();
    expect(first).not.toBeNull();
    a.setUsage('B', 0);
    a.setUsage('A', 800);
    clock.advance(REBALANCE_INTERVAL_MS - 1);
    expect(a.rebalanceIfNeeded()).toBeNull();
    clock.advance(1);
    const second = a.rebalanceIfNeeded();
    expect(second?.at).toBe((first?.at ?? 0) + HOUR);
    expect(a.allocatedOf('A')).toBe(800);
    expect(a.summary().rebalances).toBe(2);
    expect(a.rebalanceHistory().map((r) => r.at)).toEqual([first?.at, second?.at]);
  });

  it('is deterministic: the same calls give the same allocations and history', () => {
    const run = () => {
      const clock = manualClock();
      const a = new FundAllocator(group({ strategy: 'DYNAMIC', lookback: 5 }), clock.now);
      let x = 100;
      for (let i = 0; i < 50; i++) {
        for (const s of ['A', 'B', 'C']) a.observeClose(s, (x = x * (1 + (((i * 7 + s.charCodeAt(0)) % 11) - 5) / 1000)));
        a.reserve(['A', 'B', 'C'][i % 3] as string, 'buy', 17 + (i % 5));
        clock.advance(HOUR / 2);
        a.rebalanceIfNeeded();
      }
      return { status: a.status(), history: a.rebalanceHistory() };
    };
    expect(run()).toEqual(run());
  });
});
