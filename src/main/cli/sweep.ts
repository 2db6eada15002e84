/**
 * `kestrel sweep --config sweep.json --outdir D`: a grid (or a seeded random sample) of
 * parameter points as one batch of jobs on every core but one; writes D/<run_id>/results.jsonl
 * (a line per run, in point order) and D/<run_id>/aggregated.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { aggregateSweep, applyPoint, sweepPoints, type SweepPoint, type SweepRunOutcome } from '../../core/backtest/sweep.js';
import { sweepConfigSchema, type BacktestJob } from '../../shared/backtest.js';
import { KESTREL_VERSION } from '../../shared/version.js';
import type { CliCommand, CliIo } from './command.js';
import { intFlag, parseFlags, requireFlag } from './flags.js';
import { ConfigError, EXIT_INTERRUPTED, checkJob, onInterrupt, progressSink, queueFor, readConfig, QUEUE_FLAGS, QUEUE_USAGE } from './backtestJobs.js';
import { STORE_FLAGS, STORE_USAGE, openStoreFromFlags, runReportingErrors } from './storeFlags.js';
import { BacktestMeter, serveBacktestMetrics } from './backtestMetrics.js';
import { METRICS_FLAGS, METRICS_USAGE } from './metricsFlags.js';

const FLAGS = {
  config: { type: 'string' },
  outdir: { type: 'string' },
  threads: { type: 'string' },
  help: { type: 'boolean' },
  ...STORE_FLAGS,
  ...QUEUE_FLAGS,
  ...METRICS_FLAGS,
} as const;

const USAGE = `Usage: kestrel sweep --config sweep.json --outdir DIR [--threads N] [--data-dir D | --sqlite F | --mysql URL] [--queue redis://host:6379]

Runs one backtest per parameter point and writes DIR/<run_id>/results.jsonl (one line per run:
point, status, statistics) and DIR/<run_id>/aggregated.json (counts, the best run by each
statistic, means that skip non-finite values, null when none is finite).

sweep.json:
  { "job": { ...a backtest job, see kestrel backtest --help... },
    "parameters": { "signal.fast": { "values": [8, 12, 16] }, "stopLoss.value": { "min": 10, "max": 40, "step": 10 } },
    "mode": "grid" }                      or  "mode": "random", "samples": 50, "seed": 7

  --threads N         concurrent jobs (default: cores − 1, at least 1)

${STORE_USAGE}

${QUEUE_USAGE}

Metrics (runs by state, duration, bars per second, this process's own):
${METRICS_USAGE}`;

export const sweepCommand: CliCommand = {
  name: 'sweep',
  usage: USAGE,
  run(argv: readonly string[], io: CliIo): Promise<number> {
    return runReportingErrors('sweep', io, async () => {
      const { values } = parseFlags(argv, FLAGS);
      if (values.help) {
        io.stdout.write(USAGE);
        return 0;
      }
      const file = requireFlag(values.config, 'config');
      const outdir = resolve(io.cwd, requireFlag(values.outdir, 'outdir'));
      const threads = intFlag(values.threads, 'threads', { min: 1, max: 256 });
      const sweep = readConfig(io, file, sweepConfigSchema);
      let points: SweepPoint[];
      try {
        points = sweepPoints(sweep);
      } catch (err) {
        throw new ConfigError(file, 'parameters', err instanceof Error ? err.message : String(err));
      }
      const jobs: { runId: string; point: SweepPoint; job: BacktestJob }[] = points.map((point, i) => ({
        runId: `r${String(i + 1).padStart(String(points.length).length, '0')}`,
        point,
        job: { ...sweep.job, params: applyPoint(sweep.job.params, point) },
      }));
      const store = await openStoreFromFlags(values, io, { readonly: true });
      try {
        await checkJob(file, sweep.job, store, 'job.');
        // Every point's params checked before any runs: a sweep starts whole or not at all.
        for (const j of jobs) await checkJob(file, j.job, store, 'job.');
        const runId = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomUUID().slice(0, 6)}`;
        const dir = join(outdir, runId);
        mkdirSync(dir, { recursive: true });
        const meter = new BacktestMeter();
        const stopMetrics = await serveBacktestMetrics('sweep', meter, values, io);
        const progress = progressSink(io, `sweep ${runId}`);
        const done = new Map<string, number>();
        let barsTotal = 0;
        const totals = new Map<string, number>();
        const pool = queueFor(store, io, values, threads, (id, p) => {
          meter.running(id);
          done.set(id, p.barsDone);
          if (!totals.has(id)) {
            totals.set(id, p.barsTotal);
            barsTotal += p.barsTotal;
          }
          let sum = 0;
          for (const v of done.values()) sum += v;
          // Until every job has reported its size, the total is estimated from those that have.
          progress.update(sum, Math.max(sum, Math.round((barsTotal / totals.size) * jobs.length)), `${totals.size}/${jobs.length} jobs started`);
        });
        let interrupted = false;
        const detach = onInterrupt(() => {
          interrupted = true;
          for (const j of jobs) pool.cancel(j.runId);
        });
        try {
          const outcomes = await Promise.all(
            jobs.map(async (j): Promise<SweepRunOutcome & { line: string }> => {
              try {
                const o = await meter.track('sweep', j.runId, () => pool.submit(j.runId, j.job));
                const line = JSON.stringify({
                  runId: j.runId,
                  point: j.point,
                  status: o.status,
                  statistics: o.run?.statistics ?? null,
                  barsDone: o.run?.barsDone ?? 0,
                  durationMs: o.durationMs,
                  kestrelVersion: KESTREL_VERSION,
                });
                return { runId: j.runId, point: j.point, status: o.status, statistics: o.status === 'completed' ? (o.run?.statistics ?? null) : null, line };
              } catch (err) {
                const error = err instanceof Error ? err.message : String(err);
                return { runId: j.runId, point: j.point, status: 'failed', statistics: null, line: JSON.stringify({ runId: j.runId, point: j.point, status: 'failed', error }) };
              }
            }),
          );
          progress.stop();
          writeFileSync(join(dir, 'results.jsonl'), `${outcomes.map((o) => o.line).join('\n')}\n`);
          const aggregate = aggregateSweep(runId, outcomes);
          writeFileSync(join(dir, 'aggregated.json'), `${JSON.stringify(aggregate, null, 2)}\n`);
          io.stdout.write(`${dir}\n`);
          const { completed, failed, cancelled } = aggregate.counts;
          io.stderr.write(`kestrel sweep: ${completed} completed, ${failed} failed, ${cancelled} cancelled; results in ${dir}\n`);
          if (interrupted) return EXIT_INTERRUPTED;
          return failed > 0 ? 1 : 0;
        } finally {
          detach();
          await pool.close();
          await stopMetrics();
        }
      } finally {
        await store.close();
      }
    });
  },
};
