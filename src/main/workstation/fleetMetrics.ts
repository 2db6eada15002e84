import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Label values for "the whole group" where a series is per symbol. */
export const ALL_SYMBOLS = '*';

/** The states a backtest job is counted in (kestrel_backtest_jobs{state}). */
export const BACKTEST_JOB_STATES = ['queued', 'running', 'paused', 'done', 'failed', 'cancelled'] as const;
export type BacktestJobState = (typeof BACKTEST_JOB_STATES)[number];

/**
 * The series that are pushed by the part that knows them (the risk gate, the fund allocator,
 * the backtest job runner) rather than read at scrape time: each name is declared here once,
 * and those parts call these methods. Whoever owns the registry serves it (the workstation's
 * exporter, or `startMetricsFromFlags` for the backtest commands).
 */
export class FleetMetrics {
  private readonly refused: Counter<'variant' | 'reason'>;
  private readonly blocked: Counter<'group' | 'symbol'>;
  private readonly usage: Gauge<'group' | 'symbol'>;
  private readonly allocatedAmount: Gauge<'group' | 'symbol'>;
  private readonly rebalances: Counter<'group'>;
  private readonly jobs: Gauge<'state'>;
  private readonly jobDuration: Histogram<'kind'>;
  private readonly barsPerSecond: Gauge<'kind'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.refused = new Counter({
      name: 'kestrel_risk_refused_total',
      help: 'Order intents the risk gate refused, by variant and reason (halted, restoring, degraded, daily limit, session end, max position, max loss, allocator)',
      labelNames: ['variant', 'reason'] as const,
      registers,
    });
    this.blocked = new Counter({
      name: 'kestrel_allocator_blocked_total',
      help: 'Buys the fund allocator refused, by allocation group and symbol',
      labelNames: ['group', 'symbol'] as const,
      registers,
    });
    this.usage = new Gauge({
      name: 'kestrel_allocator_usage_ratio',
      help: `Funds in use over what may be used: per symbol (its allocation), and symbol="${ALL_SYMBOLS}" for the group (totalFunds × globalMaxUsage)`,
      labelNames: ['group', 'symbol'] as const,
      registers,
    });
    this.allocatedAmount = new Gauge({
      name: 'kestrel_allocator_allocated',
      help: 'Money allocated to each symbol of a group (account currency)',
      labelNames: ['group', 'symbol'] as const,
      registers,
    });
    this.rebalances = new Counter({
      name: 'kestrel_allocator_rebalances_total',
      help: 'Rebalances of an allocation group',
      labelNames: ['group'] as const,
      registers,
    });
    this.jobs = new Gauge({
      name: 'kestrel_backtest_jobs',
      help: 'Backtest and sweep jobs by state',
      labelNames: ['state'] as const,
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'kestrel_backtest_duration_seconds',
      help: 'Wall-clock seconds of finished backtest jobs, by kind (backtest, sweep)',
      labelNames: ['kind'] as const,
      buckets: [1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600],
      registers,
    });
    this.barsPerSecond = new Gauge({
      name: 'kestrel_backtest_bars_per_second',
      help: 'One-minute bars per second of the last finished backtest job, by kind',
      labelNames: ['kind'] as const,
      registers,
    });
  }

  /** The risk gate refused an order intent. */
  riskRefused(variant: string, reason: string): void {
    this.refused.inc({ variant, reason });
  }

  /** The allocator refused a buy. */
  allocatorBlocked(group: string, symbol: string): void {
    this.blocked.inc({ group, symbol });
  }

  /** Usage ratios of a group after a grant, a trade or a rebalance: per symbol, and the group's. */
  allocatorUsage(group: string, global: number, bySymbol: Readonly<Record<string, { usage: number; allocated: number }>>): void {
    this.usage.set({ group, symbol: ALL_SYMBOLS }, global);
    for (const [symbol, s] of Object.entries(bySymbol)) {
      this.usage.set({ group, symbol }, s.usage);
      this.allocatedAmount.set({ group, symbol }, s.allocated);
    }
  }

  allocatorRebalanced(group: string): void {
    this.rebalances.inc({ group });
  }

  /** How many jobs are in each state now (states not given are 0). */
  backtestJobs(counts: Partial<Record<BacktestJobState, number>>): void {
    for (const state of BACKTEST_JOB_STATES) this.jobs.set({ state }, counts[state] ?? 0);
  }

  /** A job finished: its wall-clock duration and the one-minute bars it went through. */
  backtestFinished(kind: 'backtest' | 'sweep', seconds: number, bars: number): void {
    this.jobDuration.observe({ kind }, seconds);
    if (seconds > 0) this.barsPerSecond.set({ kind }, bars / seconds);
  }
}
