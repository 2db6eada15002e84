import { join } from 'node:path';
import { AnalysisPipeline } from '../core/analysisPipeline.js';
import type { BarKey, BarStore } from '../io/barStore.js';
import type { JsonLinesLog } from '../io/jsonLinesLog.js';
import { writeSnapshotAtomic } from '../io/snapshotFile.js';
import { parseVtSymbol, type OhlcvBar } from '../shared/bar.js';
import { SNAPSHOT_VERSION, type SnapshotInput, type VariantStatus } from '../shared/snapshot.js';
import { formatDatetime } from '../shared/time.js';
import type { WorkerLaunch } from '../shared/workerProtocol.js';
import { InstrumentView } from './instrumentView.js';

export interface VariantRunnerDeps {
  store: BarStore;
  log: JsonLinesLog;
  /** Wall clock, for `updatedAt` only: trading logic never reads it. */
  clock?: () => Date;
  /** Minimum milliseconds between two snapshot writes while bars stream in. */
  snapshotIntervalMs?: number;
  onStatus?: (status: VariantStatus, message: string | null) => void;
}

/** Below this many restored window bars the indicators are not trustworthy yet. */
const MIN_WINDOW_BARS_FOR_RUNNING = 60;
const FOLLOW_BATCH = 5_000;

/**
 * One variant's life inside its worker: restore by replaying history through the same
 * pipeline as live, then follow the bar store. It owns its state; the supervisor only
 * ever sees the snapshot file and status messages.
 */
export class VariantRunner {
  private readonly key: BarKey;
  private readonly pipeline: AnalysisPipeline;
  private readonly view: InstrumentView;
  private readonly monitorDir: string;
  private readonly clock: () => Date;
  private readonly snapshotIntervalMs: number;
  private status: VariantStatus = 'starting';
  private statusMessage: string | null = null;
  private lastMinute: number | null = null;
  private lastSnapshotAt = 0;
  private restoreInfo: NonNullable<SnapshotInput['restore']> = {
    phase: 'idle',
    minuteBarsReplayed: 0,
    windowBarsRestored: 0,
    message: null,
    finishedAt: null,
  };

  constructor(
    private readonly launch: WorkerLaunch,
    private readonly deps: VariantRunnerDeps,
  ) {
    const { symbol, exchange } = parseVtSymbol(launch.variant.vtSymbol);
    this.key = { symbol, exchange, interval: '1m' };
    this.view = new InstrumentView(launch.variant.vtSymbol, launch.variant.windowMinutes);
    this.pipeline = new AnalysisPipeline({
      windowMinutes: launch.variant.windowMinutes,
      onWindow: (a) => this.view.addWindow(a),
    });
    this.monitorDir = join(launch.dataDir, 'monitor');
    this.clock = deps.clock ?? (() => new Date());
    this.snapshotIntervalMs = deps.snapshotIntervalMs ?? 200;
  }

  get currentStatus(): VariantStatus {
    return this.status;
  }

  get windowBarCount(): number {
    return this.pipeline.windowBarCount;
  }

  /** Replays enough 1-minute history for `restoreWindowBars` window bars, then goes live. */
  async restore(): Promise<void> {
    this.setStatus('restoring', 'loading history');
    this.restoreInfo = { ...this.restoreInfo, phase: 'loading' };
    this.writeSnapshot(true);
    // A window holds at most N minutes, so N × target minutes yield at least target windows.
    const wanted = this.launch.restoreWindowBars * this.launch.variant.windowMinutes;
    const history = await this.deps.store.loadLast(this.key, wanted);
    this.restoreInfo = { ...this.restoreInfo, phase: 'replaying' };
    for (const bar of history) this.accept(bar);
    const windows = this.pipeline.windowBarCount;
    const degraded = windows < MIN_WINDOW_BARS_FOR_RUNNING;
    const message = `${history.length} one-minute bars replayed into ${windows} window bars`;
    this.restoreInfo = {
      phase: degraded ? 'degraded' : 'done',
      minuteBarsReplayed: history.length,
      windowBarsRestored: windows,
      message: degraded ? `${message}; fewer than ${MIN_WINDOW_BARS_FOR_RUNNING}: indicators not settled` : message,
      finishedAt: this.clock().toISOString(),
    };
    this.deps.log.info('restore finished', { minuteBars: history.length, windowBars: windows, degraded });
    this.setStatus(degraded ? 'degraded' : 'running', this.restoreInfo.message ?? null);
    this.writeSnapshot(true);
  }

  /** Reads rows newer than the last one seen; returns how many 1-minute bars it processed. */
  async follow(): Promise<number> {
    let total = 0;
    for (;;) {
      const after = this.lastMinute ?? 0;
      const bars = await this.deps.store.loadAfter(this.key, after, FOLLOW_BATCH);
      for (const bar of bars) this.accept(bar);
      total += bars.length;
      if (bars.length < FOLLOW_BATCH) break;
    }
    if (total > 0) {
      if (this.status === 'degraded' && this.pipeline.windowBarCount >= MIN_WINDOW_BARS_FOR_RUNNING) {
        this.setStatus('running', 'enough history accumulated');
      }
      this.writeSnapshot(false);
    }
    return total;
  }

  /** Marks the variant stopped in its last snapshot. */
  stop(): void {
    this.setStatus('stopped', 'stopped by the supervisor');
    this.deps.log.info('stopped');
    this.writeSnapshot(true);
  }

  /** Heartbeat: rewrites the snapshot so that a live worker never looks stale. */
  heartbeat(): void {
    this.writeSnapshot(true);
  }

  private accept(bar: OhlcvBar): void {
    if (this.lastMinute !== null && bar.time <= this.lastMinute) return;
    this.pipeline.pushMinute(bar);
    this.lastMinute = bar.time;
  }

  private setStatus(status: VariantStatus, message: string | null): void {
    if (status === this.status && message === this.statusMessage) return;
    this.status = status;
    this.statusMessage = message;
    this.deps.onStatus?.(status, message);
  }

  writeSnapshot(force: boolean): void {
    const now = this.clock().getTime();
    if (!force && now - this.lastSnapshotAt < this.snapshotIntervalMs) return;
    this.lastSnapshotAt = now;
    writeSnapshotAtomic(this.monitorDir, this.buildSnapshot());
  }

  buildSnapshot(): SnapshotInput {
    const { variant } = this.launch;
    return {
      version: SNAPSHOT_VERSION,
      variant: variant.name,
      strategy: variant.strategy,
      status: this.status,
      source: this.launch.sourceLabel,
      pid: process.pid,
      updatedAt: this.clock().toISOString(),
      instruments: [
        this.view.toSnapshot(
          this.pipeline.formingAnalysis(),
          this.pipeline.forming(),
          this.pipeline.signalState(),
          this.lastMinute === null ? null : formatDatetime(this.lastMinute),
          this.pipeline.minuteBarCount,
        ),
      ],
      restore: this.restoreInfo,
      message: this.statusMessage,
    };
  }
}
