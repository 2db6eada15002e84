import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { jobProblems } from '../../core/backtest/jobCheck.js';
import { backtestStrategyNames, lookupBacktestStrategy } from '../../core/backtest/strategyCatalog.js';
import { aggregateSweep, applyPoint, sweepPoints } from '../../core/backtest/sweep.js';
import { equityCsv, tradesCsv } from '../../io/backtest/backtestExport.js';
import { BacktestStore } from '../../io/backtest/backtestStore.js';
import { openBarStore } from '../../io/openBarStore.js';
import { strategyFor } from '../../core/strategy/registry.js';
import { ApiError, type ApiHandlers, type CallContext, type ValidParamsOf } from '../../shared/api.js';
import type { BacktestBars } from '../../shared/contract/backtests.js';
import type { BarHistory } from '../../shared/contract/history.js';
import type { SignalParams } from '../../shared/signalParams.js';
import {
  REMOTE_PAUSE_UNAVAILABLE,
  backtestJobSchema,
  rangeOfJob,
  type BacktestJob,
  type BacktestProgress,
  type BacktestQueueInfo,
  type BacktestStatus,
  type BacktestSummary,
  type SweepConfig,
} from '../../shared/backtest.js';
import { redisQueueUrl, type BarSource } from '../../shared/config.js';
import { fieldErrorsOfIssues } from '../../shared/contractKit.js';
import type { FromJobRunner } from '../../shared/jobRunnerProtocol.js';
import type { EventBus } from './eventBus.js';
import type { Host, JobRunnerHandle } from './host.js';
import type { CommandRunner } from './settingsStore.js';

export interface BacktestServiceOptions {
  dataDir: string;
  barSource: BarSource;
  host: Host;
  bus: EventBus;
  command: CommandRunner;
  version: string;
  /** Concurrent jobs in the runner; null = max(1, cores − 1). */
  threads?: number | null;
  /** A job completed (the metrics' duration and bars per second), with its stored summary. */
  onCompleted?: (summary: BacktestSummary) => void;
  /** Window bars with marks, computed with the given signal parameters (the HistoryService's). */
  windowBars?: (params: { vtSymbol: string; windowMinutes: number; before?: number; count: number }, signal: Partial<SignalParams>) => Promise<BarHistory>;
  /** Jobs go to this BullMQ queue on Redis instead of the runner's threads (Settings `backtest.queue`, `serve --queue`). */
  queue?: { url: string; name: string } | null;
}

type BacktestHandlers = Pick<
  ApiHandlers,
  | 'listBacktestStrategies'
  | 'getBacktestQueue'
  | 'listBacktests'
  | 'getBacktest'
  | 'exportBacktest'
  | 'getBacktestBars'
  | 'startBacktest'
  | 'pauseBacktest'
  | 'resumeBacktest'
  | 'cancelBacktest'
  | 'rerunBacktest'
  | 'setBacktestQueuePaused'
  | 'startSweep'
  | 'getSweep'
>;

/**
 * Backtests as the workstation sees them: jobs go to the job-runner process (forked on first
 * use, re-forked after a crash), results are read from kestrel.db where the runner wrote them,
 * progress and status changes become the contract's events. At start, jobs a previous run left
 * queued or running are marked `interrupted` (re-run with rerunBacktest).
 */
export class BacktestService {
  private store: BacktestStore | null = null;
  private runner: JobRunnerHandle | null = null;
  private readonly progress = new Map<string, BacktestProgress>();
  private stopping = false;

  constructor(private readonly opts: BacktestServiceOptions) {}

  start(): void {
    this.store = BacktestStore.open(join(this.opts.dataDir, 'kestrel.db'));
    this.store.markInterrupted(new Date().toISOString());
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const runner = this.runner;
    this.runner = null;
    if (runner) {
      const gone = new Promise<void>((resolve) => runner.onExit(() => resolve()));
      runner.send({ type: 'stop' });
      const timer = setTimeout(() => runner.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(timer);
    }
    this.store?.close();
    this.store = null;
  }

  /** Jobs per status in the results table; empty before start(). */
  jobCounts(): Partial<Record<BacktestStatus, number>> {
    return this.store?.countByStatus() ?? {};
  }

  /** The job runner's pid, while it runs (tests kill it). */
  get runnerPid(): number | null {
    return this.runner?.pid ?? null;
  }

  handlers(): BacktestHandlers {
    return {
      listBacktestStrategies: () =>
        Promise.resolve(backtestStrategyNames().map((name) => ({ name, summary: lookupBacktestStrategy(name)?.summary ?? '' }))),
      getBacktestQueue: () => Promise.resolve(this.queueInfo()),
      listBacktests: () => Promise.resolve(this.results().list().map((s) => this.live(s))),
      getBacktest: ({ id }) => {
        const r = this.results().result(id);
        if (!r) return Promise.reject(new ApiError(404, `no backtest ${id}`));
        return Promise.resolve({ ...r, ...this.liveFields(r) });
      },
      getBacktestBars: (params) => this.bars(params),
      exportBacktest: ({ id, what }) => {
        const store = this.results();
        if (!store.summary(id)) return Promise.reject(new ApiError(404, `no backtest ${id}`));
        const csv = what === 'trades' ? tradesCsv(store.trades(id)) : equityCsv(store.equity(id));
        return Promise.resolve({ filename: `backtest-${id}-${what}.csv`, csv });
      },
      startBacktest: (job, ctx) =>
        this.opts.command(ctx, 'startBacktest', job.strategy, { job }, async () => {
          await this.check(job, '');
          const id = this.submit(job, null);
          return { ok: true, message: `backtest ${id} queued`, id };
        }),
      pauseBacktest: ({ id }, ctx) => this.control(ctx, 'pause', id),
      resumeBacktest: ({ id }, ctx) => this.control(ctx, 'resume', id),
      cancelBacktest: ({ id }, ctx) => this.control(ctx, 'cancel', id),
      rerunBacktest: ({ id }, ctx) =>
        this.opts.command(ctx, 'rerunBacktest', id, { id }, () => {
          const old = this.results().summary(id);
          if (!old) throw new ApiError(404, `no backtest ${id}`);
          if (old.status === 'queued' || old.status === 'running' || old.status === 'paused') throw new ApiError(409, `backtest ${id} is ${old.status}`);
          const newId = this.submit(old.job, old.sweepId);
          return Promise.resolve({ ok: true, message: `backtest ${id} re-run as ${newId}`, id: newId });
        }),
      setBacktestQueuePaused: ({ paused }, ctx) =>
        this.opts.command(ctx, 'setBacktestQueuePaused', null, { paused }, () => {
          this.refuseRemotePause();
          this.ensureRunner().send({ type: paused ? 'pauseQueue' : 'resumeQueue' });
          return Promise.resolve({ ok: true, message: paused ? 'backtest queue paused' : 'backtest queue resumed' });
        }),
      startSweep: (sweep, ctx) =>
        this.opts.command(ctx, 'startSweep', sweep.job.strategy, { sweep }, async () => {
          const { id, runs } = await this.startSweep(sweep);
          return { ok: true, message: `sweep ${id}: ${runs} backtests queued`, id, runs };
        }),
      getSweep: ({ id }) => {
        const store = this.results();
        const sweep = store.sweep(id);
        if (!sweep) return Promise.reject(new ApiError(404, `no sweep ${id}`));
        const runs = store.sweepRuns(id);
        const aggregate = aggregateSweep(
          id,
          runs.map(({ summary, point }) => ({
            runId: summary.id,
            point,
            status: summary.status === 'completed' ? 'completed' : summary.status === 'failed' ? 'failed' : 'cancelled',
            statistics: summary.status === 'completed' ? summary.statistics : null,
          })),
        );
        return Promise.resolve({
          id,
          name: sweep.name,
          createdAt: sweep.createdAt,
          config: sweep.config,
          points: Object.fromEntries(runs.map((r) => [r.summary.id, r.point])),
          runs: runs.map((r) => this.live(r.summary)),
          aggregate,
        });
      },
    };
  }

  private async startSweep(sweep: SweepConfig): Promise<{ id: string; runs: number }> {
    let points;
    try {
      points = sweepPoints(sweep);
    } catch (err) {
      throw new ApiError(400, err instanceof Error ? err.message : String(err), [{ path: 'parameters', message: err instanceof Error ? err.message : String(err) }]);
    }
    const jobs = points.map((point) => ({ point, job: { ...sweep.job, params: applyPoint(sweep.job.params, point) } }));
    // Every point is checked before any is queued: a sweep starts whole or not at all.
    await this.check(sweep.job, 'job.');
    for (const { job, point } of jobs) {
      const problems = jobProblems(job, null);
      if (problems.length > 0) {
        throw new ApiError(400, `point ${JSON.stringify(point)}: ${problems[0]?.path}: ${problems[0]?.message}`, problems.map((p) => ({ path: `job.${p.path}`, message: p.message })));
      }
    }
    const id = `sw-${randomUUID().slice(0, 8)}`;
    this.results().createSweep({ id, name: sweep.name ?? `sweep of ${sweep.job.strategy}`, config: sweep, createdAt: new Date().toISOString() });
    for (const { job, point } of jobs) this.submit(job, id, point);
    return { id, runs: jobs.length };
  }

  /** Strategy, params and symbols, each wrong field named (400). */
  private async check(job: BacktestJob, prefix: string): Promise<void> {
    const parsed = backtestJobSchema.safeParse(job);
    if (!parsed.success) throw new ApiError(400, 'invalid backtest job', fieldErrorsOfIssues(parsed.error.issues, prefix.replace(/\.$/, '')));
    const problems = jobProblems(job, await this.knownSymbols());
    if (problems.length > 0) {
      const first = problems[0];
      throw new ApiError(400, `${prefix}${first?.path}: ${first?.message}`, problems.map((p) => ({ path: `${prefix}${p.path}`, message: p.message })));
    }
  }

  private async knownSymbols(): Promise<Set<string>> {
    const { barSource, dataDir } = this.opts;
    const store = await openBarStore(
      barSource.kind === 'mysql' ? { mysqlUrl: barSource.url, readonly: true } : { sqlitePath: barSource.path ?? join(dataDir, 'kestrel.db'), readonly: true },
    ).catch((err: unknown) => {
      throw new ApiError(503, err instanceof Error ? err.message : String(err));
    });
    try {
      return new Set((await store.overview()).filter((o) => o.interval === '1m' && o.count > 0).map((o) => `${o.symbol}.${o.exchange}`));
    } finally {
      await store.close();
    }
  }

  private submit(job: BacktestJob, sweepId: string | null, point?: Record<string, number | string | boolean>): string {
    const id = `bt-${randomUUID().slice(0, 12)}`;
    this.results().create(id, job, { sweepId, ...(point ? { point } : {}), createdAt: new Date().toISOString(), version: this.opts.version });
    this.ensureRunner().send({ type: 'submit', id, job });
    this.updated(id);
    return id;
  }

  private control(ctx: CallContext, action: 'pause' | 'resume' | 'cancel', id: string): Promise<{ ok: boolean; message: string; id: string }> {
    return this.opts.command(ctx, `${action}Backtest`, id, { id }, () => {
      const s = this.results().summary(id);
      if (!s) throw new ApiError(404, `no backtest ${id}`);
      if (s.status !== 'queued' && s.status !== 'running' && s.status !== 'paused') throw new ApiError(409, `backtest ${id} is ${s.status}`);
      if (action !== 'cancel') this.refuseRemotePause();
      this.runner?.send({ type: action, id });
      return Promise.resolve({ ok: true, message: `backtest ${id}: ${action} sent`, id });
    });
  }

  /** A page of the job's K-line: bars inside its range only, computed with its strategy's own signal parameters. */
  private async bars({ id, vtSymbol, before, count }: ValidParamsOf<'getBacktestBars'>): Promise<BacktestBars> {
    const s = this.results().summary(id);
    if (!s) throw new ApiError(404, `no backtest ${id}`);
    const { job } = s;
    if (!job.symbols.includes(vtSymbol)) throw new ApiError(400, `backtest ${id} has no ${vtSymbol}`, [{ path: 'vtSymbol', message: `not in this backtest's universe (${job.symbols.join(', ')})` }]);
    const entry = lookupBacktestStrategy(job.strategy);
    const parsed = entry?.parse(job.params, job.costs);
    if (!parsed?.ok) throw new ApiError(409, `backtest ${id}: its strategy "${job.strategy}" or parameters are no longer valid`);
    const strategy = strategyFor(job.strategy, parsed.params, `backtest ${id}`);
    const span = job.windowMinutes * 60;
    const range = rangeOfJob(job);
    const start = Math.floor(range.from / span) * span;
    const end = range.to + 1;
    const bound = before === undefined ? end : Math.min(before, end);
    const empty = { bars: [], marks: [], hasMore: false, windowMinutes: job.windowMinutes, display: strategy.display };
    if (bound <= start || !this.opts.windowBars) return empty;
    const page = await this.opts.windowBars({ vtSymbol, windowMinutes: job.windowMinutes, before: bound, count }, strategy.signalParams);
    const bars = page.bars.filter((b) => b.time >= start);
    // The strategy's marks are drawn only when it says it has them.
    const marks = strategy.display.marks.includes('td') ? page.marks.filter((m) => m.time >= start) : [];
    const first = bars[0];
    return { ...empty, bars, marks, hasMore: page.hasMore && bars.length === page.bars.length && first !== undefined && first.time > start };
  }

  private queueInfo(): BacktestQueueInfo {
    const q = this.opts.queue ?? null;
    if (!q) return { kind: 'local', address: null, name: null, pauseUnavailable: null };
    const url = redisQueueUrl(q.url);
    // The address is shown on screen: never its password.
    if (url) url.password = '';
    return { kind: 'redis', address: url ? url.toString() : q.url, name: q.name, pauseUnavailable: REMOTE_PAUSE_UNAVAILABLE };
  }

  private refuseRemotePause(): void {
    const reason = this.queueInfo().pauseUnavailable;
    if (reason !== null) throw new ApiError(409, reason);
  }

  private ensureRunner(): JobRunnerHandle {
    if (this.runner) return this.runner;
    if (this.stopping) throw new ApiError(503, 'the workstation is shutting down');
    const runner = this.opts.host.forkJobRunner({ dataDir: this.opts.dataDir, barSource: this.opts.barSource, threads: this.opts.threads ?? null,
      version: this.opts.version,
      queue: this.opts.queue ?? null,
    });
    runner.onMessage((m) => this.onRunnerMessage(m));
    runner.onExit(() => {
      if (this.runner !== runner) return;
      this.runner = null;
      // A crashed runner took its jobs with it: they are interrupted, re-runnable, and live trading never noticed.
      if (!this.stopping && this.store) {
        this.store.markInterrupted(new Date().toISOString());
        for (const id of [...this.progress.keys()]) this.updated(id);
        this.progress.clear();
      }
    });
    this.runner = runner;
    return runner;
  }

  private onRunnerMessage(m: FromJobRunner): void {
    if (m.type === 'progress') {
      this.progress.set(m.progress.id, m.progress);
      this.opts.bus.emit('backtestProgress', m.progress);
    } else if (m.type === 'status') {
      const p = this.progress.get(m.id);
      // The runner writes every status change of a row it runs, in order; here they are only relayed
      // (a 'running' arriving late must never overwrite the 'completed' written after it).
      if (m.status === 'running' || m.status === 'paused') {
        if (p) this.progress.set(m.id, { ...p, status: m.status });
      } else {
        this.progress.delete(m.id);
      }
      this.updated(m.id);
      if (m.status === 'completed' && this.opts.onCompleted) {
        const done = this.store?.summary(m.id);
        if (done) this.opts.onCompleted(done);
      }
    }
  }

  private updated(id: string): void {
    const s = this.store?.summary(id);
    if (s) this.opts.bus.emit('backtestUpdated', this.live(s));
  }

  /** A row with the running job's latest bar count. */
  private live(s: BacktestSummary): BacktestSummary {
    return { ...s, ...this.liveFields(s) };
  }

  private liveFields(s: BacktestSummary): Pick<BacktestSummary, 'barsDone' | 'barsTotal'> {
    const p = this.progress.get(s.id);
    return p && (s.status === 'running' || s.status === 'paused') ? { barsDone: p.barsDone, barsTotal: p.barsTotal } : { barsDone: s.barsDone, barsTotal: s.barsTotal };
  }

  private results(): BacktestStore {
    if (!this.store) throw new ApiError(503, 'backtests are not available (the workstation is not started)');
    return this.store;
  }
}
