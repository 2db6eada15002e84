import { z } from 'zod';

/**
 * The global fund allocator's records (DOMAIN.md "Grid trader and the global fund allocator"):
 * an allocation group's settings, and what its status and history look like on the wire.
 * Declared once here; the core allocator, the main-process authority, the contract and the
 * Allocation screen all derive from these.
 */

export const ALLOCATION_STRATEGIES = ['EQUAL', 'WEIGHTED', 'DYNAMIC'] as const;
export const allocationStrategySchema = z.enum(ALLOCATION_STRATEGIES, { error: 'the strategy is EQUAL, WEIGHTED or DYNAMIC' });
export type AllocationStrategy = z.infer<typeof allocationStrategySchema>;

const fraction = (what: string) =>
  z
    .number({ error: `${what} is a fraction from 0 to 1, e.g. 0.8` })
    .gt(0, `${what} is a fraction above 0 and at most 1, e.g. 0.8`)
    .max(1, `${what} is at most 1 (a fraction, not a percentage)`);

export const allocationSymbolSchema = z.object({
  /** The traded instrument as the grid names it, e.g. BTCUSDT.SIM. */
  symbol: z.string().trim().min(1, 'the symbol is a vtSymbol, e.g. BTCUSDT.BINANCE'),
  /** The most this symbol may use, as a fraction of the group's total funds (a cap on every strategy). */
  maxUsagePct: fraction('maxUsagePct').default(0.5),
  /** WEIGHTED only: this symbol's share relative to the others' weights. */
  weight: z.number({ error: 'the weight is a positive number' }).positive('the weight is a positive number').default(1),
});
export type AllocationSymbolConfig = z.infer<typeof allocationSymbolSchema>;

export const allocationGroupSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'the group name is 1–64 letters, digits, _ or -'),
    totalFunds: z.number({ error: 'total funds is a positive amount of quote currency' }).positive('total funds is a positive amount of quote currency'),
    globalMaxUsage: fraction('globalMaxUsage').default(0.8),
    strategy: allocationStrategySchema.default('EQUAL'),
    /** DYNAMIC: how many window-close returns the volatility is measured over. */
    lookback: z.number().int('the look-back is a whole number of window bars').min(2, 'the look-back is at least 2 returns').max(10_000).default(96),
    symbols: z.array(allocationSymbolSchema).min(1, 'a group allocates to at least one symbol'),
    /** The variants (workers) trading in this group; each reports its use after a restart before any buy is granted. */
    members: z.array(z.string().min(1)).default([]),
    /** How long a worker waits for a grant before treating the request as denied. */
    requestTimeoutMs: z.number().int().min(50).max(60_000).default(2_000),
  })
  .superRefine((group, ctx) => {
    const seen = new Set<string>();
    group.symbols.forEach((s, i) => {
      if (seen.has(s.symbol)) ctx.addIssue({ code: 'custom', path: ['symbols', i, 'symbol'], message: `${s.symbol} is listed twice` });
      seen.add(s.symbol);
    });
  });
export type AllocationGroupConfig = z.infer<typeof allocationGroupSchema>;
export type AllocationGroupInput = z.input<typeof allocationGroupSchema>;

export const allocationSettingsSchema = z
  .object({
    groups: z.array(allocationGroupSchema).default([]),
    /** A global status line (use per symbol) goes to main.log this often. */
    statusLogMinutes: z.number().positive().max(1440).default(5),
  })
  .superRefine((a, ctx) => {
    const seen = new Set<string>();
    a.groups.forEach((g, i) => {
      if (seen.has(g.name)) ctx.addIssue({ code: 'custom', path: ['groups', i, 'name'], message: `a group named ${g.name} exists already` });
      seen.add(g.name);
    });
  });

export const symbolAllocationSchema = z.object({
  symbol: z.string(),
  allocatedAmount: z.number(),
  usedAmount: z.number(),
  maxUsagePct: z.number(),
  weight: z.number(),
  blockedTrades: z.number().int().nonnegative(),
});
export type SymbolAllocation = z.infer<typeof symbolAllocationSchema>;

export const allocationStatusSchema = z.object({
  group: z.string(),
  totalFunds: z.number(),
  globalMaxUsage: z.number(),
  strategy: allocationStrategySchema,
  globalUsed: z.number(),
  blockedTrades: z.number().int().nonnegative(),
  rebalances: z.number().int().nonnegative(),
  /** False until every member has reported its use after a start (no buy is granted before). */
  ready: z.boolean(),
  /** Members still to report. */
  awaiting: z.array(z.string()),
  symbols: z.array(symbolAllocationSchema),
});
export type AllocationStatus = z.infer<typeof allocationStatusSchema>;

export const rebalanceRecordSchema = z.object({
  /** Epoch ms (the allocator's clock). */
  at: z.number(),
  reason: z.string(),
  before: z.record(z.string(), z.number()),
  after: z.record(z.string(), z.number()),
  weights: z.record(z.string(), z.number()),
});
export type RebalanceRecord = z.infer<typeof rebalanceRecordSchema>;

export const usageSampleSchema = z.object({
  /** Epoch seconds. */
  time: z.number(),
  globalUsed: z.number(),
  used: z.record(z.string(), z.number()),
});
export type UsageSample = z.infer<typeof usageSampleSchema>;

export const allocationHistorySchema = z.object({
  group: z.string(),
  rebalances: z.array(rebalanceRecordSchema),
  usage: z.array(usageSampleSchema),
});
export type AllocationHistory = z.infer<typeof allocationHistorySchema>;

export const allocationUpdateSchema = allocationStatusSchema.extend({ sample: usageSampleSchema });
