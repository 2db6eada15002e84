import type { AllocationGroupConfig, AllocationStatus, RebalanceRecord, SymbolAllocation } from '../../shared/allocation.js';
import { targetWeights } from './allocationWeights.js';

export type AllocationSide = 'buy' | 'sell';

export interface TradeCheck {
  allowed: boolean;
  /** Why a buy is refused; null when allowed. */
  reason: string | null;
}

/** Rebalance when the spread of usage ratios (used / allocated) across symbols passes this. */
export const REBALANCE_SPREAD = 0.3;
export const REBALANCE_INTERVAL_MS = 3_600_000;
const HISTORY_KEPT = 500;
/** Amounts are sums of floating-point prices × quantities: a limit is not "exceeded" by rounding. */
const EPSILON = 1e-9;

export type AllocatorSummary = Omit<AllocationStatus, 'group' | 'ready' | 'awaiting' | 'symbols'>;

/**
 * The global fund allocator of one group (DOMAIN.md "Grid trader and the global fund allocator").
 * Pure and deterministic: the clock is passed in, nothing is read from the world. A symbol's use
 * is its open position at cost plus its resting buys; a buy passes when it keeps the group's use
 * within `totalFunds × globalMaxUsage` and the symbol's within its allocation. Sells always pass.
 * `reserve` is the check-and-reserve in one synchronous step, which is what makes it atomic for
 * its single-threaded caller (the main process's authority, or a backtest).
 */
export class FundAllocator {
  private readonly used = new Map<string, number>();
  private readonly allocated = new Map<string, number>();
  private weights = new Map<string, number>();
  private readonly blocked = new Map<string, number>();
  private blockedTotal = 0;
  private rebalanceCount = 0;
  private lastRebalanceAt: number | null = null;
  private readonly history: RebalanceRecord[] = [];
  private readonly closes = new Map<string, number[]>();

  constructor(
    readonly config: AllocationGroupConfig,
    private readonly clock: () => number,
  ) {
    for (const s of config.symbols) {
      this.used.set(s.symbol, 0);
      this.blocked.set(s.symbol, 0);
      this.closes.set(s.symbol, []);
    }
    this.applyTargets();
  }

  /** The most the whole group may use. */
  get budget(): number {
    return this.config.totalFunds * this.config.globalMaxUsage;
  }

  /** Whether a trade would pass now; counts nothing and reserves nothing. */
  checkTradeAllowed(symbol: string, side: AllocationSide, amount: number): TradeCheck {
    if (!this.used.has(symbol)) return { allowed: false, reason: `${symbol} is not in allocation group ${this.config.name}` };
    if (!Number.isFinite(amount) || amount < 0) return { allowed: false, reason: `amount ${amount} is not a non-negative number` };
    if (side === 'sell') return { allowed: true, reason: null };
    const globalUsed = this.globalUsed();
    if (globalUsed + amount > this.budget * (1 + EPSILON)) {
      return {
        allowed: false,
        reason: `global use ${round(globalUsed)} + ${round(amount)} would exceed ${round(this.budget)} (${this.config.globalMaxUsage * 100} % of ${this.config.totalFunds})`,
      };
    }
    const used = this.usedOf(symbol);
    const allocated = this.allocatedOf(symbol);
    if (used + amount > allocated * (1 + EPSILON)) {
      return { allowed: false, reason: `${symbol} use ${round(used)} + ${round(amount)} would exceed its allocation ${round(allocated)}` };
    }
    return { allowed: true, reason: null };
  }

  /** Check-and-reserve: a passing buy is added to the symbol's use at once; a refused one is counted. */
  reserve(symbol: string, side: AllocationSide, amount: number): TradeCheck {
    const check = this.checkTradeAllowed(symbol, side, amount);
    if (!check.allowed) {
      this.countRefusal(symbol);
      return check;
    }
    if (side === 'buy') this.used.set(symbol, this.usedOf(symbol) + amount);
    return check;
  }

  /** A buy refused before it reached the limits (the group not ready, an unknown worker): counted all the same. */
  countRefusal(symbol: string): void {
    this.blockedTotal += 1;
    if (this.blocked.has(symbol)) this.blocked.set(symbol, this.usedBlocked(symbol) + 1);
  }

  /**
   * A trade that was not reserved beforehand (a backtest's market order): a buy adds its cost,
   * a sell takes its cost basis off the symbol's use.
   */
  recordTrade(symbol: string, side: AllocationSide, amount: number): void {
    if (!this.used.has(symbol)) return;
    if (side === 'buy') this.used.set(symbol, this.usedOf(symbol) + amount);
    else this.release(symbol, amount);
  }

  /** A reservation given back (a resting buy cancelled) or a position reduced by a sell (at its cost). */
  release(symbol: string, amount: number): void {
    if (!this.used.has(symbol)) return;
    this.used.set(symbol, Math.max(0, this.usedOf(symbol) - amount));
  }

  /** Use re-derived from what the workers hold (positions at cost + resting buys), never trusted blindly. */
  setUsage(symbol: string, amount: number): void {
    if (this.used.has(symbol)) this.used.set(symbol, Math.max(0, amount));
  }

  /** A closed window bar's close, for DYNAMIC's volatility; only the look-back is kept. */
  observeClose(symbol: string, close: number): void {
    const series = this.closes.get(symbol);
    if (!series || !Number.isFinite(close) || close <= 0) return;
    series.push(close);
    if (series.length > this.config.lookback + 1) series.splice(0, series.length - this.config.lookback - 1);
  }

  /**
   * Rebalances when the usage ratios (used / allocated) spread by more than 0.3, at most once an
   * hour; the new allocations follow the strategy's weights but never fall below a symbol's
   * current use. Returns the record when it rebalanced.
   */
  rebalanceIfNeeded(): RebalanceRecord | null {
    const now = this.clock();
    if (this.lastRebalanceAt !== null && now - this.lastRebalanceAt < REBALANCE_INTERVAL_MS) return null;
    const ratios = this.config.symbols.map((s) => ({ symbol: s.symbol, ratio: this.usageRatio(s.symbol) }));
    if (ratios.length < 2) return null;
    const highest = ratios.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    const lowest = ratios.reduce((a, b) => (b.ratio < a.ratio ? b : a));
    const spread = highest.ratio - lowest.ratio;
    if (spread <= REBALANCE_SPREAD) return null;
    const before = Object.fromEntries(this.allocated);
    this.applyTargets();
    const record: RebalanceRecord = {
      at: now,
      reason: `usage spread ${pct(spread)} > ${pct(REBALANCE_SPREAD)} (${highest.symbol} ${pct(highest.ratio)}, ${lowest.symbol} ${pct(lowest.ratio)})`,
      before,
      after: Object.fromEntries(this.allocated),
      weights: Object.fromEntries(this.weights),
    };
    this.lastRebalanceAt = now;
    this.rebalanceCount += 1;
    this.history.push(record);
    if (this.history.length > HISTORY_KEPT) this.history.splice(0, this.history.length - HISTORY_KEPT);
    return record;
  }

  usedOf(symbol: string): number {
    return this.used.get(symbol) ?? 0;
  }

  allocatedOf(symbol: string): number {
    return this.allocated.get(symbol) ?? 0;
  }

  globalUsed(): number {
    let sum = 0;
    for (const v of this.used.values()) sum += v;
    return sum;
  }

  /** Symbols whose use is above their allocation (after a re-derivation, or a shrunk configuration). */
  overAllocated(): string[] {
    return this.config.symbols.map((s) => s.symbol).filter((s) => this.usedOf(s) > this.allocatedOf(s) * (1 + EPSILON));
  }

  status(): SymbolAllocation[] {
    return this.config.symbols.map((s) => ({
      symbol: s.symbol,
      allocatedAmount: this.allocatedOf(s.symbol),
      usedAmount: this.usedOf(s.symbol),
      maxUsagePct: s.maxUsagePct,
      weight: this.weights.get(s.symbol) ?? 0,
      blockedTrades: this.usedBlocked(s.symbol),
    }));
  }

  summary(): AllocatorSummary {
    return {
      totalFunds: this.config.totalFunds,
      globalMaxUsage: this.config.globalMaxUsage,
      strategy: this.config.strategy,
      globalUsed: this.globalUsed(),
      blockedTrades: this.blockedTotal,
      rebalances: this.rebalanceCount,
    };
  }

  rebalanceHistory(): RebalanceRecord[] {
    return this.history.slice();
  }

  private usedBlocked(symbol: string): number {
    return this.blocked.get(symbol) ?? 0;
  }

  private usageRatio(symbol: string): number {
    const allocated = this.allocatedOf(symbol);
    const used = this.usedOf(symbol);
    if (allocated <= 0) return used > 0 ? 1 : 0;
    return used / allocated;
  }

  /**
   * Allocation = the strategy's share of the budget, capped by maxUsagePct × totalFunds, and
   * never below current use. When lifting some symbols to their use leaves less than the other
   * symbols' targets ask for, the room left is shared among them in proportion to what they lack.
   */
  private applyTargets(): void {
    this.weights = targetWeights(this.config, this.closes);
    const targets = new Map(
      this.config.symbols.map((s) => [s.symbol, Math.min((this.weights.get(s.symbol) ?? 0) * this.budget, s.maxUsagePct * this.config.totalFunds)]),
    );
    const room = Math.max(0, this.budget - this.globalUsed());
    let lacking = 0;
    for (const [symbol, target] of targets) lacking += Math.max(0, target - this.usedOf(symbol));
    const share = lacking > room ? room / lacking : 1;
    for (const [symbol, target] of targets) {
      const used = this.usedOf(symbol);
      this.allocated.set(symbol, used + Math.max(0, target - used) * share);
    }
  }
}

function round(x: number): string {
  return (Math.round(x * 100) / 100).toString();
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}
