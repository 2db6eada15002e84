import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { allocationGroupSchema } from '../../src/shared/allocation.js';
import { variantConfigSchema } from '../../src/shared/config.js';
import { NodeHost } from '../../src/main/node/nodeHost.js';
import { AllocationService } from '../../src/main/workstation/allocation/allocationService.js';
import type { AllocationEvent } from '../../src/main/workstation/allocation/allocationAuthority.js';
import type { WorkerHandle } from '../../src/main/workstation/host.js';
import { ALLOCATION_TEST_ENV, type AllocationWorkerConfig } from '../fixtures/allocationWorkerConfig.js';
import { freshDir, waitFor } from '../helpers.js';

const WORKERS = ['w0', 'w1', 'w2', 'w3'];
const ROUNDS = 10_000;
const EPS = 1e-9;

const tmp = freshDir('alloc-concurrency');
afterAll(() => tmp.remove());

describe('the allocator authority under concurrent buys from real worker processes', () => {
  it(`never grants past the global limit or a symbol's allocation over ${ROUNDS} rounds of ${WORKERS.length} workers; blocked = denials`, async () => {
    const group = allocationGroupSchema.parse({
      name: 'spot',
      totalFunds: 10_000,
      globalMaxUsage: 0.8,
      strategy: 'WEIGHTED',
      symbols: [{ symbol: 'BTC.SIM', weight: 3, maxUsagePct: 0.4 }, { symbol: 'ETH.SIM', weight: 2 }, { symbol: 'SOL.SIM', weight: 1 }],
      members: WORKERS,
    });
    const cfg: AllocationWorkerConfig = {
      group: 'spot',
      symbols: group.symbols.map((s) => s.symbol),
      rounds: ROUNDS,
      burst: 2,
      amountRange: [50, 400],
      releaseChance: 0.7,
      outDir: tmp.dir,
      stateDir: null,
      reportDelayMs: { w3: 300 },
      timeoutMs: 60_000,
    };
    const cfgFile = join(tmp.dir, 'cfg.json');
    writeFileSync(cfgFile, JSON.stringify(cfg));
    process.env[ALLOCATION_TEST_ENV] = cfgFile;

    const log: AllocationEvent[] = [];
    const service = new AllocationService({ groups: [group], onEvent: (_g, e) => log.push(e) });
    const host = new NodeHost({ path: fileURLToPath(new URL('../fixtures/allocationWorker.ts', import.meta.url)), execArgv: ['--import', 'tsx'] });
    const handles: WorkerHandle[] = WORKERS.map((name) => {
      const handle = host.forkWorker({
        variant: variantConfigSchema.parse({ name, vtSymbol: 'BTC.SIM', windowMinutes: 1 }),
        dataDir: tmp.dir,
        barSource: { kind: 'sqlite', path: null },
        sourceLabel: 'simulated',
        restoreWindowBars: 600,
        halted: null,
        expectedBarSeconds: 60,
      });
      handle.onMessage((m) => service.handleWorkerMessage(name, m, (r) => handle.send(r)));
      return handle;
    });
    try {
      await waitFor('every worker to finish its rounds', () => WORKERS.every((w) => existsSync(join(tmp.dir, `${w}.json`))), 600_000, 200);
    } finally {
      host.killAll();
    }
    expect(handles).toHaveLength(4);

    // Replay the log of decisions on its own: each worker's holding per symbol, never trusting the authority's sums.
    const held = new Map<string, number>();
    const bySymbol = (symbol: string) => [...held].filter(([k]) => k.endsWith(`|${symbol}`)).reduce((a, [, v]) => a + v, 0);
    const total = () => [...held.values()].reduce((a, v) => a + v, 0);
    let grants = 0;
    let denials = 0;
    let maxGlobal = 0;
    for (const e of log) {
      const key = `${e.worker}|${e.symbol}`;
      if (e.kind === 'grant') {
        grants += 1;
        held.set(key, (held.get(key) ?? 0) + e.amount);
        const used = bySymbol(e.symbol);
        if (used > e.allocated * (1 + EPS)) throw new Error(`event ${e.seq}: ${e.symbol} uses ${used} > its allocation ${e.allocated}`);
        if (total() > e.budget * (1 + EPS)) throw new Error(`event ${e.seq}: the group uses ${total()} > its limit ${e.budget}`);
        maxGlobal = Math.max(maxGlobal, total());
      } else if (e.kind === 'release') {
        held.set(key, (held.get(key) ?? 0) - e.amount);
        expect(held.get(key)).toBeGreaterThanOrEqual(-EPS);
      } else if (e.kind === 'report') {
        held.set(key, e.amount);
      } else {
        denials += 1;
      }
      expect(bySymbol(e.symbol)).toBeCloseTo(e.used, 6);
    }
    const results = WORKERS.map((w) => JSON.parse(readFileSync(join(tmp.dir, `${w}.json`), 'utf8')) as { granted: number; denied: number; timeouts: number });
    const status = service.status('spot');
    expect(results.reduce((a, r) => a + r.granted + r.denied, 0)).toBe(WORKERS.length * ROUNDS * cfg.burst);
    expect(results.reduce((a, r) => a + r.timeouts, 0)).toBe(0);
    expect(results.reduce((a, r) => a + r.granted, 0)).toBe(grants);
    expect(results.reduce((a, r) => a + r.denied, 0)).toBe(denials);
    expect(status.blockedTrades).toBe(denials);
    expect(status.symbols.reduce((a, s) => a + s.blockedTrades, 0)).toBe(denials);
    // The limits were actually contended: many buys refused, and the pot nearly full at times.
    expect(denials).toBeGreaterThan(1_000);
    expect(grants).toBeGreaterThan(1_000);
    expect(maxGlobal).toBeGreaterThan(0.9 * 8_000);
    // w3 reported late: nothing was granted to anyone before it did.
    const reports = log.filter((e) => e.kind === 'report');
    expect(reports).toHaveLength(WORKERS.length * group.symbols.length);
    const firstGrant = log.find((e) => e.kind === 'grant')?.seq ?? Infinity;
    expect(firstGrant).toBeGreaterThan(Math.max(...reports.map((e) => e.seq)));
  }, 900_000);
});
