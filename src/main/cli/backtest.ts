/**
 * `kestrel backtest --config job.json`: one backtest job on this machine's threads (or, with
 * --queue, on BullMQ workers), its result as JSON.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { thinEquity } from '../../core/backtest/thinEquity.js';
import { backtestJobSchema, type BacktestJob } from '../../shared/backtest.js';
import { formatDatetime } from '../../shared/time.js';
import { KESTREL_VERSION } from '../../shared/version.js';
import type { BacktestRun } from '../../core/backtest/runBacktest.js';
import type { CliCommand, CliIo } from './command.js';
import { intFlag, parseFlags, requireFlag } from './flags.js';
import { EXIT_INTERRUPTED, checkJob, onInterrupt, progressSink, queueFor, readConfig, QUEUE_FLAGS, QUEUE_USAGE } from './backtestJobs.js';
import { STORE_FLAGS, STORE_USAGE, openStoreFromFlags, runReportingErrors } from './storeFlags.js';
import { BacktestMeter, serveBacktestMetrics } from './backtestMetrics.js';
import { METRICS_FLAGS, METRICS_USAGE } from './metricsFlags.js';

const FLAGS = {
  config: { type: 'string' },
  out: { type: 'string' },
  threads: { type: 'string' },
  help: { type: 'boolean' },
  ...STORE_FLAGS,
  ...QUEUE_FLAGS,
  ...METRICS_FLAGS,
} as const;

const USAGE = `Usage: kestrel backtest --config job.json [--data-dir D | --sqlite F | --mysql URL] [--out result.json] [--queue redis://host:6379]

Runs one backtest job: the strategy over the 1-minute bars of its symbols in its range, merged
on the time axis as in live trading, bars read through the Arrow cache under <data-dir>/cache.
Progress goes to stderr (a bar on a terminal, a line per 10 % otherwise); Ctrl-C cancels.

job.json:
  { "strategy": "macd-td", "params": { "stopLoss": { "unit": "ticks", "value": 20 } },
    "symbols": ["rb2505.SHFE"], "from": "2025-01-02", "to": "2025-03-31", "windowMinutes": 15,
    "costs": { "slippageTicks": 1, "commission": { "kind": "perLot", "amount": 3 } }, "capital": 1000000 }

  --config FILE       the job (above)
  --out FILE          write the result JSON there (default: stdout)
  --threads N         not used by a single job; accepted for symmetry with sweep

${STORE_USAGE}

${QUEUE_USAGE}

Metrics (jobs by state, duration, bars per second, this process's own):
${METRICS_USAGE}`;

/** The result file: the job, the outcome, statistics, trades, the month table and the whole equity curve. */
export function resultDocument(job: BacktestJob, run: BacktestRun, durationMs: number): Record<string, unknown> {
  return {
    kestrelVersion: KESTREL_VERSION,
    job,
    status: run.status,
    barsDone: run.barsDone,
    barsTotal: run.barsTotal,
    firstBar: run.firstTime === null ? null : formatDatetime(run.firstTime),
    lastBar: run.lastTime === null ? null : formatDatetime(run.lastTime),
    durationMs,
    barsPerSecond: durationMs > 0 ? (run.barsDone * 1000) / durationMs : null,
    statistics: run.statistics,
    months: run.months,
    trades: run.trades,
    equity: run.equity,
    equityDisplay: thinEquity(run.equity),
  };
}

export const backtestCommand: CliCommand = {
  name: 'backtest',
  usage: USAGE,
  run(argv: readonly string[], io: CliIo): Promise<number> {
    return runReportingErrors('backtest', io, async () => {
      const { values } = parseFlags(argv, FLAGS);
      if (values.help) {
        io.stdout.write(USAGE);
        return 0;
      }
      const file = requireFlag(values.config, 'config');
      const threads = intFlag(values.threads, 'threads', { min: 1, max: 256 });
      const job = readConfig(io, file, backtestJobSchema);
      const store = await openStoreFromFlags(values, io, { readonly: true });
      try {
        await checkJob(file, job, store);
        const meter = new BacktestMeter();
        const stopMetrics = await serveBacktestMetrics('backtest', meter, values, io);
        const progress = progressSink(io, 'backtest');
        const pool = queueFor(store, io, values, threads ?? 1, (id, p) => {
          meter.running(id);
          progress.update(p.barsDone, p.barsTotal, p.time === null ? '' : formatDatetime(p.time));
        });
        let interrupted = false;
        const detach = onInterrupt(() => {
          interrupted = true;
          pool.cancel('job');
        });
        try {
          const outcome = await meter.track('backtest', 'job', () => pool.submit('job', job));
          progress.stop();
          if (interrupted || outcome.status === 'cancelled') {
            io.stderr.write(`kestrel backtest: cancelled after ${(outcome.run?.barsDone ?? 0).toLocaleString('en-US')} bars; nothing written\n`);
            return EXIT_INTERRUPTED;
          }
          const run = outcome.run as BacktestRun;
          const text = `${JSON.stringify(resultDocument(job, run, outcome.durationMs), null, 2)}\n`;
          if (values.out) writeFileSync(resolve(io.cwd, values.out), text);
          else io.stdout.write(text);
          const s = run.statistics;
          io.stderr.write(
            `kestrel backtest: ${run.barsDone.toLocaleString('en-US')} bars, ${s.trades} trades, pnl ${s.totalPnl}, sharpe ${s.sharpe ?? 'n/a'}` +
              `${values.out ? `; result in ${values.out}` : ''}\n`,
          );
          return 0;
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
