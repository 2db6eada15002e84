/**
 * The job-runner process: the workstation's one process for backtests, holding the pool of
 * worker threads, or (launch.queue) the client of a BullMQ queue whose workers run the jobs. It reads bars through the Arrow cache, writes each result into kestrel.db, and
 * reports progress (≤ 10/s per job) and status changes to the workstation. A crash here ends
 * backtests only; live trading runs in other processes.
 */
import { join } from 'node:path';
import { BacktestStore } from '../../io/backtest/backtestStore.js';
import { cacheDirFor, sharedBarsLoader } from '../../io/backtest/barCache.js';
import { JobPool } from '../../io/backtest/jobPool.js';
import { RedisJobQueue, type BacktestQueue } from '../../io/backtest/redisJobQueue.js';
import type { JobProgress } from '../../io/backtest/threadProtocol.js';
import { openBarStore } from '../../io/openBarStore.js';
import { backtestProgressOf } from '../../core/backtest/progress.js';
import { JOB_RUNNER_LAUNCH_ENV, fromJobRunnerSchema, jobRunnerLaunchSchema, toJobRunnerSchema, type FromJobRunner, type ToJobRunner } from '../../shared/jobRunnerProtocol.js';
import { parentChannelOf } from '../parentChannel.js';

async function main(): Promise<void> {
  const raw = process.env[JOB_RUNNER_LAUNCH_ENV];
  if (!raw) {
    process.stderr.write(`kestrel job runner: ${JOB_RUNNER_LAUNCH_ENV} is not set; the workstation starts this process\n`);
    process.exit(2);
  }
  const launch = jobRunnerLaunchSchema.parse(JSON.parse(raw));
  const channel = parentChannelOf<ToJobRunner, FromJobRunner>(toJobRunnerSchema, fromJobRunnerSchema);
  const dbPath = join(launch.dataDir, 'kestrel.db');
  const results = BacktestStore.open(dbPath);
  const now = (): string => new Date().toISOString();
  const onStart = (id: string): void => {
    results.setStatus(id, 'running', { startedAt: now() });
    channel.send({ type: 'status', id, status: pool?.stateOf(id) === 'paused' ? 'paused' : 'running', error: null });
  };
  const onProgress = (id: string, p: JobProgress): void => {
    channel.send({ type: 'progress', progress: backtestProgressOf(id, p.paused ? 'paused' : 'running', p) });
  };
  let pool: JobPool | null = null;
  let store: Awaited<ReturnType<typeof openBarStore>> | null = null;
  let queue: BacktestQueue;
  if (launch.queue) {
    // On Redis the workers read bars from their own stores; this process only queues and records.
    queue = new RedisJobQueue(launch.queue, { onStart, onProgress });
  } else {
    store = await openBarStore(launch.barSource.kind === 'mysql' ? { mysqlUrl: launch.barSource.url, readonly: true } : { sqlitePath: launch.barSource.path ?? dbPath, readonly: true });
    pool = new JobPool({ ...(launch.threads === null ? {} : { threads: launch.threads }), loadBars: sharedBarsLoader(store, cacheDirFor(launch.dataDir, store)), onStart, onProgress });
    queue = pool;
  }

  const submit = (id: string, job: Parameters<JobPool['submit']>[1]): void => {
    queue.submit(id, job).then(
      (outcome) => {
        // At shutdown the rows stay as they are: the next start marks them interrupted.
        if (stopping) return;
        if (outcome.run) results.finish(id, outcome.run, { finishedAt: now(), durationMs: outcome.durationMs, version: launch.version });
        else results.fail(id, 'cancelled', null, now());
        channel.send({ type: 'status', id, status: outcome.status, error: null });
      },
      (err: unknown) => {
        if (stopping) return;
        const message = err instanceof Error ? err.message : String(err);
        results.fail(id, 'failed', message, now());
        channel.send({ type: 'status', id, status: 'failed', error: message });
      },
    );
  };

  let stopping = false;
  channel.onMessage((m) => {
    switch (m.type) {
      case 'submit':
        submit(m.id, m.job);
        return;
      case 'pause':
      case 'resume': {
        // The Redis queue cannot pause a job a worker holds: the workstation refuses before sending.
        if (!pool) return;
        const ok = m.type === 'pause' ? pool.pause(m.id) : pool.resume(m.id);
        const state = pool.stateOf(m.id);
        if (ok && state !== null) {
          results.setStatus(m.id, state);
          channel.send({ type: 'status', id: m.id, status: state, error: null });
        }
        return;
      }
      case 'cancel':
        queue.cancel(m.id);
        return;
      case 'pauseQueue':
        pool?.pauseQueue();
        return;
      case 'resumeQueue':
        pool?.resumeQueue();
        return;
      case 'stop':
        if (stopping) return;
        stopping = true;
        void queue.close().finally(() => {
          results.close();
          void (store?.close() ?? Promise.resolve()).finally(() => process.exit(0));
        });
    }
  });
  channel.send({ type: 'ready' });
}

main().catch((err: unknown) => {
  process.stderr.write(`kestrel job runner: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
