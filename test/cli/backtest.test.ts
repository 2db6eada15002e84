import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/core/backtest/runBacktest.js';
import { applyPoint } from '../../src/core/backtest/sweep.js';
import { columnsOf, readSharedBars } from '../../src/io/backtest/barCache.js';
import { backtestCommand } from '../../src/main/cli/backtest.js';
import { sweepCommand } from '../../src/main/cli/sweep.js';
import { backtestJobSchema, sweepAggregateSchema } from '../../src/shared/backtest.js';
import { freshDir } from '../helpers.js';
import { ACTIVE_MACD_TD, seedDataDir } from '../backtest/fixtures.js';
import { PROJECT_ROOT, runCommand } from './cliHarness.js';

const dir = freshDir('cli-backtest');
const JOB = { strategy: 'macd-td', params: ACTIVE_MACD_TD, symbols: ['i9999.SIM', 'rb9999.SIM'], from: '2025-01-06', to: '2025-12-31', windowMinutes: 15 };

function config(name: string, value: unknown): string {
  const file = join(dir.dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

beforeAll(() => {
  seedDataDir(dir.dir, 6000);
});
afterAll(() => dir.remove());

describe('kestrel backtest: bad input is exit 2 with one message naming the file and the field', () => {
  const cases: [string, string, unknown, RegExp][] = [
    ['a missing file', 'absent.json', null, /absent\.json: field "\(file\)": no such file/],
    ['bad JSON', 'bad.json', '{ "strategy": "macd-td", ', /bad\.json: field "\(file\)": not valid JSON/],
    ['an unknown strategy', 'strategy.json', { ...JOB, strategy: 'turtle' }, /strategy\.json: field "strategy": unknown strategy "turtle"; known: grid, macd-td/],
    ['an unknown symbol', 'symbol.json', { ...JOB, symbols: ['rb9999.SIM', 'zz1.SIM'] }, /symbol\.json: field "symbols\.1": no 1-minute bars of zz1\.SIM/],
    ['an empty range', 'range.json', { ...JOB, from: '2025-02-01', to: '2025-01-01' }, /range\.json: field "to": the range 2025-02-01 … 2025-01-01 is empty/],
    ['a parameter outside its schema', 'param.json', { ...JOB, params: { signal: { fast: 0 } } }, /param\.json: field "params\.signal\.fast": .*>=\s*1/],
    ['a parameter the strategy does not have', 'extra.json', { ...JOB, params: { stopLos: 3 } }, /extra\.json: field "params": .*stopLos/],
  ];
  for (const [what, name, value, message] of cases) {
    it(what, async () => {
      const file = value === null ? join(dir.dir, name) : config(name, value);
      const r = await runCommand(backtestCommand, ['--config', file, '--data-dir', dir.dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(2); // the message, then where to find the options
    });
  }

  it('a sweep point outside the schema names the swept field', async () => {
    const file = config('sweep-bad.json', { job: JOB, parameters: { 'signal.fast': { values: [12, -1] } } });
    const r = await runCommand(sweepCommand, ['--config', file, '--outdir', join(dir.dir, 'never'), '--data-dir', dir.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sweep-bad\.json: field "job\.params\.signal\.fast"/);
    expect(existsSync(join(dir.dir, 'never'))).toBe(false);
  });
});

describe('kestrel backtest and sweep', () => {
  it('writes the result of a job, equal to runBacktest on the cached bars', async () => {
    const out = join(dir.dir, 'result.json');
    const r = await runCommand(backtestCommand, ['--config', config('job.json', JOB), '--data-dir', dir.dir, '--out', out]);
    expect(r.stderr).toMatch(/backtest: 100%/);
    expect(r.code).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8')) as { status: string; trades: unknown[]; statistics: unknown; kestrelVersion: string };
    const direct = runBacktest(backtestJobSchema.parse(JOB), JOB.symbols.map((vt) => columnsOf(readSharedBars(join(dir.dir, 'cache', `${vt}.1m.arrow`), vt))));
    expect(result.status).toBe('completed');
    expect(result.trades).toEqual(direct.trades);
    expect(result.statistics).toEqual(direct.statistics);
  }, 180_000);

  it('runs a grid into results.jsonl and aggregated.json under --outdir/<run_id>/', async () => {
    const sweep = { job: JOB, parameters: { 'stopLoss.value': { values: [20, 40] }, 'takeProfit.value': { min: 40, max: 80, step: 40 } } };
    const outdir = join(dir.dir, 'sweeps');
    const r = await runCommand(sweepCommand, ['--config', config('sweep.json', sweep), '--outdir', outdir, '--data-dir', dir.dir, '--threads', '2']);
    expect(r.stderr).toMatch(/4 completed, 0 failed, 0 cancelled/);
    expect(r.code).toBe(0);
    const [runId] = readdirSync(outdir);
    const lines = readFileSync(join(outdir, runId as string, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { runId: string; point: Record<string, number>; statistics: { totalPnl: number } });
    expect(lines.map((l) => l.point)).toEqual([
      { 'stopLoss.value': 20, 'takeProfit.value': 40 },
      { 'stopLoss.value': 20, 'takeProfit.value': 80 },
      { 'stopLoss.value': 40, 'takeProfit.value': 40 },
      { 'stopLoss.value': 40, 'takeProfit.value': 80 },
    ]);
    const bars = JOB.symbols.map((vt) => columnsOf(readSharedBars(join(dir.dir, 'cache', `${vt}.1m.arrow`), vt)));
    const third = runBacktest(backtestJobSchema.parse({ ...JOB, params: applyPoint(JOB.params, lines[2]?.point ?? {}) }), bars);
    expect(lines[2]?.statistics).toEqual(third.statistics);
    const agg = sweepAggregateSchema.parse(JSON.parse(readFileSync(join(outdir, runId as string, 'aggregated.json'), 'utf8')));
    expect(agg.counts).toEqual({ total: 4, completed: 4, failed: 0, cancelled: 0 });
    const best = Math.max(...lines.map((l) => l.statistics.totalPnl));
    expect(agg.best.totalPnl?.value).toBe(best);
  }, 180_000);

  it('Ctrl-C cancels cleanly: exit 130, nothing written', async () => {
    // A long tape of its own (2 × 100,000 minutes): the SIGINT sent at the first progress line lands
    // while hundreds of thousands of bars are still to go, however fast the engine has become.
    const long = freshDir('cli-backtest-long');
    try {
      seedDataDir(long.dir, 100_000);
      await cancelsCleanly(long.dir);
    } finally {
      long.remove();
    }
  }, 180_000);
});

async function cancelsCleanly(dataDir: string): Promise<void> {
  {
    const out = join(dataDir, 'interrupted.json');
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/main/cli/main.ts'), 'backtest', '--config', config('long.json', { ...JOB, to: '2027-12-31' }), '--data-dir', dataDir, '--out', out], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // The first progress line: the job is running on its thread.
        if (/backtest: \d+%/.test(stderr)) resolve();
      }),
    );
    child.kill('SIGINT');
    const code = await exited;
    expect(stderr).toMatch(/cancelled after [\d,]+ bars; nothing written/);
    expect(code).toBe(130);
    expect(existsSync(out)).toBe(false);
  }
}
