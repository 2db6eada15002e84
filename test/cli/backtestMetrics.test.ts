/**
 * `backtest`, `sweep` and `backtest-worker` export metrics when asked (flag > environment >
 * the data directory's settings): a taken port is one line and the run goes on, except for
 * `backtest-worker` given a port to export on (exit 2, one line). A worker's scrape counts the
 * real jobs it ran from a real Redis queue.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backtestCommand } from '../../src/main/cli/backtest.js';
import { backtestWorkerCommand } from '../../src/main/cli/backtestWorker.js';
import { sweepCommand } from '../../src/main/cli/sweep.js';
import { ACTIVE_MACD_TD, seedDataDir } from '../backtest/fixtures.js';
import { freshDir, waitFor } from '../helpers.js';
import { find, one, scrapeUrl } from '../main/exposition.js';
import { PROJECT_ROOT, runCommand } from './cliHarness.js';

const REDIS = 'redis://127.0.0.1:6379';
const PROMTOOL = '/usr/bin/promtool';
const dir = freshDir('cli-backtest-metrics');
const JOB = { strategy: 'macd-td', params: ACTIVE_MACD_TD, symbols: ['rb9999.SIM'], from: '2025-01-06', to: '2025-12-31', windowMinutes: 15 };
const cleanups: (() => void | Promise<void>)[] = [];

function file(name: string, value: unknown): string {
  const path = join(dir.dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/** A port some other program holds for the test's length. */
async function takenPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

function withEnv(name: string, value: string): void {
  const before = process.env[name];
  process.env[name] = value;
  cleanups.push(() => {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  });
}

beforeAll(() => {
  seedDataDir(dir.dir, 3000);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => dir.remove());

describe('kestrel backtest and sweep with metrics', () => {
  it('open no port without a flag, variable or setting', async () => {
    const r = await runCommand(backtestCommand, ['--config', file('job.json', JOB), '--data-dir', dir.dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/Metrics not served|metrics on/);
  });

  it('a taken --metrics-port is one line, and the backtest runs to its result', async () => {
    const port = await takenPort();
    const r = await runCommand(backtestCommand, ['--config', file('job.json', JOB), '--data-dir', dir.dir, '--metrics-port', String(port)]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed' });
    expect(r.stderr.split('\n').filter((l) => /Metrics not served|metrics on/.test(l))).toEqual([expect.stringMatching(new RegExp(`^kestrel backtest: Metrics not served: GET /metrics on 127\\.0\\.0\\.1:${port} cannot be served: port ${port} is in use`))]);
  });

  it('a taken KESTREL_METRICS_PORT is one line, and the sweep runs to its results', async () => {
    const port = await takenPort();
    withEnv('KESTREL_METRICS_PORT', String(port));
    const sweep = file('sweep.json', { job: JOB, parameters: { 'stopLoss.value': { values: [20, 40] } } });
    const r = await runCommand(sweepCommand, ['--config', sweep, '--outdir', join(dir.dir, 'sweeps'), '--data-dir', dir.dir, '--threads', '1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/2 completed, 0 failed/);
    expect(r.stderr.split('\n').filter((l) => /Metrics not served|metrics on/.test(l))).toEqual([expect.stringMatching(new RegExp(`^kestrel sweep: Metrics not served: GET /metrics on 127\\.0\\.0\\.1:${port} cannot be served: port ${port} is in use`))]);
  });

  it('a bad KESTREL_METRICS_PORT is a usage error naming the variable', async () => {
    withEnv('KESTREL_METRICS_PORT', 'nine');
    const r = await runCommand(backtestCommand, ['--config', file('job.json', JOB), '--data-dir', dir.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^kestrel backtest: KESTREL_METRICS_PORT: "nine" is not a port number/);
  });
});

describe('kestrel backtest-worker with metrics', () => {
  it('a --metrics-port it cannot bind: exit 2 with one line, before it takes any job', async () => {
    const port = await takenPort();
    const r = await runCommand(backtestWorkerCommand, ['--queue', REDIS, '--data-dir', dir.dir, '--metrics-port', String(port)]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^kestrel backtest-worker: Metrics not served: GET /metrics on 127\\.0\\.0\\.1:${port} cannot be served: port ${port} is in use`))]);
  });

  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  /** A real `kestrel backtest-worker` process (from source) on its own queue; resolves its log reader. */
  function startWorker(dataDir: string, queueName: string, extra: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; log: () => string } {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'src/main/cli/main.ts'), 'backtest-worker', '--queue', REDIS, '--queue-name', queueName, '--data-dir', dataDir, '--threads', '1', ...extra],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(child);
    let log = '';
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    return { child, log: () => log };
  }

  it('the flag beats the variable and the settings; its scrape counts the jobs it ran, and passes promtool', { timeout: 240_000 }, async () => {
    // The data directory's settings and the environment both name a taken port: the flag's wins, and nothing is said of theirs.
    const taken = await takenPort();
    const dataDir = join(dir.dir, 'worker');
    mkdirSync(dataDir, { recursive: true });
    seedDataDir(dataDir, 3000);
    writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ metrics: { port: taken } }));
    const queueName = `metrics-${process.pid}-${Date.now()}`;
    const w = startWorker(dataDir, queueName, ['--metrics-port', '0'], { KESTREL_METRICS_PORT: String(taken) });
    const url = await waitFor('the worker to serve its metrics', () => /metrics on (http:\S+)/.exec(w.log())?.[1], 60_000, 100);
    await waitFor('the worker to take jobs', () => w.log().includes('taking jobs from'), 60_000, 100);
    expect(w.log()).not.toMatch(/Metrics not served/);

    const r = await runCommand(backtestCommand, ['--config', file('job.json', JOB), '--data-dir', dataDir, '--queue', REDIS, '--queue-name', queueName]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { barsDone: number; durationMs: number };
    const { samples, text } = await waitFor(
      'the completed job on the worker scrape',
      async () => {
        const s = await scrapeUrl(url);
        return find(s.samples, 'kestrel_backtest_jobs', { state: 'completed' })[0]?.value === 1 ? s : undefined;
      },
      30_000,
      100,
    );
    expect(one(samples, 'kestrel_backtest_jobs', { state: 'running' })).toBe(0);
    expect(one(samples, 'kestrel_backtest_duration_seconds_count', { kind: 'backtest' })).toBe(1);
    expect(one(samples, 'kestrel_backtest_bars_per_second', { kind: 'backtest' })).toBeGreaterThan(0);
    expect(result.barsDone).toBeGreaterThan(0);
    expect(one(samples, 'process_resident_memory_bytes', { process: 'backtest-worker' })).toBeGreaterThan(0);
    if (existsSync(PROMTOOL)) {
      const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(`${check.stdout}${check.stderr}`.trim()).toBe('');
      expect(check.status).toBe(0);
    }
    w.child.kill('SIGINT');
    await waitFor('the worker to stop', () => w.child.exitCode !== null, 60_000, 100);
    expect(w.child.exitCode).toBe(0);
  });

  it('a port from the settings alone that is taken: one line, and the worker takes jobs', { timeout: 120_000 }, async () => {
    const taken = await takenPort();
    const dataDir = join(dir.dir, 'worker-settings');
    mkdirSync(dataDir, { recursive: true });
    seedDataDir(dataDir, 100);
    writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ metrics: { port: taken } }));
    const w = startWorker(dataDir, `metrics-settings-${process.pid}`, [], { KESTREL_METRICS_PORT: '' });
    await waitFor('the worker to take jobs', () => w.log().includes('taking jobs from'), 60_000, 100);
    expect(w.log().split('\n').filter((l) => /Metrics not served|metrics on/.test(l))).toEqual([expect.stringMatching(new RegExp(`^kestrel backtest-worker: Metrics not served: GET /metrics on 127\\.0\\.0\\.1:${taken} cannot be served: port ${taken} is in use`))]);
  });
});
