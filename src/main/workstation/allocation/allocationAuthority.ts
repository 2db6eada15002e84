import { FundAllocator } from '../../../core/allocator/fundAllocator.js';
import type { AllocationGroupConfig, AllocationStatus, RebalanceRecord } from '../../../shared/allocation.js';
import type { RaiseAlert } from '../alertCenter.js';

/** One decision as the authority took it, in order: what a grant log is made of. */
export interface AllocationEvent {
  seq: number;
  kind: 'grant' | 'deny' | 'release' | 'report';
  worker: string;
  symbol: string;
  /** Granted, denied or released amount; for a report, the worker's reported use of the symbol. */
  amount: number;
  reason: string | null;
  /** The symbol's allocation and use, and the group's use and budget, right after this event. */
  allocated: number;
  used: number;
  globalUsed: number;
  budget: number;
}

export interface AllocationAuthorityOptions {
  clock?: () => number;
  alert?: (alert: RaiseAlert) => void;
  /** Every decision, in the order taken (tests keep the log; the service samples use from it). */
  onEvent?: (event: AllocationEvent) => void;
  onRebalance?: (record: RebalanceRecord) => void;
}

const GLOBAL_WARN_RATIO = 0.9;

/**
 * The live authority of one allocation group, in the main process. Workers ask it before every
 * buy; it answers from the core `FundAllocator` in one synchronous step (check-and-reserve), so
 * requests arriving in the same millisecond from several workers can never over-commit the pot.
 *
 * Use is kept per worker and symbol, so that a worker's report after its restore replaces what
 * main held for it: use is re-derived from what the workers hold, never trusted blindly. After a
 * start no buy is granted in the group until every member has reported; a restarted worker's
 * own buys wait for its report.
 */
export class AllocationAuthority {
  readonly allocator: FundAllocator;
  private readonly contributions = new Map<string, Map<string, number>>();
  private readonly reported = new Set<string>();
  private groupReady: boolean;
  private seq = 0;
  private globalWarned = false;

  constructor(
    readonly config: AllocationGroupConfig,
    private readonly opts: AllocationAuthorityOptions = {},
  ) {
    this.allocator = new FundAllocator(config, opts.clock ?? Date.now);
    this.groupReady = config.members.length === 0;
  }

  get name(): string {
    return this.config.name;
  }

  /** Members still to report since the start; empty once the group is ready. */
  awaiting(): string[] {
    return this.groupReady ? [] : this.config.members.filter((m) => !this.reported.has(m));
  }

  /** A buy request: granted (and reserved) or denied with a reason. */
  request(worker: string, symbol: string, amount: number): { granted: boolean; reason: string | null } {
    let reason: string | null = null;
    if (this.config.members.length > 0 && !this.config.members.includes(worker)) {
      reason = `${worker} is not a member of allocation group ${this.name}`;
    } else if (!this.groupReady) {
      reason = `allocation group ${this.name} is waiting for ${this.awaiting().join(', ')} to report their use`;
    } else if (this.config.members.length > 0 && !this.reported.has(worker)) {
      reason = `${worker} has not reported its use since it started`;
    }
    if (reason !== null) {
      this.allocator.countRefusal(symbol);
    } else {
      const check = this.allocator.reserve(symbol, 'buy', amount);
      if (check.allowed) this.add(worker, symbol, amount);
      reason = check.reason;
    }
    const granted = reason === null;
    this.emit(granted ? 'grant' : 'deny', worker, symbol, amount, reason);
    if (!granted) {
      this.opts.alert?.({
        level: 'WARNING',
        variant: worker,
        title: 'Trade blocked by the allocator',
        message: `${symbol}: a buy of ${amount.toFixed(2)} refused: ${reason ?? ''}`,
        context: { group: this.name, symbol, amount },
        key: `allocation:${this.name}:${symbol}:blocked`,
      });
    } else {
      this.afterChange();
    }
    return { granted, reason };
  }

  /** A cancelled buy's reservation, or a sold position's cost, given back (never more than the worker held). */
  release(worker: string, symbol: string, amount: number): void {
    const held = this.contributions.get(worker)?.get(symbol) ?? 0;
    const released = Math.min(held, Math.max(0, amount));
    this.add(worker, symbol, -released);
    this.allocator.release(symbol, released);
    this.emit('release', worker, symbol, released, null);
    this.afterChange();
  }

  /** The worker's whole use after its restore: replaces what main held for it. */
  report(worker: string, usage: readonly { symbol: string; amount: number }[]): void {
    const mine = new Map<string, number>();
    for (const u of usage) {
      if (!this.config.symbols.some((s) => s.symbol === u.symbol) || !(u.amount >= 0)) continue;
      mine.set(u.symbol, (mine.get(u.symbol) ?? 0) + u.amount);
    }
    const symbols = new Set([...(this.contributions.get(worker)?.keys() ?? []), ...mine.keys()]);
    this.contributions.set(worker, mine);
    for (const symbol of symbols) this.allocator.setUsage(symbol, this.sumOf(symbol));
    this.reported.add(worker);
    if (!this.groupReady && this.config.members.every((m) => this.reported.has(m))) this.groupReady = true;
    for (const { symbol } of this.config.symbols) this.emit('report', worker, symbol, mine.get(symbol) ?? 0, null);
    this.afterChange();
  }

  /** The worker's process went away: its use stays counted (its positions do), its buys wait for a new report. */
  workerExited(worker: string): void {
    this.reported.delete(worker);
  }

  /** What each worker holds per symbol, as main sees it. */
  contributionsOf(worker: string): Record<string, number> {
    return Object.fromEntries(this.contributions.get(worker) ?? []);
  }

  observeClose(symbol: string, close: number): void {
    this.allocator.observeClose(symbol, close);
  }

  status(): AllocationStatus {
    return {
      group: this.name,
      ...this.allocator.summary(),
      ready: this.groupReady,
      awaiting: this.awaiting(),
      symbols: this.allocator.status(),
    };
  }

  private add(worker: string, symbol: string, delta: number): void {
    let mine = this.contributions.get(worker);
    if (!mine) this.contributions.set(worker, (mine = new Map()));
    mine.set(symbol, Math.max(0, (mine.get(symbol) ?? 0) + delta));
  }

  private sumOf(symbol: string): number {
    let sum = 0;
    for (const mine of this.contributions.values()) sum += mine.get(symbol) ?? 0;
    return sum;
  }

  private emit(kind: AllocationEvent['kind'], worker: string, symbol: string, amount: number, reason: string | null): void {
    this.seq += 1;
    this.opts.onEvent?.({
      seq: this.seq,
      kind,
      worker,
      symbol,
      amount,
      reason,
      allocated: this.allocator.allocatedOf(symbol),
      used: this.allocator.usedOf(symbol),
      globalUsed: this.allocator.globalUsed(),
      budget: this.allocator.budget,
    });
  }

  private afterChange(): void {
    const record = this.allocator.rebalanceIfNeeded();
    if (record) {
      this.opts.onRebalance?.(record);
      this.opts.alert?.({ level: 'INFO', variant: null, title: 'Allocation rebalanced', message: `${this.name}: ${record.reason}`, context: { group: this.name, after: record.after }, key: `allocation:${this.name}:rebalance:${record.at}` });
    }
    for (const symbol of this.allocator.overAllocated()) {
      this.opts.alert?.({
        level: 'WARNING',
        variant: null,
        title: 'Symbol above its allocation',
        message: `${this.name}: ${symbol} uses ${this.allocator.usedOf(symbol).toFixed(2)} of an allocation of ${this.allocator.allocatedOf(symbol).toFixed(2)}; its buys are refused until it falls back`,
        context: { group: this.name, symbol },
        key: `allocation:${this.name}:${symbol}:over`,
      });
    }
    const ratio = this.allocator.globalUsed() / this.allocator.budget;
    if (ratio > GLOBAL_WARN_RATIO && !this.globalWarned) {
      this.globalWarned = true;
      this.opts.alert?.({
        level: 'WARNING',
        variant: null,
        title: 'Allocation group above 90 % of its limit',
        message: `${this.name}: ${this.allocator.globalUsed().toFixed(2)} used of ${this.allocator.budget.toFixed(2)} (${(ratio * 100).toFixed(1)} %)`,
        context: { group: this.name },
        key: `allocation:${this.name}:global90`,
      });
    } else if (ratio <= GLOBAL_WARN_RATIO) {
      this.globalWarned = false;
    }
  }
}
