/**
 * The job-runner process: the workstation's one process for backtests, holding the pool of
 * worker threads. It reads bars through the Arrow cache, writes each result into kestrel.db, and
 * reports progress (≤ 10/s per job) and status changes to the workstation. A crash here ends
 * backtests only; live trading runs in other processes.
 */
import { join } from 'node:path';
import { BacktestStore } from '../../io/backtest/backtestStore.js';
import { cacheDirFor, sharedBarsLoader } from '../../io/backtest/barCache.js';
import { JobPool } from '../../io/backtest/jobPool.js';
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
  const store = await openBarStore(
    launch.barSource.kind === 'mysql' ? { mysqlUrl: launch.barSource.url, readonly: true } : { sqlitePath: launch.barSource.path ?? dbPath, readonly: true },
  );
  const results = BacktestStore.open(dbPath);
  const now = (): string => new Date().toISOString();
  const pool = new JobPool({
    ...(launch.threads === null ? {} : { threads: launch.threads }),
    loadBars: sharedBarsLoader(store, cacheDirFor(launch.dataDir, store)),
    onStart: (id) => {
      results.setStatus(id, 'running', { startedAt: now() });
      channel.send({ type: 'status', id, status: pool.stateOf(id) === 'paused' ? 'paused' : 'running', error: null });
    },
    onProgress: (id, p) => {
      channel.send({ type: 'progress', progress: backtestProgressOf(id, p.paused ? 'paused' : 'running', p) });
    },
  });

  const submit = (id: string, job: Parameters<JobPool['submit']>[1]): void => {
    pool.submit(id, job).then(
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
        const ok = m.type === 'pause' ? pool.pause(m.id) : pool.resume(m.id);
        const state = pool.stateOf(m.id);
        if (ok && state !== null) {
          results.setStatus(m.id, state);
          channel.send({ type: 'status', id: m.id, status: state, error: null });
        }
        return;
      }
      case 'cancel':
        pool.cancel(m.id);
        return;
      case 'pauseQueue':
        pool.pauseQueue();
        return;
      case 'resumeQueue':
        pool.resumeQueue();
        return;
      case 'stop':
        if (stopping) return;
        stopping = true;
        void pool.close().finally(() => {
          results.close();
          void store.close().finally(() => process.exit(0));
        });
    }
  });
  channel.send({ type: 'ready' });
}

main().catch((err: unknown) => {
  process.stderr.write(`kestrel job runner: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
