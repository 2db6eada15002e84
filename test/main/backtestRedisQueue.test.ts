/**
 * The workstation on the Redis queue (Settings `backtest.queue`): the real headless stack (the
 * harness's Workstation + ApiServer, its real job-runner process) sends jobs to a BullMQ queue on
 * the real Redis at 127.0.0.1:6379, and a real `kestrel backtest-worker` process (from source,
 * with its own copy of the bars) runs them. Jobs are submitted over REST as a client would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/core/backtest/runBacktest.js';
import { columnsOf, readSharedBars } from '../../src/io/backtest/barCache.js';
import type { CallContext } from '../../src/shared/api.js';
import { REMOTE_PAUSE_UNAVAILABLE, backtestJobSchema, type BacktestProgress, type BacktestSummary } from '../../src/shared/backtest.js';
import { ACTIVE_MACD_TD, seedDataDir } from '../backtest/fixtures.js';
import { PROJECT_ROOT } from '../cli/cliHarness.js';
import { freshDir, waitFor } from '../helpers.js';
import { exitOf, killGroup, listening, spawnServe } from '../serveProcess.js';
import { startHarness, type Harness } from './workstationHarness.js';

const REDIS = 'redis://127.0.0.1:6379';
const QUEUE = `test-ws-${randomUUID().slice(0, 8)}`;
const ctx: CallContext = { origin: 'rest', controlAllowed: true };
const JOB = { strategy: 'macd-td', params: ACTIVE_MACD_TD, symbols: ['i9999.SIM', 'm9999.SIM', 'rb9999.SIM'], from: '2025-01-06', to: '2026-12-31', windowMinutes: 15 };

let harness: Harness;
let tmp: { dir: string; remove: () => void };
let workerDir: string;
let worker: ChildProcess;
let workerLog = '';
const progress: BacktestProgress[] = [];
const updates: BacktestSummary[] = [];

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${harness.baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${harness.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  tmp = freshDir('backtests-redis');
  mkdirSync(join(tmp.dir, 'ws'));
  // Enough bars that the worker's first job (building its Arrow cache from SQLite, then the run)
  // lasts seconds: the cancel test waits for 'running' and must still find the job there.
  seedDataDir(join(tmp.dir, 'ws'), 240_000);
  // The worker's own copy of the bars (its Arrow cache is built on its first job).
  workerDir = join(tmp.dir, 'worker');
  mkdirSync(workerDir);
  copyFileSync(join(tmp.dir, 'ws', 'kestrel.db'), join(workerDir, 'kestrel.db'));
  worker = spawn(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'src/main/cli/main.ts'), 'backtest-worker', '--queue', REDIS, '--queue-name', QUEUE, '--data-dir', workerDir, '--threads', '1'],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  worker.stderr?.on('data', (d: Buffer) => (workerLog += d.toString()));
  harness = await startHarness({
    dataDir: join(tmp.dir, 'ws'),
    controlEnabled: true,
    settings: { demo: { enabled: false, speed: 60, seed: 1 }, variants: [], backtest: { queue: REDIS, queueName: QUEUE } },
  });
  harness.workstation.bus.on('backtestProgress', (p) => progress.push(p));
  harness.workstation.bus.on('backtestUpdated', (s) => updates.push(s));
  await waitFor('the worker to take jobs', () => workerLog.includes('taking jobs from'), 120_000);
}, 180_000);

afterAll(async () => {
  await harness.stop();
  if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
  const redis = new Redis(REDIS);
  const keys = await redis.keys(`kestrel:${QUEUE}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  tmp.remove();
});

const h = () => harness.workstation.handlers;
const statusOf = async (id: string) => (await h().listBacktests({}, ctx)).find((b) => b.id === id)?.status;

describe('the workstation on the Redis queue (real Redis, real backtest-worker)', () => {
  it('says where jobs run, and refuses pause with the reason', async () => {
    expect(await h().getBacktestQueue({}, ctx)).toEqual({ kind: 'redis', address: `${REDIS}`, name: QUEUE, pauseUnavailable: REMOTE_PAUSE_UNAVAILABLE });
    const r = await post('/api/backtests/queue', { paused: true });
    expect(r.status).toBe(409);
    expect(JSON.stringify(r.json)).toContain('not available on the Redis queue');
  });

  it('a cancel sent through the API reaches the worker holding the job', async () => {
    const started = await post('/api/backtests/start', JOB);
    expect(started.status).toBe(200);
    const id = started.json.id as string;
    // The job runs for about a second (its Arrow cache is built first); so that the cancel lands
    // while the worker holds it however fast the machine, the worker is stopped (SIGSTOP) the moment
    // it says it took the job, the cancel is sent, and the worker resumes to find it.
    await waitFor('the worker to start the job', () => new RegExp(`start \\S+\\.${id}`).test(workerLog), 120_000, 5);
    worker.kill('SIGSTOP');
    try {
      expect(workerLog).not.toMatch(new RegExp(`completed \\S+\\.${id}`));
      const paused = await post(`/api/backtests/${id}/pause`, {});
      expect(paused.status).toBe(409);
      expect((await post(`/api/backtests/${id}/cancel`, {})).status).toBe(200);
    } finally {
      worker.kill('SIGCONT');
    }
    await waitFor('cancelled', async () => (await statusOf(id)) === 'cancelled', 60_000);
    expect(workerLog).toMatch(new RegExp(`backtest-worker: cancel \\S+\\.${id}`));
    expect(workerLog).not.toMatch(new RegExp(`backtest-worker: completed \\S+\\.${id}`));
    // The event follows the stored status through the bus: waited for, not raced.
    await waitFor('the cancelled event', () => updates.some((u) => u.id === id && u.status === 'cancelled'), 30_000);
  }, 240_000);

  it('a job submitted through the API runs on the worker: progress events rise, the result is stored and served, equal to the local run', async () => {
    const started = await post('/api/backtests/start', JOB);
    expect(started.status).toBe(200);
    const id = started.json.id as string;
    await waitFor('completed', async () => (await statusOf(id)) === 'completed', 240_000);
    expect(workerLog).toMatch(new RegExp(`backtest-worker: completed \\S+\\.${id}`));
    const mine = progress.filter((p) => p.id === id).map((p) => p.barsDone);
    expect(mine.length).toBeGreaterThan(1);
    for (let i = 1; i < mine.length; i++) expect(mine[i]).toBeGreaterThanOrEqual(mine[i - 1] as number);
    expect(mine.at(-1)).toBeGreaterThan(mine[0] as number);
    const result = await h().getBacktest({ id }, ctx);
    const job = backtestJobSchema.parse(JOB);
    // The local run: the same job over the same bars, run here from the worker's Arrow files.
    const local = runBacktest(job, JOB.symbols.map((vt) => columnsOf(readSharedBars(join(workerDir, 'cache', `${vt}.1m.arrow`), vt))));
    expect(local.trades.length).toBeGreaterThan(0);
    expect(result.trades).toEqual(local.trades);
    expect(result.statistics).toEqual(local.statistics);
    expect(result.barsDone).toBe(local.barsDone);
    expect(result.months).toEqual(local.months);
    expect(result.status).toBe('completed');
    await waitFor('the completed event', () => updates.some((u) => u.id === id && u.status === 'completed'), 30_000);
    expect(updates.filter((u) => u.id === id).map((u) => u.status)).toEqual(expect.arrayContaining(['queued', 'running', 'completed']));
  }, 300_000);

  it('kestrel serve --queue: the workstation sends its backtests to Redis; a URL that is not Redis is a usage error (exit 2)', async () => {
    const dir = join(tmp.dir, 'serve');
    mkdirSync(dir);
    const bad = spawnServe(dir, ['--port', '0', '--no-demo', '--queue', 'http://127.0.0.1:6379']);
    expect((await exitOf(bad)).code).toBe(2);
    expect(bad.output()).toContain('--queue: "http://127.0.0.1:6379" is not a redis:// URL');
    const serve = spawnServe(dir, ['--port', '0', '--no-demo', '--token', 'tok', '--queue', REDIS, '--queue-name', QUEUE]);
    try {
      const origin = await listening(serve);
      expect(serve.output()).toContain(`Backtests: BullMQ queue "${QUEUE}" on Redis`);
      const res = await fetch(`${origin}/api/backtest-queue`, { headers: { authorization: 'Bearer tok' } });
      expect(await res.json()).toEqual({ kind: 'redis', address: REDIS, name: QUEUE, pauseUnavailable: REMOTE_PAUSE_UNAVAILABLE });
    } finally {
      killGroup(serve.child);
      await serve.exit;
    }
  }, 120_000);
});
