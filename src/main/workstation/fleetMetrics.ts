import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AllocationStatus } from '../../shared/allocation.js';
import { backtestStatusSchema, type BacktestStatus } from '../../shared/backtest.js';
import { RISK_REFUSAL_REASONS, type RiskRefusalReason } from '../../shared/risk.js';

/** Label values for "the whole group" where a series is per symbol. */
export const ALL_SYMBOLS = '*';

/** The states a backtest job is counted in (kestrel_backtest_jobs{state}): the contract's job statuses. */
export const BACKTEST_JOB_STATES = backtestStatusSchema.options;
export type BacktestJobState = BacktestStatus;

/** A backtest job of its own, or one run of a sweep (kestrel_backtest_*{kind}). */
export const BACKTEST_KINDS = ['backtest', 'sweep'] as const;
export type BacktestKind = (typeof BACKTEST_KINDS)[number];

/** Where the series read at scrape time come from; a process without one exports those series without samples. */
export interface FleetSources {
  /** Every configured allocation group's status (use, allocations, blocked and rebalance counts since main started). */
  allocations?: () => readonly AllocationStatus[];
  /** Jobs per status as the owner keeps them (the workstation's results table); without it, what `backtestJobs()` last set. */
  backtestJobs?: () => Partial<Record<BacktestStatus, number>>;
}

/**
 * The series of the risk gate, the fund allocator and the backtest jobs, each name declared
 * here once. The risk gate's refusals and the backtests' finishes are pushed by whoever learns
 * of them (refusal counts arrive with each worker's heartbeat, finishes with the job runner's
 * status messages); the allocator's series are read from its status at scrape time, so the
 * allocator needs no hook and a scrape nobody makes costs nothing. Whoever owns the registry
 * serves it (the workstation's exporter, or `startMetricsFromFlags` for the backtest commands).
 */
export class FleetMetrics {
  private readonly refused: Counter<'variant' | 'reason'>;
  private readonly jobs: Gauge<'state'>;
  private readonly jobDuration: Histogram<'kind'>;
  private readonly barsPerSecond: Gauge<'kind'>;
  /** The counts `backtestJobs()` set, for a process without a `backtestJobs` source. */
  private pushedJobs: Partial<Record<BacktestStatus, number>> = {};

  constructor(registry: Registry, sources: FleetSources = {}) {
    const registers = [registry];
    this.refused = new Counter({
      name: 'kestrel_risk_refused_total',
      help: "Order intents the risk gate refused, by variant and reason (freezes: halted, restoring, degraded; limits: reducing, sessionEnd, dailyOpenLimitProduct, dailyOpenLimitGlobal, maxPosition, allocator), since the workstation started; restore's replay not counted",
      labelNames: ['variant', 'reason'] as const,
      registers,
    });
    const allocations = sources.allocations;
    const groups = (): readonly AllocationStatus[] => allocations?.() ?? [];
    new Counter({
      name: 'kestrel_allocator_blocked_total',
      help: 'Buys the fund allocator refused, by allocation group and configured symbol, since the workstation started',
      labelNames: ['group', 'symbol'] as const,
      registers,
      collect() {
        this.reset();
        for (const g of groups()) for (const s of g.symbols) this.inc({ group: g.group, symbol: s.symbol }, s.blockedTrades);
      },
    });
    new Gauge({
      name: 'kestrel_allocator_usage_ratio',
      help: `Funds in use over what may be used: per symbol its use over its allocation, and symbol="${ALL_SYMBOLS}" the group's use over totalFunds × globalMaxUsage`,
      labelNames: ['group', 'symbol'] as const,
      registers,
      collect() {
        this.reset();
        for (const g of groups()) {
          const budget = g.totalFunds * g.globalMaxUsage;
          this.set({ group: g.group, symbol: ALL_SYMBOLS }, ratio(g.globalUsed, budget));
          for (const s of g.symbols) this.set({ group: g.group, symbol: s.symbol }, ratio(s.usedAmount, s.allocatedAmount));
        }
      },
    });
    new Gauge({
      name: 'kestrel_allocator_allocated',
      help: 'Money allocated to each symbol of a group (account currency)',
      labelNames: ['group', 'symbol'] as const,
      registers,
      collect() {
        this.reset();
        for (const g of groups()) for (const s of g.symbols) this.set({ group: g.group, symbol: s.symbol }, s.allocatedAmount);
      },
    });
    new Counter({
      name: 'kestrel_allocator_rebalances_total',
      help: 'Rebalances of an allocation group since the workstation started',
      labelNames: ['group'] as const,
      registers,
      collect() {
        this.reset();
        for (const g of groups()) this.inc({ group: g.group }, g.rebalances);
      },
    });
    const jobSource = sources.backtestJobs;
    const pushed = (): Partial<Record<BacktestStatus, number>> => this.pushedJobs;
    this.jobs = new Gauge({
      name: 'kestrel_backtest_jobs',
      help: 'Backtest jobs (a sweep counts its runs) by state',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const counts = jobSource ? jobSource() : pushed();
        for (const state of BACKTEST_JOB_STATES) this.set({ state }, counts[state] ?? 0);
      },
    });
    this.jobDuration = new Histogram({
      name: 'kestrel_backtest_duration_seconds',
      help: 'Wall-clock seconds of completed backtest jobs, by kind (backtest, sweep)',
      labelNames: ['kind'] as const,
      buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600],
      registers,
    });
    this.barsPerSecond = new Gauge({
      name: 'kestrel_backtest_bars_per_second',
      help: 'One-minute bars per second of the last completed backtest job, by kind',
      labelNames: ['kind'] as const,
      registers,
    });
    // A counter that exists at 0 before its first event lets rate() and increase() see that event.
    for (const kind of BACKTEST_KINDS) this.jobDuration.zero({ kind });
  }

  /**
   * A worker's refusals since its previous report, per reason (every reason, 0 included, so that
   * each series exists from the worker's first report).
   */
  riskRefused(variant: string, deltas: Readonly<Partial<Record<RiskRefusalReason, number>>>): void {
    for (const reason of RISK_REFUSAL_REASONS) {
      const n = deltas[reason] ?? 0;
      if (n >= 0 && Number.isFinite(n)) this.refused.inc({ variant, reason }, n);
    }
  }

  /** How many jobs are in each state now (states not given are 0), for a process without a `backtestJobs` source. */
  backtestJobs(counts: Partial<Record<BacktestStatus, number>>): void {
    this.pushedJobs = { ...counts };
  }

  /** A job completed: its wall-clock duration and the one-minute bars it went through. */
  backtestFinished(kind: BacktestKind, seconds: number, bars: number): void {
    if (!(seconds >= 0)) return;
    this.jobDuration.observe({ kind }, seconds);
    if (seconds > 0) this.barsPerSecond.set({ kind }, bars / seconds);
  }
}

function ratio(used: number, of: number): number {
  if (of > 0) return used / of;
  return used > 0 ? Number.POSITIVE_INFINITY : 0;
}
