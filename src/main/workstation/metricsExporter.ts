import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { TradingJournal } from '../../io/tradingJournal.js';
import { alertLevelSchema, type Alert, type AlertLevel, type VariantSummary } from '../../shared/api.js';
import { ALERT_CHANNEL_NAMES, type DeliveryStats } from './alertChannels.js';
import { variantStatusSchema, type Snapshot } from '../../shared/snapshot.js';
import type { MetricFamily } from '../../shared/workerProtocol.js';
import { FleetMetrics, type FleetSources } from './fleetMetrics.js';
import { MetricsEndpoint, type MetricsAddress } from './metricsEndpoint.js';

export type { MetricsAddress };

/** One supervised worker as the exporter sees it. */
export interface WorkerReading {
  variant: string;
  /** A worker process is alive (started, not exited). */
  up: boolean;
  /** Its own series as it last sent them (null before the first heartbeat or once it exited). */
  families: readonly MetricFamily[] | null;
}

/** What the exporter reads from the workstation at each scrape. */
export interface MetricsSource {
  /** Every variant the workstation knows (supervised and external), as the API reports them. */
  variants(): VariantSummary[];
  alerts(): readonly Alert[];
  /** The variant's last good snapshot (positions, pnl), null before its first. */
  snapshot(variant: string): Snapshot | null;
  /** The supervised variants' workers. */
  workers(): WorkerReading[];
  /** Present only when the demo market runs: simulated minutes written since it started. */
  demoMinutes?: () => number;
  /** Alerts sent, failed and dropped by each channel (webhook, e-mail, Telegram) since the start. */
  alertDeliveries?: () => DeliveryStats;
  /** The allocator's groups and the backtest jobs, read at scrape time (FleetMetrics). */
  fleet?: FleetSources;
}

export interface MetricsExporterOptions {
  source: MetricsSource;
  /** `<data>/kestrel.db`, whose `trades` table the workers journal their fills into. */
  journalPath: string;
  /** The money each variant's drawdown ratio is measured against (settings: metrics.capital). */
  capital: number;
  now?: () => number;
}

/** Every status a summary can carry: each variant has one series per status, 1 for the current one. */
const STATUSES = [...variantStatusSchema.options, 'stale'] as const;

/**
 * Process metrics (CPU, memory, event loop, GC) describe the process, not a workstation, and
 * collectDefaultMetrics installs a GC observer and an event-loop monitor that are never
 * released: collected once per process, at the first scrape (an exporter nobody reads costs
 * nothing), into a registry of their own that each exporter's exposition joins with the
 * workers'. The global default registry is never used.
 */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * This process's own metrics (CPU, memory, event loop, GC) with `labels` on every series, for a
 * process that serves a registry without a workstation (the backtest commands).
 */
export async function processMetricsText(labels: Record<string, string>): Promise<string> {
  const own = await processMetrics().getMetricsAsJSON();
  return AggregatorRegistry.aggregate([own.filter(wellNamed).map((m) => relabel(m, labels))]).metrics();
}

/** What one scrape reads, once, so that every kestrel_* series of a scrape agrees. */
interface Reading {
  now: number;
  variants: VariantSummary[];
  alerts: readonly Alert[];
  /** null when the journal could not be read: the trade series are left out rather than zeroed. */
  trades: ReadonlyMap<string, number> | null;
  /** The last good snapshot of each variant that has one. */
  snapshots: ReadonlyMap<string, Snapshot>;
  workers: WorkerReading[];
}

/** A family as getMetricsAsJSON() gives it and AggregatorRegistry.aggregate() takes it. */
interface FamilyJson {
  name: string;
  help: string;
  type: unknown;
  aggregator?: string;
  values: { value: number; labels: Partial<Record<string, string | number>>; metricName?: string }[];
}

/**
 * prom-client's nodejs_active_{handles,requests,resources}_total are gauges with a counter's
 * suffix, which `promtool check metrics` refuses; the same counts are served by type in
 * nodejs_active_{handles,requests,resources}, so these sums are left out.
 */
function wellNamed(m: FamilyJson): boolean {
  return !(m.name.endsWith('_total') && String(m.type) !== 'counter');
}

/** The family with `labels` added to every value; 'first', since no two processes share a label set. */
function relabel(m: FamilyJson, labels: Record<string, string>): FamilyJson {
  return { name: m.name, help: m.help, type: m.type, aggregator: 'first', values: m.values.map((v) => ({ ...v, labels: { ...v.labels, ...labels } })) };
}

function windowLabel(minutes: number | null): string {
  return minutes === null ? '' : `${minutes}m`;
}

/**
 * The workstation's Prometheus exposition: a registry of its own (several workstations, or
 * tests, in one process never collide), process metrics, and kestrel_* series computed from
 * the workstation at scrape time. `listen()` serves it as GET /metrics (MetricsEndpoint).
 */
export class MetricsExporter {
  /** This workstation's kestrel_* series (the process metrics of main and the workers are joined at each scrape). */
  readonly registry: Registry;
  /** The pushed series (risk gate, allocator, backtests): their owners call these. */
  readonly fleet: FleetMetrics;
  private readonly alertsRaised: Counter<'level'>;
  /** Highest equity seen per variant since the start: where its current drawdown is measured from. */
  private readonly peakEquity = new Map<string, number>();
  private journal: TradingJournal | null = null;
  private closed = false;
  private readonly endpoint: MetricsEndpoint;
  /** Set for the duration of one render of the registry. */
  private scrape: Reading | null = null;
  /** The render under way: scrapes that arrive meanwhile share it (and its reading). */
  private rendering: Promise<string> | null = null;

  constructor(private readonly opts: MetricsExporterOptions) {
    const read = (): Reading => this.scrape ?? this.read();
    const own = new Registry();
    const registers = [own];
    new Gauge({
      name: 'kestrel_variant_up',
      help: "1 while the variant's status is running, 0 otherwise (halted, degraded, restoring, crashed, stopped, stale)",
      labelNames: ['variant', 'vt_symbol', 'window'] as const,
      registers,
      collect() {
        this.reset();
        for (const v of read().variants) {
          this.set({ variant: v.variant, vt_symbol: v.vtSymbol ?? '', window: windowLabel(v.windowMinutes) }, v.status === 'running' ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'kestrel_variant_status',
      help: 'The variant status as the API reports it: 1 for the current status, 0 for the others',
      labelNames: ['variant', 'status'] as const,
      registers,
      collect() {
        this.reset();
        for (const v of read().variants) for (const status of STATUSES) this.set({ variant: v.variant, status }, v.status === status ? 1 : 0);
      },
    });
    new Counter({
      name: 'kestrel_variant_restarts_total',
      help: "Restarts of the variant's worker by the supervisor after a crash, since the workstation started",
      labelNames: ['variant'] as const,
      registers,
      collect() {
        this.reset();
        for (const v of read().variants) this.inc({ variant: v.variant }, v.restarts);
      },
    });
    new Gauge({
      name: 'kestrel_variant_halted',
      help: 'Kill switch: 1 when the variant computes signals but sends no order',
      labelNames: ['variant'] as const,
      registers,
      collect() {
        this.reset();
        for (const v of read().variants) this.set({ variant: v.variant }, v.halted ? 1 : 0);
      },
    });
    new Gauge({
      name: 'kestrel_worker_up',
      help: "1 while the supervised variant's worker process is alive, 0 when it is not (stopped, crashed, waiting to restart)",
      labelNames: ['variant'] as const,
      registers,
      collect() {
        this.reset();
        for (const w of read().workers) this.set({ variant: w.variant }, w.up ? 1 : 0);
      },
    });
    const capital = opts.capital;
    const peaks = this.peakEquity;
    /** Realised plus unrealised pnl of each variant with a snapshot. */
    const equities = (): [string, number][] => {
      const { snapshots } = read();
      return [...snapshots].map(([variant, snap]) => [variant, snap.pnl.realized + snap.pnl.unrealized]);
    };
    new Gauge({
      name: 'kestrel_variant_equity',
      help: "The variant's realised plus unrealised pnl (account currency) from its last snapshot",
      labelNames: ['variant'] as const,
      registers,
      collect() {
        this.reset();
        for (const [variant, equity] of equities()) this.set({ variant }, equity);
      },
    });
    new Gauge({
      name: 'kestrel_variant_pnl_today',
      help: "The variant's pnl of the current trading day (account currency)",
      labelNames: ['variant'] as const,
      registers,
      collect() {
        this.reset();
        for (const [variant, snap] of read().snapshots) this.set({ variant }, snap.pnl.today);
      },
    });
    new Gauge({
      name: 'kestrel_variant_drawdown_ratio',
      help: 'Current drawdown: (peak equity − equity) / (capital + peak equity), the peak taken over the scrapes since the workstation started',
      labelNames: ['variant'] as const,
      registers,
      collect() {
        this.reset();
        for (const [variant, equity] of equities()) {
          const peak = Math.max(peaks.get(variant) ?? equity, equity);
          peaks.set(variant, peak);
          this.set({ variant }, Math.max(0, (peak - equity) / (capital + peak)));
        }
      },
    });
    new Gauge({
      name: 'kestrel_position_volume',
      help: 'Open position in lots, by variant, symbol (vtSymbol) and side (long, short); 0 for a side of a traded instrument that is flat',
      labelNames: ['variant', 'symbol', 'side'] as const,
      registers,
      collect() {
        this.reset();
        for (const [variant, snap] of read().snapshots) {
          // Flat is a value, not an absence: a panel or a rule sees the 0.
          for (const i of snap.instruments) for (const side of ['long', 'short']) this.set({ variant, symbol: i.vtSymbol, side }, 0);
          for (const p of snap.positions) this.inc({ variant, symbol: p.vtSymbol, side: p.direction }, p.volume);
        }
      },
    });
    new Gauge({
      name: 'kestrel_variant_snapshot_age_seconds',
      help: "Wall-clock seconds since the variant's snapshot was last written (every new bar, and every 5 s heartbeat of a live worker); absent before its first snapshot",
      labelNames: ['variant'] as const,
      registers,
      collect() {
        this.reset();
        const { now, variants } = read();
        for (const v of variants) {
          const updated = v.updatedAt === null ? Number.NaN : Date.parse(v.updatedAt);
          if (Number.isFinite(updated)) this.set({ variant: v.variant }, Math.max(0, (now - updated) / 1000));
        }
      },
    });
    this.alertsRaised = new Counter({
      name: 'kestrel_alerts_raised_total',
      help: 'Alerts raised since the workstation started (after the quiet period), by level',
      labelNames: ['level'] as const,
      registers,
    });
    for (const level of alertLevelSchema.options) this.alertsRaised.inc({ level }, 0);
    new Gauge({
      name: 'kestrel_alerts_open',
      help: 'Alerts raised and not yet acknowledged, by level (of the last 500 the workstation keeps)',
      labelNames: ['level'] as const,
      registers,
      collect() {
        this.reset();
        const alerts = read().alerts;
        for (const level of alertLevelSchema.options) this.set({ level }, alerts.filter((a) => a.level === level && !a.acknowledged).length);
      },
    });
    new Counter({
      name: 'kestrel_trades_total',
      help: 'Fills journalled in kestrel.db by the variant (all runs, not only this one)',
      labelNames: ['variant'] as const,
      registers,
      collect() {
        this.reset();
        const { trades, variants } = read();
        if (!trades) return;
        const names = new Set([...variants.map((v) => v.variant), ...trades.keys()]);
        for (const variant of names) this.inc({ variant }, trades.get(variant) ?? 0);
      },
    });
    const deliveries = opts.source.alertDeliveries;
    if (deliveries) {
      new Counter({
        name: 'kestrel_alert_deliveries_total',
        help: 'Alerts handed to each channel since the workstation started, by outcome: sent, failed (after its retry) or dropped (too many under way)',
        labelNames: ['channel', 'outcome'] as const,
        registers,
        collect() {
          this.reset();
          const stats = deliveries();
          for (const channel of ALERT_CHANNEL_NAMES) {
            for (const outcome of ['sent', 'failed', 'dropped'] as const) this.inc({ channel, outcome }, stats[channel][outcome]);
          }
        },
      });
    }
    const demoMinutes = opts.source.demoMinutes;
    if (demoMinutes) {
      new Counter({
        name: 'kestrel_demo_simulated_seconds_total',
        help: 'Open-market time the demo market has simulated since the workstation started (its backfill not counted), in simulated seconds',
        registers,
        collect() {
          this.reset();
          this.inc(demoMinutes() * 60);
        },
      });
    }
    this.fleet = new FleetMetrics(own, opts.source.fleet);
    this.registry = own;
    this.endpoint = new MetricsEndpoint(() => this.metrics(), own.contentType);
  }

  /** Counts an alert the workstation raised. */
  alertRaised(level: AlertLevel): void {
    this.alertsRaised.inc({ level });
  }

  /** The exposition text (Prometheus text format 0.0.4), every kestrel_* series from one reading. */
  metrics(): Promise<string> {
    this.rendering ??= this.render().finally(() => {
      this.rendering = null;
    });
    return this.rendering;
  }

  private async render(): Promise<string> {
    this.scrape = this.read();
    try {
      const [own, processes] = await Promise.all([this.registry.metrics(), this.processExposition(this.scrape.workers)]);
      return own + processes;
    } finally {
      this.scrape = null;
    }
  }

  /**
   * Main's process metrics (process="main") and each live worker's series, labelled with its
   * variant (its process metrics also process="worker"), joined into one family per name by
   * prom-client's AggregatorRegistry: the labels keep every process apart, so nothing is summed.
   */
  private async processExposition(workers: readonly WorkerReading[]): Promise<string> {
    const main = await processMetrics().getMetricsAsJSON();
    const sets: FamilyJson[][] = [main.filter(wellNamed).map((m) => relabel(m, { process: 'main' }))];
    for (const w of workers) {
      if (!w.families) continue;
      sets.push(w.families.filter(wellNamed).map((f) => relabel(f, f.name.startsWith('kestrel_') ? { variant: w.variant } : { process: 'worker', variant: w.variant })));
    }
    return AggregatorRegistry.aggregate(sets).metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Where GET /metrics is served; null before listen() and after close(). */
  served(): MetricsAddress | null {
    return this.endpoint.served();
  }

  /** Binds host:port (0: any free port) and serves GET /metrics. Rejects when the port cannot be bound. */
  listen(host: string, port: number): Promise<MetricsAddress> {
    if (this.closed) return Promise.reject(new Error('the metrics exporter is closed'));
    return this.endpoint.listen(host, port);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.endpoint.close();
    this.journal?.close();
    this.journal = null;
  }

  private read(): Reading {
    const { source } = this.opts;
    const variants = source.variants();
    const snapshots = new Map<string, Snapshot>();
    for (const v of variants) {
      const snap = source.snapshot(v.variant);
      if (snap) snapshots.set(v.variant, snap);
    }
    return { now: (this.opts.now ?? Date.now)(), variants, alerts: source.alerts(), trades: this.tradeCounts(), snapshots, workers: source.workers() };
  }

  private tradeCounts(): ReadonlyMap<string, number> | null {
    if (this.closed) return null;
    try {
      this.journal ??= TradingJournal.open(this.opts.journalPath);
      return this.journal.tradeCountsByVariant();
    } catch {
      // A locked or unreadable journal must not take the whole scrape down (Prometheus would read "workstation down").
      this.journal?.close();
      this.journal = null;
      return null;
    }
  }
}
