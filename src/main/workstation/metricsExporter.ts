import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { TradingJournal } from '../../io/tradingJournal.js';
import { alertLevelSchema, type Alert, type VariantSummary } from '../../shared/api.js';
import { ALERT_CHANNEL_NAMES, type DeliveryStats } from './alertChannels.js';
import { variantStatusSchema } from '../../shared/snapshot.js';

/** What the exporter reads from the workstation at each scrape. */
export interface MetricsSource {
  /** Every variant the workstation knows (supervised and external), as the API reports them. */
  variants(): VariantSummary[];
  alerts(): readonly Alert[];
  /** Present only when the demo market runs: simulated minutes written since it started. */
  demoMinutes?: () => number;
  /** Alerts sent, failed and dropped by each channel (webhook, e-mail, Telegram) since the start. */
  alertDeliveries?: () => DeliveryStats;
}

export interface MetricsExporterOptions {
  source: MetricsSource;
  /** `<data>/kestrel.db`, whose `trades` table the workers journal their fills into. */
  journalPath: string;
  now?: () => number;
}

export interface MetricsAddress {
  host: string;
  port: number;
  url: string;
}

/** Every status a summary can carry: each variant has one series per status, 1 for the current one. */
const STATUSES = [...variantStatusSchema.options, 'stale'] as const;

/**
 * Process metrics (CPU, memory, event loop, GC) describe the process, not a workstation, and
 * collectDefaultMetrics installs a GC observer and an event-loop monitor that are never
 * released: collected once per process, into a registry of their own that each exporter's
 * registry is merged with. The global default registry is never used.
 */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** What one scrape reads, once, so that every kestrel_* series of a scrape agrees. */
interface Reading {
  now: number;
  variants: VariantSummary[];
  alerts: readonly Alert[];
  /** null when the journal could not be read: the trade series are left out rather than zeroed. */
  trades: ReadonlyMap<string, number> | null;
}

function windowLabel(minutes: number | null): string {
  return minutes === null ? '' : `${minutes}m`;
}

/** `host:port` as a URL authority: an IPv6 address goes in brackets. */
function authority(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The workstation's Prometheus exposition: a registry of its own (several workstations, or
 * tests, in one process never collide), process metrics, and kestrel_* series computed from
 * the workstation at scrape time. `listen()` serves it as GET /metrics over plain HTTP,
 * without a token: bind it to loopback unless the network may read it.
 */
export class MetricsExporter {
  /** This workstation's kestrel_* series and the process metrics. */
  readonly registry: Registry;
  private journal: TradingJournal | null = null;
  private closed = false;
  private server: Server | null = null;
  private address: MetricsAddress | null = null;
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
      name: 'kestrel_variant_last_bar_age_seconds',
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
    new Gauge({
      name: 'kestrel_alerts',
      help: 'Alerts raised and not yet acknowledged, by level',
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
      new Gauge({
        name: 'kestrel_demo_simulated_minutes',
        help: 'Open-market minutes the demo market has simulated since the workstation started (its backfill not counted)',
        registers,
        collect() {
          this.set(demoMinutes());
        },
      });
    }
    this.registry = Registry.merge([own, processMetrics()]);
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
      return await this.registry.metrics();
    } finally {
      this.scrape = null;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Where GET /metrics is served; null before listen() and after close(). */
  served(): MetricsAddress | null {
    return this.address;
  }

  /** Binds host:port (0: any free port) and serves GET /metrics. Rejects when the port cannot be bound. */
  async listen(host: string, port: number): Promise<MetricsAddress> {
    if (this.address) return this.address;
    if (this.closed) throw new Error('the metrics exporter is closed');
    const server = createServer((req, res) => void this.answer(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        // Once listening, a failed accept must not take the workstation down with it.
        server.on('error', () => undefined);
        resolve();
      });
    });
    const actual = (server.address() as AddressInfo).port;
    this.server = server;
    this.address = { host, port: actual, url: `http://${authority(host, actual)}/metrics` };
    return this.address;
  }

  async close(): Promise<void> {
    this.closed = true;
    const server = this.server;
    this.server = null;
    this.address = null;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // A scraper keeps its connection alive between scrapes; it must not hold the stop up.
      server.closeAllConnections();
      await closed;
    }
    this.journal?.close();
    this.journal = null;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' }).end('GET /metrics only\n');
      return;
    }
    try {
      const body = await this.metrics();
      res.writeHead(200, { 'content-type': this.contentType, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }

  private read(): Reading {
    const { source } = this.opts;
    return { now: (this.opts.now ?? Date.now)(), variants: source.variants(), alerts: source.alerts(), trades: this.tradeCounts() };
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
