import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { AllocationEvent } from '../../src/main/workstation/allocation/allocationAuthority.js';
import { ALLOCATION_TEST_ENV, type AllocationWorkerConfig } from '../fixtures/allocationWorkerConfig.js';
import { freshDir, waitFor } from '../helpers.js';

const WORKERS = ['g0', 'g1', 'g2', 'g3'];
const SYMBOLS = ['BTC.SIM', 'ETH.SIM', 'SOL.SIM'];
const tmp = freshDir('alloc-restart');
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const c of running) c.kill('SIGKILL');
  tmp.remove();
});

type Line = (AllocationEvent & { kind: AllocationEvent['kind'] }) | { kind: 'started'; worker: string; pid: number };

interface MainProcess {
  child: ChildProcess;
  lines: Line[];
}

function startMain(): MainProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../fixtures/allocationHost.ts', import.meta.url))], {
    env: { ...process.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const lines: Line[] = [];
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buffer.slice(0, nl)) as Line);
      buffer = buffer.slice(nl + 1);
    }
  });
  return { child, lines };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** What a worker holds, from its persisted state (positions at cost + resting buys), per symbol. */
function heldBy(worker: string): Record<string, number> {
  const file = join(tmp.dir, 'state', `${worker}.json`);
  const held: Record<string, number> = Object.fromEntries(SYMBOLS.map((s) => [s, 0]));
  if (!existsSync(file)) return held;
  for (const h of JSON.parse(readFileSync(file, 'utf8')) as { symbol: string; amount: number }[]) held[h.symbol] = (held[h.symbol] ?? 0) + h.amount;
  return held;
}

const events = (m: MainProcess) => m.lines.filter((l): l is AllocationEvent => l.kind !== 'started');
const pidsOf = (m: MainProcess, worker: string) => m.lines.filter((l) => l.kind === 'started' && l.worker === worker).map((l) => (l as { pid: number }).pid);

describe('the allocator after restarts: use re-derived from the workers, no buy before every report', () => {
  it('the main process SIGKILLed 3 times and one worker 8 times', async () => {
    mkdirSync(join(tmp.dir, 'state'), { recursive: true });
    const cfg: AllocationWorkerConfig & { group_config: unknown; dataDir: string } = {
      group: 'grid',
      symbols: SYMBOLS,
      rounds: 1_000_000,
      burst: 2,
      amountRange: [20, 300],
      releaseChance: 0.6,
      outDir: tmp.dir,
      stateDir: join(tmp.dir, 'state'),
      // g3 reports late after every start: the others' buys must wait for it.
      reportDelayMs: { g3: 700 },
      timeoutMs: 2_000,
      dataDir: tmp.dir,
      group_config: { name: 'grid', totalFunds: 6_000, globalMaxUsage: 0.8, symbols: SYMBOLS.map((symbol) => ({ symbol })), members: WORKERS },
    };
    const cfgFile = join(tmp.dir, 'cfg.json');
    writeFileSync(cfgFile, JSON.stringify(cfg));
    process.env[ALLOCATION_TEST_ENV] = cfgFile;

    for (let life = 0; life < 4; life++) {
      // Between two lives nothing runs: the state files are what the workers will restore and report.
      const expected = Object.fromEntries(WORKERS.map((w) => [w, heldBy(w)]));
      const main = startMain();
      await waitFor('grants in this life', () => events(main).filter((e) => e.kind === 'grant').length >= 200, 120_000);
      const log = events(main);
      const reports = log.filter((e) => e.kind === 'report');
      // A report is one event per symbol, in a row: the group is ready after the last one's last event.
      const lastReport = Math.max(...WORKERS.map((w) => Math.min(...reports.filter((e) => e.worker === w).map((e) => e.seq)))) + SYMBOLS.length - 1;
      const firstGrant = log.find((e) => e.kind === 'grant')?.seq ?? Infinity;
      expect(firstGrant, `life ${life}: a buy granted before every worker had reported`).toBeGreaterThan(lastReport);
      // Buys asked meanwhile were refused, saying why.
      expect(log.filter((e) => e.kind === 'deny' && e.seq < lastReport).every((e) => /waiting for/.test(e.reason ?? ''))).toBe(true);
      // Right after the last report the group's use is exactly what the workers held.
      const atReady = log.filter((e) => e.seq <= lastReport);
      for (const w of WORKERS) for (const s of SYMBOLS) {
        const reported = reports.find((e) => e.worker === w && e.symbol === s);
        expect(reported?.amount, `life ${life}: ${w} ${s}`).toBeCloseTo(expected[w]?.[s] ?? 0, 6);
      }
      // …and the group's use once all have reported is theirs alone: reports, less what they gave back since.
      const held = new Map<string, number>();
      for (const e of atReady) {
        if (e.kind === 'report') held.set(`${e.worker}|${e.symbol}`, e.amount);
        else if (e.kind === 'release') held.set(`${e.worker}|${e.symbol}`, (held.get(`${e.worker}|${e.symbol}`) ?? 0) - e.amount);
      }
      expect(atReady.at(-1)?.globalUsed).toBeCloseTo([...held.values()].reduce((a, v) => a + v, 0), 6);
      expect(atReady.some((e) => e.kind === 'grant')).toBe(false);

      if (life === 1) {
        // One worker SIGKILLed 8 times: each time its report replaces what main held for it.
        for (let kill = 0; kill < 8; kill++) {
          const pid = pidsOf(main, 'g1').at(-1) as number;
          process.kill(pid, 'SIGKILL');
          await waitFor('g1 to be gone', () => !alive(pid));
          const held = heldBy('g1');
          const before = events(main).length;
          await waitFor('g1 restarted and reported', () => events(main).slice(before).filter((e) => e.kind === 'report' && e.worker === 'g1').length === SYMBOLS.length, 60_000);
          const rep = events(main).slice(before).filter((e) => e.kind === 'report' && e.worker === 'g1');
          for (const e of rep) expect(e.amount, `kill ${kill}: g1 ${e.symbol}`).toBeCloseTo(held[e.symbol] ?? 0, 6);
          await waitFor('g1 buying again', () => events(main).slice(before).some((e) => e.kind === 'grant' && e.worker === 'g1'), 60_000);
        }
        expect(pidsOf(main, 'g1').length).toBe(9);
      }
      // Never past a limit, in any life.
      for (const e of events(main)) if (e.kind === 'grant') expect(e.globalUsed).toBeLessThanOrEqual(e.budget * (1 + 1e-9));

      const workerPids = WORKERS.map((w) => pidsOf(main, w).at(-1) as number);
      main.child.kill('SIGKILL');
      await waitFor('the workers to follow their main process', () => workerPids.every((p) => !alive(p)), 30_000);
    }
  }, 600_000);
});
