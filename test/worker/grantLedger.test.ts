import { describe, expect, it } from 'vitest';
import { ContinuousCalendar } from '../../src/core/market/continuousCalendar.js';
import { copyEvents, TradingEngine, type EngineEvents, type EngineState } from '../../src/core/strategy/engine.js';
import { strategyFor } from '../../src/core/strategy/registry.js';
import { AllocationService } from '../../src/main/workstation/allocation/allocationService.js';
import { allocationGroupSchema } from '../../src/shared/allocation.js';
import type { GridParamsInput } from '../../src/shared/gridParams.js';
import type { FromWorker, ToWorker } from '../../src/shared/workerProtocol.js';
import { AllocationClient } from '../../src/worker/allocationClient.js';
import { GrantLedger } from '../../src/worker/grantLedger.js';
import type { ParentChannel } from '../../src/worker/parentChannel.js';

/**
 * The grant path inside one process: a real grid on a real TradingEngine, the worker's real
 * AllocationClient and GrantLedger, and main's real AllocationService — joined by a channel that
 * delivers each message on a later turn of the event loop, as IPC does. (The same path across real
 * processes runs in test/worker/gridRealData.test.ts.)
 */
const VT = 'BTCUSDT.BINANCE';
const T0 = 1_704_067_200;

const params: GridParamsInput = {
  lower: 100,
  upper: 110,
  levels: 6,
  size: { kind: 'quantity', lots: 2 },
  stopBelow: 5,
  priceTick: 0.5,
  contractMultiplier: 1,
  slippageTicks: 0,
};

function ipcPair(service: AllocationService, worker: string): ParentChannel {
  const listeners: ((m: ToWorker) => void)[] = [];
  return {
    send(message: FromWorker) {
      setImmediate(() => {
        service.handleWorkerMessage(worker, message, (reply) => setImmediate(() => listeners.forEach((l) => l(reply))));
      });
    },
    onMessage(listener) {
      listeners.push(listener);
    },
  };
}

/** Until every message in flight has been delivered and answered. */
async function settle(): Promise<void> {
  for (let i = 0; i < 6; i++) await new Promise((r) => setImmediate(r));
}

function setup() {
  // EQUAL over one symbol: 1,000 × 0.8 = 800, capped by its maxUsagePct 0.5 → 500 for BTCUSDT.
  const group = allocationGroupSchema.parse({ name: 'crypto', totalFunds: 1_000, globalMaxUsage: 0.8, symbols: [{ symbol: VT, maxUsagePct: 0.5 }], members: ['g'] });
  const service = new AllocationService({ groups: [group] });
  const client = new AllocationClient(ipcPair(service, 'g'), { group: 'crypto', variant: 'g', timeoutMs: 5_000 });
  const ledger = new GrantLedger(client, { multiplierOf: () => 1 });
  const engine = new TradingEngine(strategyFor('grid', params, 'g'), { variant: 'g', windowMinutes: 1, calendar: new ContinuousCalendar(), externalWindows: true, allocator: ledger });
  let minute = 0;
  const step = (o: number, h: number, l: number, c: number): EngineEvents => {
    const ev = copyEvents(engine.onMinuteBar(VT, { time: T0 + 60 * minute++, open: o, high: h, low: l, close: c, volume: 1, turnover: 0, openInterest: 0 }, 'live'));
    ledger.observe(ev);
    return ev;
  };
  const used = (): number => service.status('crypto').symbols[0]?.usedAmount ?? Number.NaN;
  return { service, ledger, engine, step, used };
}

describe('grant ledger: the grid asks main before every buy', () => {
  it('holds buys until the answer, lets granted ones through, refuses denied ones, and keeps main’s use equal to its own', async () => {
    const { service, ledger, engine, step, used } = setup();
    // Before this worker reported, main grants nothing.
    let ev = step(105, 105, 105, 105);
    expect(ev.decisions.map((d) => d.refusal)).toEqual(['awaitingAllocation', 'awaitingAllocation', 'awaitingAllocation']);
    await settle();
    ev = step(105, 105, 105, 105);
    expect(ev.decisions.map((d) => d.refusal)).toEqual(['allocator', 'allocator', 'allocator']);
    expect(ev.decisions[0]?.detail).toMatch(/waiting for g to report/);

    ledger.restored(engine);
    await settle();
    expect(used()).toBe(0);
    step(105, 105, 105, 105);
    await settle();
    // 2 lots at 100 (200) and at 102 (204) fit in 500; at 104 (208) it would be 612: denied.
    ev = step(105, 105, 105, 105);
    expect(ev.decisions.map((d) => `${d.outcome} ${String(d.refusal)}`)).toEqual(['sent null', 'sent null', 'refused allocator']);
    expect(engine.pendingOrders().map((o) => o.price)).toEqual([100, 102]);
    expect(used()).toBe(404);
    const blocked = service.status('crypto').blockedTrades;
    expect(blocked).toBeGreaterThanOrEqual(4);
    // Denied once: the next bars refuse that buy here instead of asking main again.
    ev = step(105, 105, 105, 105);
    await settle();
    expect(ev.decisions.map((d) => `${d.outcome} ${String(d.refusal)}`)).toEqual(['refused allocator']);
    expect(ev.decisions[0]?.detail).toMatch(/asked again in \d+ bar\(s\), or once BTCUSDT.BINANCE frees funds/);
    expect(service.status('crypto').blockedTrades).toBe(blocked);

    // 102 fills at its level: cost = reservation. Its sell at 104 then fills: the cost goes back.
    step(105, 105, 101.5, 102);
    await settle();
    expect(used()).toBe(404);
    step(102, 104, 102, 103.5);
    await settle();
    expect(used()).toBe(200);
    expect(ledger.usage()).toEqual([{ symbol: VT, amount: 200 }]);
    // The sell freed funds: the held-back buys ask main again (and 102 + 104 now fit: 200 + 204 + 208 > 500, so one of them is denied).
    ev = step(103.5, 103.5, 103.5, 105);
    expect(ev.decisions.map((d) => String(d.refusal))).toEqual(['awaitingAllocation', 'awaitingAllocation']);
    await settle();
    ev = step(105, 105, 105, 105);
    expect(ev.decisions.map((d) => `${d.outcome} ${String(d.refusal)}`)).toEqual(['sent null', 'refused allocator']);
    expect(used()).toBe(404);
    // Sell it again to get back to one resting buy at 100.
    step(105, 105, 101.5, 102);
    step(102, 104, 102, 103.5);
    await settle();
    expect(used()).toBe(200);

    // A gap through 100: bought at the open 99, cost 198; the 2 reserved beyond it go back.
    step(99, 99.5, 98.5, 99);
    await settle();
    expect(used()).toBe(198);
    expect(ledger.usage()).toEqual([{ symbol: VT, amount: 198 }]);

    // Main's use never passed the symbol's allocation at any point.
    const status = service.status('crypto');
    expect(status.symbols[0]?.usedAmount).toBeLessThanOrEqual(status.symbols[0]?.allocatedAmount ?? 0);
  });

  it('after a restore reports positions at cost plus resting buys, replacing what main held', async () => {
    const first = setup();
    first.ledger.restored(first.engine);
    await settle();
    first.step(105, 105, 105, 105);
    await settle();
    first.step(105, 105, 105, 105);
    first.step(105, 105, 101.5, 102);
    await settle();
    expect(first.used()).toBe(404);

    // A new main (nothing held) and the worker restored from its saved state: the report re-derives 404.
    const state = JSON.parse(JSON.stringify(first.engine.toState())) as EngineState;
    const second = setup();
    const restored = TradingEngine.fromState(state, strategyFor('grid', params, 'g'), { variant: 'g', windowMinutes: 1, calendar: new ContinuousCalendar(), externalWindows: true });
    second.ledger.restored(restored);
    await settle();
    // One position of 2 lots at 102 (204) + the resting buy of 2 at 100 (200).
    expect(second.used()).toBe(404);
    expect(second.ledger.usage()).toEqual([{ symbol: VT, amount: 404 }]);
  });

  it('gives back a grant nobody used', async () => {
    const { ledger, engine, step, used } = setup();
    ledger.restored(engine);
    await settle();
    step(105, 105, 105, 105);
    await settle();
    // The grants came (main holds them), but the grid stops above its band before using them.
    expect(used()).toBe(404);
    step(105, 111, 105, 110.5);
    for (let i = 0; i < 6; i++) step(110.5, 110.5, 110.5, 110.5);
    await settle();
    expect(used()).toBe(0);
    expect(ledger.stats().returnedUnused).toBe(2);
  });
});
