/**
 * Backtests beyond one machine, against the real Redis on 127.0.0.1:6379: real
 * `node bin/kestrel.js backtest-worker` processes (the built CLI) share a sweep put on a BullMQ
 * queue by `kestrel sweep --queue`, a SIGKILLed worker's job is retried by the other, and a cancel
 * reaches the worker holding the job over pub/sub. Each test uses its own queue name and removes
 * its keys afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisJobQueue } from '../../src/io/backtest/redisJobQueue.js';
import { sweepCommand } from '../../src/main/cli/sweep.js';
import { backtestJobSchema } from '../../src/shared/backtest.js';
import { freshDir, waitFor } from '../helpers.js';
import { PROJECT_ROOT, runCommand } from '../cli/cliHarness.js';
import { ACTIVE_MACD_TD, seedDataDir } from './fixtures.js';

const REDIS = 'redis://127.0.0.1:6379';
const dir = freshDir('bullmq');
const JOB = { strategy: 'macd-td', params: ACTIVE_MACD_TD, symbols: ['i9999.SIM', 'rb9999.SIM'], from: '2025-01-06', to: '2026-12-31', windowMinutes: 15 };
/** 5 × 4 = 20 jobs. */
const SWEEP = { job: JOB, parameters: { 'stopLoss.value': { values: [10, 20, 30, 40, 50] }, 'takeProfit.value': { values: [30, 60, 90, 120] } } };

interface Line {
  runId: string;
  point: Record<string, number>;
  status: string;
  statistics: unknown;
  barsDone: number;
}

let inProcess: Line[] = [];
const children: ChildProcess[] = [];
const queueNames: string[] = [];

function file(name: string, value: unknown): string {
  const path = join(dir.dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/** A data directory of its own (a worker's "own copy" of the bars), its Arrow cache not built yet. */
function copyOfBars(name: string): string {
  const d = join(dir.dir, name);
  mkdirSync(d, { recursive: true });
  copyFileSync(join(dir.dir, 'main', 'kestrel.db'), join(d, 'kestrel.db'));
  return d;
}

function freshQueueName(): string {
  const name = `test-${randomUUID().slice(0, 8)}`;
  queueNames.push(name);
  return name;
}

interface WorkerProcess {
  child: ChildProcess;
  log: () => string;
  /** Job ids this worker completed. */
  completed: () => string[];
  started: () => string[];
}

function startWorker(queueName: string, dataDir: string, extra: string[] = []): WorkerProcess {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'kestrel.js'), 'backtest-worker', '--queue', REDIS, '--queue-name', queueName, '--data-dir', dataDir, '--threads', '1', ...extra], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const ids = (verb: string): string[] => [...log.matchAll(new RegExp(`backtest-worker: ${verb} (\\S+)`, 'g'))].map((m) => m[1] as string);
  return { child, log: () => log, completed: () => ids('completed'), started: () => ids('start') };
}

async function ready(w: WorkerProcess): Promise<void> {
  await waitFor('the worker to take jobs', () => w.log().includes('taking jobs from'), 60_000);
}

async function sweepOver(queueName: string | null, outdir: string): Promise<Line[]> {
  const args = ['--config', file('sweep.json', SWEEP), '--outdir', outdir, '--data-dir', join(dir.dir, 'main')];
  const r = await runCommand(sweepCommand, queueName === null ? [...args, '--threads', '1'] : [...args, '--queue', REDIS, '--queue-name', queueName]);
  expect(r.stderr).toMatch(/20 completed, 0 failed, 0 cancelled/);
  expect(r.code).toBe(0);
  const [runId] = readdirSync(outdir);
  return readFileSync(join(outdir, runId as string, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { runId: id, point, status, statistics, barsDone } = JSON.parse(l) as Line;
      return { runId: id, point, status, statistics, barsDone };
    });
}

beforeAll(async () => {
  mkdirSync(join(dir.dir, 'main'));
  seedDataDir(join(dir.dir, 'main'), 100_000);
  inProcess = await sweepOver(null, join(dir.dir, 'in-process'));
}, 300_000);

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

afterAll(async () => {
  const redis = new Redis(REDIS);
  for (const name of queueNames) {
    const keys = await redis.keys(`kestrel:${name}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  redis.disconnect();
  dir.remove();
});

describe('backtests on a BullMQ queue (real Redis, real backtest-worker processes)', () => {
  it('two workers share a 20-job sweep; each takes some; the results equal the in-process run', async () => {
    const name = freshQueueName();
    const a = startWorker(name, copyOfBars('a'));
    const b = startWorker(name, copyOfBars('b'));
    await Promise.all([ready(a), ready(b)]);
    const lines = await sweepOver(name, join(dir.dir, 'shared'));
    expect(lines).toEqual(inProcess);
    expect(inProcess.every((l) => l.status === 'completed' && l.barsDone > 0)).toBe(true);
    expect(a.completed().length).toBeGreaterThan(0);
    expect(b.completed().length).toBeGreaterThan(0);
    expect(a.completed().length + b.completed().length).toBe(20);
  }, 300_000);

  it('a worker SIGKILLed mid-sweep: its job is retried by the other and the sweep completes, results unchanged', async () => {
    const name = freshQueueName();
    const stallArgs = ['--lock-ms', '1500', '--stalled-ms', '500'];
    const a = startWorker(name, copyOfBars('a2'), stallArgs);
    const b = startWorker(name, copyOfBars('b2'), stallArgs);
    await Promise.all([ready(a), ready(b)]);
    const sweep = sweepOver(name, join(dir.dir, 'killed'));
    // A's first job starts by building its Arrow cache: it is surely still running when killed.
    const victim = await waitFor('worker A to start a job', () => a.started()[0], 120_000);
    a.child.kill('SIGKILL');
    const lines = await sweep;
    expect(lines).toEqual(inProcess);
    expect(a.completed()).not.toContain(victim);
    expect(b.started()).toContain(victim);
    expect(b.completed()).toContain(victim);
  }, 300_000);

  it('a cancel reaches the worker holding the job (Redis pub/sub)', async () => {
    const name = freshQueueName();
    const w = startWorker(name, copyOfBars('c'));
    await ready(w);
    const queue = new RedisJobQueue({ url: REDIS, name });
    try {
      const outcome = queue.submit('one', backtestJobSchema.parse(JOB));
      await waitFor('the worker to start the job', () => w.started().length > 0, 60_000);
      expect(queue.cancel('one')).toBe(true);
      const o = await outcome;
      expect(o.status).toBe('cancelled');
      expect(w.log()).toMatch(/backtest-worker: cancel \S+\.one/);
      expect(w.completed()).toEqual([]);
    } finally {
      await queue.close();
    }
    // SIGTERM (as Ctrl-C): the worker, holding no job, closes and exits 0.
    const exited = new Promise<number | null>((r) => w.child.once('exit', (code) => r(code)));
    w.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 120_000);
});
