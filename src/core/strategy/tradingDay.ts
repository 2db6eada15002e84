import { assertCount, assertObject, assertVersion } from '../state.js';

/**
 * Daily open limits (DOMAIN.md "MACD-TD strategy", Limits): at most `perProduct` opens per
 * product and `global` opens across all products of one variant per trading day. The trading
 * day is whatever the caller passes (TradingCalendar.tradingDay: the night session from 21:00
 * belongs to the next trading day, Friday night to Monday); the counters start again at 0
 * when it moves forward. An open is counted when its order is sent, not when it fills.
 */
export interface DailyOpenLimits {
  perProduct: number;
  global: number;
}

export interface DailyOpenCountersState {
  version: 1;
  /** 'YYYY-MM-DD'; null before the first bar. */
  tradingDay: string | null;
  global: number;
  /** product → opens today; products without an open today are absent. */
  byProduct: Record<string, number>;
}

export type OpenPermission = { allowed: true } | { allowed: false; reason: string };

export class DailyOpenCounters {
  private day: string | null = null;
  private globalCount = 0;
  private readonly byProduct = new Map<string, number>();

  constructor(readonly limits: Readonly<DailyOpenLimits>) {
    assertCount(limits.perProduct, 'daily open limit per product');
    assertCount(limits.global, 'daily open limit global');
  }

  get tradingDay(): string | null {
    return this.day;
  }

  /**
   * Moves to `tradingDay` ('YYYY-MM-DD'); returns true when that began a new day (counters
   * reset). A day that is not after the current one changes nothing, so a late bar of another
   * instrument cannot roll the counters back.
   */
  rollTo(tradingDay: string): boolean {
    if (this.day !== null && tradingDay <= this.day) return false;
    this.day = tradingDay;
    this.globalCount = 0;
    this.byProduct.clear();
    return true;
  }

  opensToday(product?: string): number {
    return product === undefined ? this.globalCount : (this.byProduct.get(product) ?? 0);
  }

  /** Whether one more open of `product` is within today's limits. */
  check(product: string): OpenPermission {
    const own = this.byProduct.get(product) ?? 0;
    if (own >= this.limits.perProduct) {
      return { allowed: false, reason: `daily open limit per product reached: ${own} of ${this.limits.perProduct} for ${product} on ${this.day ?? '?'}` };
    }
    if (this.globalCount >= this.limits.global) {
      return { allowed: false, reason: `daily open limit of the variant reached: ${this.globalCount} of ${this.limits.global} on ${this.day ?? '?'}` };
    }
    return { allowed: true };
  }

  record(product: string): void {
    this.byProduct.set(product, (this.byProduct.get(product) ?? 0) + 1);
    this.globalCount++;
  }

  toState(): DailyOpenCountersState {
    const byProduct: Record<string, number> = {};
    for (const product of [...this.byProduct.keys()].sort()) byProduct[product] = this.byProduct.get(product) ?? 0;
    return { version: 1, tradingDay: this.day, global: this.globalCount, byProduct };
  }

  static fromState(state: DailyOpenCountersState, limits: DailyOpenLimits): DailyOpenCounters {
    assertObject(state, 'daily open counters state');
    assertVersion(state, 1, 'daily open counters state');
    const counters = new DailyOpenCounters(limits);
    if (state.tradingDay !== null && (typeof state.tradingDay !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(state.tradingDay))) {
      throw new Error(`daily open counters state tradingDay: expected 'YYYY-MM-DD' or null, got ${String(state.tradingDay)}`);
    }
    counters.day = state.tradingDay;
    assertCount(state.global, 'daily open counters state global');
    counters.globalCount = state.global;
    assertObject(state.byProduct, 'daily open counters state byProduct');
    for (const [product, n] of Object.entries(state.byProduct)) {
      assertCount(n, `daily open counters state byProduct.${product}`);
      counters.byProduct.set(product, n);
    }
    return counters;
  }
}
