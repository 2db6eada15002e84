/**
 * Metrics of the backtest commands (`backtest`, `sweep`, `backtest-worker`), which run jobs
 * without a workstation: the jobs this process has in hand by state, and the duration and
 * speed of those that completed, in a registry of their own with this process's own metrics,
 * served when `--metrics-port`, KESTREL_METRICS_PORT or the data directory's settings say so.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import type { JobOutcome } from '../../io/backtest/jobPool.js';
import type { BacktestStatus } from '../../shared/backtest.js';
import { settingsSchema, type Settings } from '../../shared/config.js';
import { FleetMetrics, type BacktestKind } from '../workstation/fleetMetrics.js';
import { processMetricsText } from '../workstation/metricsExporter.js';
import { SETTINGS_FILE, SettingsError, loadSettings } from '../workstation/settingsFile.js';
import { UsageError, type CliIo } from './command.js';
import { startMetricsFromFlags, type MetricsFlagValues } from './metricsFlags.js';
import { defaultDataDir } from './storeFlags.js';

/** The jobs of one command, counted as they move, and its FleetMetrics fed from them. */
export class BacktestMeter {
  readonly registry = new Registry();
  readonly fleet = new FleetMetrics(this.registry);
  private readonly states = new Map<string, BacktestStatus>();

  /** Marks `id` running (idempotent: called on each progress report). */
  running(id: string): void {
    const state = this.states.get(id);
    if (state === 'queued' || state === 'paused') this.set(id, 'running');
  }

  /** Runs one job through `submit`, counting it queued, then completed, cancelled or failed. */
  async track(kind: BacktestKind, id: string, submit: () => Promise<JobOutcome>): Promise<JobOutcome> {
    this.set(id, 'queued');
    try {
      const outcome = await submit();
      this.set(id, outcome.status);
      if (outcome.status === 'completed' && outcome.run) this.fleet.backtestFinished(kind, outcome.durationMs / 1000, outcome.run.barsDone);
      return outcome;
    } catch (err) {
      this.set(id, 'failed');
      throw err;
    }
  }

  private set(id: string, state: BacktestStatus): void {
    this.states.set(id, state);
    const counts: Partial<Record<BacktestStatus, number>> = {};
    for (const s of this.states.values()) counts[s] = (counts[s] ?? 0) + 1;
    this.fleet.backtestJobs(counts);
  }
}

/**
 * The settings' metrics block of the data directory (its settings.json), or the defaults (no
 * port) when it has none. A settings file that is not settings is a usage error naming it, as
 * for `kestrel serve`.
 */
function metricsSettings(io: CliIo, dataDirFlag: string | undefined): Pick<Settings, 'metrics'> {
  const dir = resolve(io.cwd, dataDirFlag ?? defaultDataDir());
  if (!existsSync(join(dir, SETTINGS_FILE))) return settingsSchema.parse({});
  try {
    return loadSettings(dir).settings;
  } catch (err) {
    if (err instanceof SettingsError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * Serves `meter` (and this process's own metrics, labelled `process=<command>`) where the flags,
 * environment or settings say; nothing when none gives a port. A taken port is one line on stderr
 * and the command goes on, unless `required` (`backtest-worker`): then MetricsNotServedError.
 * Resolves the function that stops serving.
 */
export async function serveBacktestMetrics(
  command: string,
  meter: BacktestMeter,
  values: MetricsFlagValues & { 'data-dir'?: string },
  io: CliIo,
  opts: { required?: boolean } = {},
): Promise<() => Promise<void>> {
  const exposition = {
    contentType: meter.registry.contentType,
    metrics: async (): Promise<string> => (await meter.registry.metrics()) + (await processMetricsText({ process: command })),
  };
  const prefixed = { stderr: { write: (line: string) => io.stderr.write(`kestrel ${command}: ${line}`) } as NodeJS.WritableStream };
  const served = await startMetricsFromFlags(values, process.env, metricsSettings(io, values['data-dir']), exposition, prefixed, opts);
  if (!served) return () => Promise.resolve();
  io.stderr.write(`kestrel ${command}: metrics on ${served.address.url}\n`);
  return () => served.close();
}
