import { cpus, freemem, loadavg, totalmem, uptime } from 'node:os';
import { brokerParamsSchema } from '../../shared/strategyConfig.js';
import type { Alert, ApiHandlers, VariantSummary } from '../../shared/api.js';
import type { DashboardStatus, QuickStats, SymbolStatus } from '../../shared/contract/dashboard.js';
import type { VariantConfig } from '../../shared/config.js';
import type { Snapshot } from '../../shared/snapshot.js';
import type { TradeService } from './tradeService.js';

/** What the dashboard reads from the workstation. */
export interface DashboardSource {
  variants(): VariantSummary[];
  snapshot(variant: string): Snapshot | null;
  config(variant: string): VariantConfig | undefined;
  alerts(): readonly Alert[];
  trades: TradeService;
  metricsText(): Promise<string>;
}

/** Busy and total CPU time over every core since boot, in ms. */
function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
    total += t;
    busy += t - c.times.idle;
  }
  return { busy, total };
}

/** The contract multiplier of a position's product, as the variant's config gives it (1 for an external variant). */
function multiplierOf(config: VariantConfig | undefined, vtSymbol: string): number {
  if (!config) return 1;
  const product = /^[A-Za-z]+/.exec(vtSymbol)?.[0] ?? '';
  // Every strategy's parameters include the broker's (src/shared/strategyConfig.ts): read just those.
  const broker = brokerParamsSchema.safeParse(config.params);
  if (!broker.success) return 1;
  return broker.data.contracts[product]?.contractMultiplier ?? broker.data.contractMultiplier;
}

/**
 * The seed-002 dashboard routes: what a web client of a trading bot shows on its first screen.
 * Everything comes from the variants' last snapshots, the trades journal (through TradeService's
 * statistics, so no number is computed twice) and the machine.
 */
export class DashboardService {
  private lastCpu = cpuTimes();
  private readonly startedAt = Date.now();

  constructor(private readonly source: DashboardSource) {}

  handlers(): Pick<ApiHandlers, 'getDashboardStatus' | 'getQuickStats' | 'getMetrics'> {
    return {
      getDashboardStatus: () => Promise.resolve(this.status()),
      getQuickStats: () => Promise.resolve(this.quickStats()),
      getMetrics: () => this.source.metricsText(),
    };
  }

  status(): DashboardStatus {
    const symbols: SymbolStatus[] = [];
    let totalValue = 0;
    let totalPnl = 0;
    let activePositions = 0;
    for (const v of this.source.variants()) {
      const snap = this.source.snapshot(v.variant);
      const config = this.source.config(v.variant);
      const positions = snap?.positions ?? [];
      for (const p of positions) totalValue += p.volume * p.avgPrice * multiplierOf(config, p.vtSymbol);
      activePositions += positions.filter((p) => p.volume !== 0).length;
      const balance = snap ? snap.pnl.realized + snap.pnl.unrealized : 0;
      totalPnl += balance;
      const last = snap?.recentTrades.at(-1);
      symbols.push({
        variant: v.variant,
        vtSymbol: v.vtSymbol,
        status: v.status,
        balance,
        netPosition: positions.reduce((n, p) => n + (p.direction === 'long' ? p.volume : -p.volume), 0),
        lastTrade: last ? { time: last.time, side: last.side, offset: last.offset, price: last.price, volume: last.volume } : null,
      });
    }
    return {
      totalValue,
      totalPnl,
      activePositions,
      system: {
        cpuPercent: this.cpuPercent(),
        memory: { totalBytes: totalmem(), freeBytes: freemem(), processRssBytes: process.memoryUsage.rss() },
        uptimeSeconds: uptime(),
        processUptimeSeconds: (Date.now() - this.startedAt) / 1000,
        loadAverage: loadavg(),
      },
      symbols,
    };
  }

  quickStats(): QuickStats {
    const variants = this.source.variants();
    const snaps = variants.map((v) => this.source.snapshot(v.variant)).filter((s): s is Snapshot => s !== null);
    const { totals } = this.source.trades.statistics({}, 'day', undefined);
    return {
      variants: { total: variants.length, running: variants.filter((v) => v.status === 'running').length },
      totalPnl: snaps.reduce((sum, s) => sum + s.pnl.realized + s.pnl.unrealized, 0),
      todayPnl: snaps.reduce((sum, s) => sum + s.pnl.today, 0),
      fills: totals.fills,
      closedTrades: totals.trades,
      winRate: totals.winRate,
      openPositions: snaps.reduce((n, s) => n + s.positions.filter((p) => p.volume !== 0).length, 0),
      openAlerts: this.source.alerts().filter((a) => !a.acknowledged).length,
    };
  }

  /** CPU busy share since the previous call; null when no time has passed. */
  private cpuPercent(): number | null {
    const now = cpuTimes();
    const total = now.total - this.lastCpu.total;
    const busy = now.busy - this.lastCpu.busy;
    this.lastCpu = now;
    return total > 0 ? Math.min(100, Math.max(0, (100 * busy) / total)) : null;
  }
}
