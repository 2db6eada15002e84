import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SignalParams } from '../../shared/signalParams.js';
import { isRegisteredStrategy, strategyFor } from '../../core/strategy/registry.js';
import { isOwnBarDatabase, openBarStore } from '../../io/openBarStore.js';
import type { BarStore } from '../../io/barStore.js';
import { AuditJournal } from '../../io/auditJournal.js';
import { checkDatabase, type DatabaseCheck } from '../../io/databaseHealth.js';
import { DiskGuard, formatBytes, installDiskGuard, type DiskFull } from '../../io/diskGuard.js';
import { JsonLinesLog } from '../../io/jsonLinesLog.js';
import {
  ApiError,
  type ApiHandlers,
  type CallContext,
  type CommandResult,
  type EntryName,
  type Status,
  type StreamHandlers,
  type VariantSummary,
} from '../../shared/api.js';
import { metricsNotConfirmed, variantConfigSchema, type Settings, type VariantConfig } from '../../shared/config.js';
import { isLoopbackHost } from '../../shared/loopback.js';
import type { Snapshot } from '../../shared/snapshot.js';
import { MAIN_LOG_FILE } from '../../shared/contract/logs.js';
import type { WorkerLaunch } from '../../shared/workerProtocol.js';
import { AlertCenter } from './alertCenter.js';
import { AlertRouter } from './alertChannels.js';
import { CRYPTO_DEMO_GROUP, CRYPTO_DEMO_VARIANTS, DEMO_VARIANTS } from './defaultVariants.js';
import { CRYPTO_DEMO_INSTRUMENTS } from '../../core/market/simulatedMarket.js';
import { ContinuousCalendar } from '../../core/market/continuousCalendar.js';
import { allocationGroupSchema } from '../../shared/allocation.js';
import { DemoMarket } from './demoMarket.js';
import { EventBus } from './eventBus.js';
import { HistoryService } from './historyService.js';
import { LogService } from './logService.js';
import { TradeService } from './tradeService.js';
import { DataService } from './dataService.js';
import { DashboardService } from './dashboardService.js';
import { SettingsService } from './settingsService.js';
import { BacktestService } from './backtestService.js';
import type { CommandRunner, SettingsStore } from './settingsStore.js';
import type { Host } from './host.js';
import { SnapshotMonitor, type MonitoredSnapshot } from './snapshotMonitor.js';
import { instrumentTailOf, lastBarAtOf, tradingTailOf } from '../../shared/liveUpdate.js';
import { VariantSupervisor, type LiveTail, type SupervisedInfo } from './variantSupervisor.js';
import { MetricsExporter, type MetricsAddress } from './metricsExporter.js';
import type { FleetMetrics } from './fleetMetrics.js';
import { metricsListenFailure } from './metricsEndpoint.js';
import { AllocationService } from './allocation/allocationService.js';

export interface WorkstationOptions {
  host: Host;
  dataDir: string;
  settings: Settings;
  /** Whether commands (start/stop/…) are served to API clients at all. */
  controlEnabled: boolean;
  version: string;
  log?: (line: string) => void;
  /** Where the host keeps the settings (settings.json in the data directory headless, in the user-data folder on desktop); absent: nothing can be saved. */
  settingsStore?: SettingsStore;
}

/** A snapshot not rewritten for this long (wall clock) is stale; workers heartbeat every 5 s. */
const MIN_STALE_MS = 60_000;

/**
 * Everything the main process does that is not Electron: supervisor, snapshot monitor,
 * demo market, alerts, audit and the API handlers. Both hosts run exactly this.
 */
export class Workstation {
  readonly bus = new EventBus();
  readonly alerts: AlertCenter;
  private readonly alertRouter: AlertRouter;
  readonly handlers: ApiHandlers;
  readonly streams: StreamHandlers;
  private readonly logs: LogService;
  private readonly history: HistoryService;
  private readonly trades: TradeService;
  private readonly data: DataService;
  private readonly settingsService: SettingsService;
  readonly backtests: BacktestService;
  private readonly dashboard: DashboardService;
  readonly allocation: AllocationService;
  private readonly supervisors = new Map<string, VariantSupervisor>();
  /** Each supervised worker's last live tail (over IPC), ahead of its snapshot file. */
  private readonly live = new Map<string, LiveTail>();
  private readonly monitor: SnapshotMonitor;
  private readonly startedAt = new Date().toISOString();
  private demo: DemoMarket | null = null;
  /** The simulated 24/7 crypto market (settings `demo.crypto`). */
  private cryptoDemo: DemoMarket | null = null;
  private demoStore: BarStore | null = null;
  private audit: AuditJournal | null = null;
  private damaged: DatabaseCheck | null = null;
  private readonly diskGuard: DiskGuard;
  /** Variants the full disk halted (not those the trader halted): resumed when space returns. */
  private haltedForDisk: string[] = [];
  private metrics: MetricsExporter | null = null;
  private readonly variants: VariantConfig[];
  private readonly mainLog: JsonLinesLog;

  constructor(private readonly opts: WorkstationOptions) {
    this.diskGuard = new DiskGuard({ probeDir: opts.dataDir, onFull: (e) => this.diskFull(e), onRecovered: (e, free) => this.diskBack(e, free) });
    // The main process's own log, beside the workers' (the Logs screen shows it too).
    this.mainLog = new JsonLinesLog(join(opts.dataDir, 'logs', ...MAIN_LOG_FILE.split('/')), 'kestrel');
    this.alertRouter = new AlertRouter({ channels: opts.settings.alerts, log: (line) => this.log('WARNING', line) });
    this.alerts = new AlertCenter(
      this.bus,
      (a) => {
        // The desktop first: a failing notification must not cost the other channels, nor they it.
        this.mainLog.write(a.level, `alert: ${a.title}: ${a.message}`, { ...(a.variant ? { variant: a.variant } : {}), alertId: a.id });
        try {
          opts.host.notify(a);
        } catch (err) {
          this.log('WARNING', `alert channel desktop: "${a.title}" not shown: ${err instanceof Error ? err.message : String(err)}`);
        }
        this.alertRouter.deliver(a);
        this.metrics?.alertRaised(a.level);
      },
      opts.settings.alerts.quietSeconds * 1000,
    );
    this.monitor = new SnapshotMonitor(join(opts.dataDir, 'monitor'), {
      updated: (variant, entry) => this.publish(variant, entry),
      // A supervised variant stays listed without its snapshot; an external one is gone with it.
      removed: (variant) => (this.supervisors.has(variant) ? this.emitUpdate(variant, null) : this.bus.emit('variantRemoved', { variant })),
      invalid: (variant, file, error) =>
        this.alerts.raise({
          level: 'WARNING',
          variant,
          title: 'Invalid snapshot ignored',
          message: `${error}; the last good snapshot is kept`,
          context: { file },
          key: `${variant}:invalid-snapshot`,
        }),
    });
    const demoDefaults = opts.settings.demo.enabled ? [...DEMO_VARIANTS, ...(opts.settings.demo.crypto ? CRYPTO_DEMO_VARIANTS : [])] : [];
    const configured = opts.settings.variants.length > 0 ? opts.settings.variants : demoDefaults.map((v) => variantConfigSchema.parse(v));
    this.variants = configured;
    this.logs = new LogService({ logsDir: join(opts.dataDir, 'logs') });
    this.history = new HistoryService({ dataDir: opts.dataDir, barSource: opts.settings.barSource, signalParamsOf: (v) => this.signalParamsOf(v) });
    this.trades = new TradeService({ dbPath: join(opts.dataDir, 'kestrel.db') });
    const command: CommandRunner = (ctx, action, target, params, run) => this.command(ctx, action, target, params, run);
    this.data = new DataService({ dataDir: opts.dataDir, barSource: opts.settings.barSource, command });
    this.settingsService = new SettingsService({ store: opts.settingsStore ?? null, running: opts.settings, dataDir: opts.dataDir, command });
    this.backtests = new BacktestService({
      dataDir: opts.dataDir,
      barSource: opts.settings.barSource,
      host: opts.host,
      bus: this.bus,
      command,
      version: opts.version,
      onCompleted: (s) => this.metrics?.fleet.backtestFinished(s.sweepId === null ? 'backtest' : 'sweep', (s.durationMs ?? 0) / 1000, s.barsDone),
      windowBars: (params, signal) => this.history.barHistoryWith(params, signal),
      queue: opts.settings.backtest.queue === 'local' ? null : { url: opts.settings.backtest.queue, name: opts.settings.backtest.queueName },
    });
    this.dashboard = new DashboardService({
      variants: () => this.allVariantNames().map((v) => this.summaryOf(v)),
      snapshot: (variant) => this.monitor.get(variant)?.snapshot ?? null,
      config: (variant) => this.variants.find((c) => c.name === variant),
      alerts: () => this.alerts.list(),
      trades: this.trades,
      metricsText: () => this.metricsText(),
    });
    // The crypto demo's grids share one pot, unless groups are configured.
    const cryptoDemoGroup = opts.settings.demo.enabled && opts.settings.demo.crypto && opts.settings.variants.length === 0 && opts.settings.allocation.groups.length === 0;
    this.allocation = new AllocationService({
      groups: cryptoDemoGroup ? [allocationGroupSchema.parse(CRYPTO_DEMO_GROUP)] : opts.settings.allocation.groups,
      bus: this.bus,
      alert: (a) => this.alerts.raise(a),
      log: (line, context) => this.mainLog.write('INFO', line, context),
      statusLogMinutes: opts.settings.allocation.statusLogMinutes,
    });
    this.handlers = {
      ...this.buildHandlers(),
      ...this.backtests.handlers(),
      ...this.dashboard.handlers(),
      ...this.allocation.handlers(),
      ...this.logs.handlers(),
      ...this.history.handlers(),
      ...this.trades.handlers(),
      ...this.data.handlers(),
      ...this.settingsService.handlers(),
    };
    this.streams = { ...this.logs.streams() };
  }

  get dataDir(): string {
    return this.opts.dataDir;
  }

  async start(): Promise<void> {
    const { dataDir, settings } = this.opts;
    mkdirSync(join(dataDir, 'logs'), { recursive: true });
    installDiskGuard(this.diskGuard);
    const journal = join(dataDir, 'kestrel.db');
    const check = existsSync(journal) ? checkDatabase(journal) : null;
    if (check && !check.ok) {
      this.refuseToTrade(check);
      return;
    }
    this.audit = new AuditJournal(journal);
    this.backtests.start();
    const ownStore = settings.barSource.kind === 'sqlite' && isOwnBarDatabase(dataDir, settings.barSource.path);
    if (settings.demo.enabled && settings.barSource.kind === 'sqlite' && !ownStore) {
      this.log('WARNING', `demo market not started: it writes only into ${journal}, and the bar source is ${settings.barSource.path ?? ''} (opened read-only)`);
    }
    if (settings.demo.enabled && ownStore) {
      this.demoStore = await openBarStore({ sqlitePath: journal });
      this.demo = new DemoMarket({
        store: this.demoStore,
        stateFile: join(dataDir, 'demo-market.json'),
        seed: settings.demo.seed,
        speed: settings.demo.speed,
        onProgress: (m) => this.log('INFO', m),
        onWriteFailure: (path, err) => this.diskGuard.report(path, err),
        storePath: journal,
      });
      await this.demo.prepare();
      if (settings.demo.crypto) {
        this.cryptoDemo = new DemoMarket({
          store: this.demoStore,
          stateFile: join(dataDir, 'demo-crypto-market.json'),
          seed: settings.demo.seed + 1,
          speed: settings.demo.speed,
          instruments: CRYPTO_DEMO_INSTRUMENTS,
          calendar: new ContinuousCalendar(),
          utcOffsetHours: 0,
          // Grids need no long indicator history: three days of minutes are plenty to restore.
          backfillDays: 3,
          label: 'crypto demo market (simulated)',
          onProgress: (m) => this.log('INFO', m),
          onWriteFailure: (path, err) => this.diskGuard.report(path, err),
          storePath: journal,
        });
        await this.cryptoDemo.prepare();
      }
    }
    this.monitor.start();
    this.allocation.start();
    // Before the workers: their first reports (refusal counts) land in it.
    this.metrics = this.buildExporter();
    for (const config of this.variants) {
      const supervisor = new VariantSupervisor(
        config,
        this.launchOf(config),
        this.opts.host,
        settings.supervisor,
        this.alerts,
        (info) => this.supervisorChanged(info),
        Date.now,
        {
          message: (m, reply) => {
            if (m.type === 'metrics' && m.refusals) this.metrics?.fleet.riskRefused(config.name, m.refusals);
            return this.allocation.handleWorkerMessage(config.name, m, reply);
          },
          exited: () => this.allocation.workerExited(config.name),
          live: (tail) => this.liveTail(config.name, tail),
        },
      );
      this.supervisors.set(config.name, supervisor);
      if (this.diskGuard.full && config.enabled) {
        // The disk filled before this variant existed (during the backfill): it starts halted too.
        supervisor.setHalted(true);
        this.haltedForDisk.push(config.name);
      }
      if (config.enabled) supervisor.start();
    }
    this.demo?.start();
    this.cryptoDemo?.start();
    if (settings.metrics.port !== null) await this.serveMetrics(this.metrics, settings.metrics.host, settings.metrics.port, settings.metrics.allowNonLoopback);
  }

  /**
   * A kestrel.db that fails quick_check holds the positions and trades: trading on it could lose
   * or double them, and every write could spread the damage. Nothing is started and nothing is
   * written to it; the UI and API still serve what can be read, and the alert says what to do.
   */
  private refuseToTrade(check: DatabaseCheck): void {
    this.damaged = check;
    this.monitor.start();
    this.alerts.raise({
      level: 'CRITICAL',
      variant: null,
      title: 'Database damaged: trading refused',
      message: `${check.path} fails PRAGMA quick_check (${check.problems.slice(0, 3).join('; ')}). No variant and no demo were started and the file is left untouched. Stop Kestrel, run \`npx kestrel repair --data-dir ${this.opts.dataDir}\`, and follow what it prints.`,
      context: { file: check.path },
      key: 'database:damaged',
    });
  }

  /** A write path met a full disk: no new order until writes work again; the trader is told where and how much room is left. */
  private diskFull(e: DiskFull): void {
    this.haltedForDisk = [...this.supervisors.values()].filter((s) => !s.info().halted).map((s) => s.config.name);
    for (const name of this.haltedForDisk) this.supervisors.get(name)?.setHalted(true);
    this.alerts.raise({
      level: 'CRITICAL',
      variant: null,
      title: 'Disk full: trading halted',
      message: `${e.message}. ${this.demo ? 'The demo market is paused; ' : ''}${this.haltedForDisk.length} variant${this.haltedForDisk.length === 1 ? '' : 's'} halted. Nothing stored is lost; trading resumes by itself when space is freed.`,
      context: { path: e.path, code: e.code, freeBytes: e.freeBytes },
      key: 'disk:full',
    });
  }

  private diskBack(e: DiskFull, free: number | null): void {
    const resumed = this.haltedForDisk;
    this.haltedForDisk = [];
    for (const name of resumed) this.supervisors.get(name)?.setHalted(false);
    this.alerts.raise({
      level: 'INFO',
      variant: null,
      title: 'Disk space back: trading resumed',
      message: `writes work again (${formatBytes(free)} free; full since ${e.since.toISOString()}); ${resumed.length} variant${resumed.length === 1 ? '' : 's'} resumed${this.demo ? ', the demo market catches up' : ''}`,
      context: { path: e.path },
      key: 'disk:back',
    });
  }

  /** The disk-full episode under way, or null. */
  diskFullNow(): DiskFull | null {
    return this.diskGuard.full;
  }

  /** The failed start-up check of kestrel.db, when trading was refused for it. */
  databaseDamage(): DatabaseCheck | null {
    return this.damaged;
  }

  /**
   * The exporter exists whatever the settings (GET /api/metrics reads it behind the token, and
   * the pushed series are counted); it reads nothing until scraped and opens a port only when
   * the settings, a flag or the environment give one.
   */
  private buildExporter(): MetricsExporter {
    const demo = this.demo;
    return new MetricsExporter({
      journalPath: join(this.opts.dataDir, 'kestrel.db'),
      capital: this.opts.settings.metrics.capital,
      source: {
        variants: () => this.allVariantNames().map((v) => this.summaryOf(v)),
        alerts: () => this.alerts.list(),
        alertDeliveries: () => this.alertRouter.deliveryStats(),
        snapshot: (variant) => this.monitor.get(variant)?.snapshot ?? null,
        workers: () =>
          [...this.supervisors.values()].map((s) => {
            const info = s.info();
            return { variant: info.variant, up: info.pid !== null, families: s.workerMetrics() };
          }),
        ...(demo ? { demoMinutes: () => demo.simulatedMinutes() } : {}),
        fleet: {
          allocations: () => this.opts.settings.allocation.groups.map((g) => this.allocation.status(g.name)),
          backtestJobs: () => this.backtests.jobCounts(),
        },
      },
    });
  }

  /** A port that cannot be bound costs the metrics, never the trading: an alert (one stderr line headless, main.log), and the start goes on. */
  private async serveMetrics(exporter: MetricsExporter, host: string, port: number, allowNonLoopback: boolean): Promise<void> {
    // The schema refuses this already; settings built in code or edited by hand past it are held here too.
    if (!allowNonLoopback && !isLoopbackHost(host)) {
      const message = `GET /metrics not served: ${metricsNotConfirmed(host)}`;
      this.alerts.raise({ level: 'WARNING', variant: null, title: 'Metrics not served', message, context: { host, port }, key: 'metrics:listen' });
      return;
    }
    try {
      await exporter.listen(host, port);
    } catch (err) {
      const message = `${metricsListenFailure(host, port, err)}; the variants run regardless`;
      this.alerts.raise({ level: 'WARNING', variant: null, title: 'Metrics not served', message, context: { host, port }, key: 'metrics:listen' });
    }
  }

  /** The exposition text for GET /api/metrics (the same as the exporter's GET /metrics). */
  async metricsText(): Promise<string> {
    if (!this.metrics) throw new ApiError(503, 'the workstation is not started');
    return this.metrics.metrics();
  }

  /** The pushed series (risk gate, allocator, backtests) of this workstation; null before start(). */
  fleetMetrics(): FleetMetrics | null {
    return this.metrics?.fleet ?? null;
  }

  /** Where GET /metrics is served (the actual port when the settings said 0); null when it is not. */
  metricsAddress(): MetricsAddress | null {
    return this.metrics?.served() ?? null;
  }

  /**
   * Graceful shutdown (tray quit, SIGTERM/SIGINT of the headless host): no new bars (so no new
   * orders), every worker commits its state and stops, the allocation status is logged, and an
   * INFO "Kestrel stopped" alert goes out through the channels — all within the configured bound;
   * what is still running then is killed, and the main log says so.
   */
  async shutdown(reason: string): Promise<{ completed: boolean }> {
    const bound = this.opts.settings.shutdown.timeoutMs;
    const started = Date.now();
    this.log('INFO', `shutdown (${reason}): stopping ${this.supervisors.size} variants within ${bound} ms`);
    let timer: NodeJS.Timeout | null = null;
    const overrun = new Promise<'overrun'>((resolve) => (timer = setTimeout(() => resolve('overrun'), bound)));
    const orderly = (async (): Promise<'done'> => {
      await this.demo?.stop();
      await this.cryptoDemo?.stop();
      await Promise.all([...this.supervisors.values()].map((s) => s.stop()));
      this.allocation.logStatus();
      this.alerts.raise({
        level: 'INFO',
        variant: null,
        title: 'Kestrel stopped',
        message: `${reason}: ${this.supervisors.size} variants stopped with their state saved, in ${Date.now() - started} ms`,
        key: `kestrel:stopped:${started}`,
      });
      await this.alertRouter.idle();
      return 'done';
    })();
    const outcome = await Promise.race([orderly, overrun]);
    if (timer) clearTimeout(timer);
    if (outcome === 'overrun') {
      const left = [...this.supervisors.values()].filter((s) => s.info().pid !== null).map((s) => s.config.name);
      this.log('ERROR', `shutdown: not finished within ${bound} ms; killing what is left (${left.join(', ') || 'no worker; alert delivery'})`);
      this.opts.host.killAll?.();
    }
    await this.stop();
    return { completed: outcome === 'done' };
  }

  async stop(): Promise<void> {
    await this.metrics?.close();
    this.metrics = null;
    await this.demo?.stop();
    await this.cryptoDemo?.stop();
    await Promise.all([...this.supervisors.values()].map((s) => s.stop()));
    await this.backtests.stop();
    this.monitor.stop();
    this.allocation.stop();
    this.logs.close();
    this.trades.close();
    await this.history.close();
    await this.data.close();
    await this.demoStore?.close();
    this.audit?.close();
    this.alertRouter.close();
    this.mainLog.close();
    this.diskGuard.close();
    installDiskGuard(null);
  }

  /** A line for `<data>/logs/kestrel/main.log` and the host's own output (stderr headless). */
  private log(level: 'INFO' | 'WARNING' | 'ERROR', line: string): void {
    this.mainLog.write(level, line);
    this.opts.log?.(line);
  }

  supervisorInfo(variant: string): SupervisedInfo | undefined {
    return this.supervisors.get(variant)?.info();
  }

  /** The analysis periods a variant's strategy uses (the history view draws with them). */
  private signalParamsOf(variant: string): Partial<SignalParams> | undefined {
    const config = this.variants.find((c) => c.name === variant);
    if (config === undefined || !isRegisteredStrategy(config.strategy)) return undefined;
    return strategyFor(config.strategy, config.params, `variant ${variant}`).signalParams;
  }

  private launchOf(variant: VariantConfig): WorkerLaunch {
    const { settings, dataDir } = this.opts;
    const simulated = settings.demo.enabled && (variant.vtSymbol.endsWith('.SIM') || variant.vtSymbol.endsWith('.SIMC'));
    const group = this.allocation.groupOf(variant.name)?.config;
    return {
      variant,
      // A member of an allocation group asks its authority before every buy.
      allocation: group ? { group: group.name, requestTimeoutMs: group.requestTimeoutMs } : null,
      dataDir,
      barSource: settings.barSource,
      sourceLabel: simulated ? 'simulated' : settings.barSource.kind,
      restoreWindowBars: 600,
      halted: null,
      // The demo writes a simulated minute every 60 / speed seconds of wall time.
      expectedBarSeconds: simulated ? 60 / settings.demo.speed : 60,
    };
  }

  private supervisorChanged(info: SupervisedInfo): void {
    this.emitUpdate(info.variant, this.monitor.get(info.variant)?.snapshot ?? null);
  }

  private publish(variant: string, entry: MonitoredSnapshot): void {
    this.emitUpdate(variant, entry.snapshot);
  }

  /** A worker's live tail arrived over its IPC channel: shown at once, ahead of its snapshot file. */
  private liveTail(variant: string, tail: LiveTail): void {
    this.live.set(variant, tail);
    this.emitUpdate(variant, this.monitor.get(variant)?.snapshot ?? null);
  }

  private emitUpdate(variant: string, snapshot: Snapshot | null): void {
    const fromFile = snapshot ? { instruments: snapshot.instruments.map(instrumentTailOf), trading: tradingTailOf(snapshot) } : null;
    // Our own worker's tail wins while it is ahead of the file (the file is written at most every 200 ms).
    const tail = this.live.get(variant);
    const live = tail && tail.pid !== null && tail.pid === this.supervisors.get(variant)?.info().pid ? tail : null;
    const liveLast = live ? lastBarAtOf(live.instruments) : null;
    const useLive = live !== null && liveLast !== null && (fromFile === null || liveLast > (lastBarAtOf(fromFile.instruments) ?? ''));
    const shown = useLive ? live : fromFile;
    const summary = this.summaryOf(variant);
    this.bus.emit('variantUpdated', {
      summary: useLive ? { ...summary, lastBarAt: liveLast, updatedAt: live.updatedAt } : summary,
      instruments: shown?.instruments ?? [],
      ...(shown ? { trading: shown.trading } : {}),
    });
  }

  summaryOf(variant: string): VariantSummary {
    const supervisor = this.supervisors.get(variant);
    const entry = this.monitor.get(variant);
    const snap = entry?.snapshot ?? null;
    const info = supervisor?.info();
    const instrument = snap?.instruments[0];
    const config = supervisor?.config;
    const updatedMs = snap ? Date.parse(snap.updatedAt) : NaN;
    const windowMinutes = instrument?.windowMinutes ?? config?.windowMinutes ?? null;
    const staleAfter = Math.max(MIN_STALE_MS, 3 * (windowMinutes ?? 1) * 60_000);
    const isStale = Number.isFinite(updatedMs) && Date.now() - updatedMs > staleAfter;

    let status: VariantSummary['status'];
    let message = snap?.message ?? null;
    if (info) {
      const snapshotIsCurrent = snap !== null && info.pid !== null && snap.pid === info.pid;
      switch (info.state) {
        case 'crashed':
          status = 'crashed';
          message = info.lastExit ? `last exit: ${info.lastExit.signal ?? `code ${String(info.lastExit.code)}`}` : message;
          break;
        case 'stopped':
          status = 'stopped';
          break;
        case 'backoff':
          status = 'starting';
          message = 'restarting after a crash';
          break;
        default:
          status = snapshotIsCurrent ? (isStale ? 'stale' : snap.status) : (info.workerStatus ?? 'starting');
          if (!snapshotIsCurrent) message = info.workerMessage;
      }
    } else {
      status = snap ? (isStale && snap.status !== 'stopped' ? 'stale' : snap.status) : 'stopped';
    }
    return {
      variant,
      strategy: snap?.strategy ?? config?.strategy ?? 'unknown',
      status,
      pid: info ? info.pid : (snap?.pid ?? null),
      updatedAt: snap?.updatedAt ?? null,
      // A universe's instruments may end at different minutes: the latest is where the variant is.
      lastBarAt: (snap?.instruments ?? []).reduce<string | null>((latest, i) => (i.lastBarAt !== null && (latest === null || i.lastBarAt > latest) ? i.lastBarAt : latest), null),
      vtSymbol: instrument?.vtSymbol ?? config?.vtSymbol ?? null,
      windowMinutes,
      source: snap?.source ?? null,
      restarts: info?.restarts ?? 0,
      external: !supervisor,
      // The supervisor's command wins; before any, the worker's own word (it restores the switch).
      halted: info?.halted ?? (snap?.status === 'halted' || info?.workerStatus === 'halted'),
      message,
    };
  }

  private allVariantNames(): string[] {
    const names = new Set<string>(this.supervisors.keys());
    for (const name of this.monitor.all().keys()) names.add(name);
    return [...names].sort();
  }

  status(): Status {
    const summaries = this.allVariantNames().map((v) => this.summaryOf(v));
    return {
      app: 'kestrel',
      version: this.opts.version,
      host: this.opts.host.kind,
      startedAt: this.startedAt,
      dataDir: this.opts.dataDir,
      controlEnabled: this.opts.controlEnabled,
      demo: {
        enabled: this.opts.settings.demo.enabled,
        speed: this.opts.settings.demo.speed,
        simulatedTime: this.demo?.simulatedTime() ?? null,
      },
      variants: { total: summaries.length, running: summaries.filter((s) => s.status === 'running').length },
    };
  }

  /**
   * A command refused because control is off before its body was read (the REST server reads no
   * body it is going to refuse): audited with what its path names (the variant, the alert id).
   */
  refuseUnread(name: EntryName, pathParams: Readonly<Record<string, string>>, ctx: CallContext): ApiError {
    return this.refuseCommand(ctx, name, Object.values(pathParams)[0] ?? null, { ...pathParams });
  }

  private refuseCommand(ctx: CallContext, action: string, target: string | null, params: Record<string, unknown>): ApiError {
    const message = 'control is disabled: start the workstation with --allow-control to send commands';
    this.audit?.record({ time: new Date().toISOString(), origin: ctx.origin, action, target, params, outcome: 'refused', message });
    return new ApiError(403, message);
  }

  /** Commands are refused (403) unless control is enabled, and audited either way. */
  private async command<T extends CommandResult>(
    ctx: CallContext,
    action: string,
    target: string | null,
    params: Record<string, unknown>,
    run: () => Promise<T>,
  ): Promise<T> {
    const time = new Date().toISOString();
    if (!this.opts.controlEnabled || !ctx.controlAllowed) throw this.refuseCommand(ctx, action, target, params);
    try {
      const result = await run();
      this.audit?.record({ time, origin: ctx.origin, action, target, params, outcome: 'ok', message: result.message });
      return result;
    } catch (err) {
      const message = (err as Error).message;
      this.audit?.record({ time, origin: ctx.origin, action, target, params, outcome: 'failed', message });
      throw err;
    }
  }

  private supervisorOf(variant: string): VariantSupervisor {
    const s = this.supervisors.get(variant);
    if (!s) {
      throw new ApiError(
        this.monitor.get(variant) ? 409 : 404,
        this.monitor.get(variant)
          ? `${variant} is published by an external process; Kestrel does not supervise it`
          : `no variant named ${variant}`,
      );
    }
    return s;
  }

  private buildHandlers(): Omit<
    ApiHandlers,
    | keyof ReturnType<LogService['handlers']>
    | keyof ReturnType<HistoryService['handlers']>
    | keyof ReturnType<TradeService['handlers']>
    | keyof ReturnType<DataService['handlers']>
    | keyof ReturnType<SettingsService['handlers']>
    | keyof ReturnType<BacktestService['handlers']>
    | keyof ReturnType<DashboardService['handlers']>
    | keyof ReturnType<AllocationService['handlers']>
  > {
    return {
      listVariants: () => Promise.resolve(this.allVariantNames().map((v) => this.summaryOf(v))),
      getSnapshot: ({ variant }) => {
        const entry = this.monitor.get(variant);
        if (!entry) return Promise.reject(new ApiError(404, `no snapshot for variant ${variant} yet`));
        return Promise.resolve(entry.snapshot);
      },
      getStatus: () => Promise.resolve(this.status()),
      listAlerts: () => Promise.resolve(this.alerts.list()),
      startVariant: ({ variant }, ctx) =>
        this.command(ctx, 'startVariant', variant, { variant }, () => {
          this.supervisorOf(variant).start();
          return Promise.resolve({ ok: true, message: `${variant} starting` });
        }),
      stopVariant: ({ variant }, ctx) =>
        this.command(ctx, 'stopVariant', variant, { variant }, async () => {
          await this.supervisorOf(variant).stop();
          return { ok: true, message: `${variant} stopped` };
        }),
      restartVariant: ({ variant }, ctx) =>
        this.command(ctx, 'restartVariant', variant, { variant }, async () => {
          await this.supervisorOf(variant).restart();
          return { ok: true, message: `${variant} restarted` };
        }),
      setTradingHalted: ({ variant, halted }, ctx) =>
        this.command(ctx, 'setTradingHalted', variant ?? '*', { variant: variant ?? null, halted }, () => {
          const targets = variant ? [this.supervisorOf(variant)] : [...this.supervisors.values()];
          for (const s of targets) s.setHalted(halted);
          const who = variant ?? `all ${targets.length} variants`;
          this.alerts.raise({
            level: halted ? 'WARNING' : 'INFO',
            variant: variant ?? null,
            title: halted ? 'Trading halted' : 'Trading resumed',
            message: `${who}: ${halted ? 'kill switch on; signals are computed, no orders are sent' : 'orders allowed again'}`,
            key: `halt:${variant ?? '*'}:${String(halted)}`,
          });
          return Promise.resolve({ ok: true, message: `${who} ${halted ? 'halted' : 'resumed'}` });
        }),
      flattenVariant: ({ variant }, ctx) =>
        this.command(ctx, 'flattenVariant', variant ?? '*', { variant: variant ?? null }, () => {
          const targets = variant ? [this.supervisorOf(variant)] : [...this.supervisors.values()];
          const reached = targets.filter((s) => s.flatten()).length;
          const who = variant ?? `all ${targets.length} variants`;
          this.alerts.raise({
            level: 'WARNING',
            variant: variant ?? null,
            title: 'Flatten',
            message: `${who}: halted; every open position closes at the next bar open${reached < targets.length ? ` (${String(targets.length - reached)} not running: halted only)` : ''}`,
            key: `flatten:${variant ?? '*'}`,
          });
          return Promise.resolve({ ok: true, message: `${who} flattening` });
        }),
      acknowledgeAlert: ({ id }, ctx) =>
        this.command(ctx, 'acknowledgeAlert', id, { id }, () => {
          if (!this.alerts.acknowledge(id)) throw new ApiError(404, `no alert with id ${id}`);
          return Promise.resolve({ ok: true, message: 'acknowledged' });
        }),
    };
  }
}
