/**
 * `kestrel backtest-worker --queue redis://host:6379`: takes backtest jobs from the BullMQ queue
 * and runs them on this machine's threads, reading bars from the shared MySQL store (--mysql) or
 * a local copy (--data-dir), until Ctrl-C or SIGTERM.
 */
import { resolve } from 'node:path';
import { cacheDirFor, sharedBarsLoader } from '../../io/backtest/barCache.js';
import { JobPool } from '../../io/backtest/jobPool.js';
import { RedisBacktestWorker } from '../../io/backtest/redisJobQueue.js';
import type { CliCommand, CliIo } from './command.js';
import { UsageError } from './command.js';
import { intFlag, parseFlags, requireFlag } from './flags.js';
import { QUEUE_FLAGS, QUEUE_USAGE, onInterrupt, queueAddressOf } from './backtestJobs.js';
import { STORE_FLAGS, STORE_USAGE, defaultDataDir, openStoreFromFlags, runReportingErrors } from './storeFlags.js';
import type { JobOutcome } from '../../io/backtest/jobPool.js';
import type { BacktestJob } from '../../shared/backtest.js';
import { BacktestMeter, serveBacktestMetrics } from './backtestMetrics.js';
import { METRICS_FLAGS, METRICS_USAGE, MetricsNotServedError } from './metricsFlags.js';

/** The worker's pool, each job counted by the meter (BullMQ cannot tell a sweep's run from a job: all count as backtest). */
class MeteredPool extends JobPool {
  constructor(
    opts: ConstructorParameters<typeof JobPool>[0],
    private readonly meter: BacktestMeter,
  ) {
    super(opts);
  }

  override submit(id: string, job: BacktestJob): Promise<JobOutcome> {
    return this.meter.track('backtest', id, () => super.submit(id, job));
  }
}

const FLAGS = {
  threads: { type: 'string' },
  'lock-ms': { type: 'string' },
  'stalled-ms': { type: 'string' },
  help: { type: 'boolean' },
  ...STORE_FLAGS,
  ...QUEUE_FLAGS,
  ...METRICS_FLAGS,
} as const;

const USAGE = `Usage: kestrel backtest-worker --queue redis://host:6379 [--threads N] [--mysql URL | --data-dir D | --sqlite F]

Takes backtest jobs that \`kestrel sweep --queue\`, \`kestrel backtest --queue\` or a workstation
put on the BullMQ queue, runs them on this machine (N jobs at once) and hands the results back.
Start as many as you like, on as many machines. Runs until Ctrl-C (jobs in hand are finished
first; a second Ctrl-C leaves them): a killed worker's job goes to another worker once its lock
expires.

  --threads N         concurrent jobs (default: cores − 1, at least 1)
  --lock-ms MS        BullMQ lock duration (default 30000): how long a killed worker keeps its job
  --stalled-ms MS     how often to look for jobs of killed workers (default 30000)

${STORE_USAGE}
  Bars are cached as Arrow files under <data-dir>/cache (--data-dir or the default data directory).

${QUEUE_USAGE}

Metrics (jobs by state, duration, bars per second, this process's own; a port given here that
cannot be bound stops the worker with exit 2):
${METRICS_USAGE}`;

export const backtestWorkerCommand: CliCommand = {
  name: 'backtest-worker',
  usage: USAGE,
  run(argv: readonly string[], io: CliIo): Promise<number> {
    return runReportingErrors('backtest-worker', io, async () => {
      const { values } = parseFlags(argv, FLAGS);
      if (values.help) {
        io.stdout.write(USAGE);
        return 0;
      }
      requireFlag(values.queue, 'queue');
      const address = queueAddressOf(values);
      if (!address) throw new UsageError('--queue is required');
      const threads = intFlag(values.threads, 'threads', { min: 1, max: 256 });
      const lockDurationMs = intFlag(values['lock-ms'], 'lock-ms', { min: 100 });
      const stalledIntervalMs = intFlag(values['stalled-ms'], 'stalled-ms', { min: 100 });
      const meter = new BacktestMeter();
      let stopMetrics: () => Promise<void>;
      try {
        // Exporting is part of this command's job: a port asked of it that cannot be bound stops it before it takes any job.
        stopMetrics = await serveBacktestMetrics('backtest-worker', meter, values, io, { required: true });
      } catch (err) {
        if (!(err instanceof MetricsNotServedError)) throw err;
        io.stderr.write(`kestrel backtest-worker: ${err.message}\n`);
        return 2;
      }
      try {
        const store = await openStoreFromFlags(values, io, { readonly: true });
        const dataDir = resolve(io.cwd, values['data-dir'] ?? defaultDataDir());
        let worker: RedisBacktestWorker | null = null;
        const pool = new MeteredPool(
          {
            ...(threads === undefined ? {} : { threads }),
            loadBars: sharedBarsLoader(store, cacheDirFor(dataDir, store)),
            onProgress: (id, p) => worker?.progress(id, p),
            onStart: (id) => meter.running(id),
          },
          meter,
        );
        worker = new RedisBacktestWorker(address, pool, {
          ...(lockDurationMs === undefined ? {} : { lockDurationMs }),
          ...(stalledIntervalMs === undefined ? {} : { stalledIntervalMs }),
          onEvent: (line) => io.stderr.write(`kestrel backtest-worker: ${line}\n`),
        });
        await worker.waitUntilReady();
        io.stderr.write(`kestrel backtest-worker: ${worker.name} taking jobs from ${address.url} (${pool.threads} at once)\n`);
        await new Promise<void>((done) => {
          const detach = onInterrupt(() => {
            // A second Ctrl-C finds Node's default handler: the process ends, its jobs go back to the queue.
            detach();
            done();
          });
        });
        io.stderr.write(`kestrel backtest-worker: stopping; finishing the jobs in hand (Ctrl-C again to leave them to other workers)\n`);
        await worker.close();
        await pool.close();
        await store.close();
        return 0;
      } finally {
        await stopMetrics();
      }
    });
  },
};
