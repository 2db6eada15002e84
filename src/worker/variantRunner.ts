import { join } from 'node:path';
import { AnalysisPipeline } from '../core/analysisPipeline.js';
import { TradingCalendar } from '../core/market/tradingCalendar.js';
import { productOf, pickDominant } from '../core/strategy/activeContract.js';
import { MacdTdRunner } from '../core/strategy/macdTdRunner.js';
import { MacdTdStrategy, type StrategyEvents, type TradingMode } from '../core/strategy/macdTdStrategy.js';
import type { Order, TradeRow } from '../core/broker/paperBroker.js';
import type { BarKey, BarStore } from '../io/barStore.js';
import type { JsonLinesLog } from '../io/jsonLinesLog.js';
import { writeSnapshotAtomic } from '../io/snapshotFile.js';
import type { JournalOrder, JournalTrade, TradingJournal } from '../io/tradingJournal.js';
import { parseVtSymbol, type OhlcvBar } from '../shared/bar.js';
import { SNAPSHOT_VERSION, type SnapshotInput, type VariantStatus } from '../shared/snapshot.js';
import { formatDatetime, nowInZone, parseDatetime } from '../shared/time.js';
import type { WorkerLaunch } from '../shared/workerProtocol.js';
import { InstrumentView } from './instrumentView.js';
import { UnreadableStateError, VARIANT_STATE_VERSION, decodeVariantState, type VariantState } from './variantState.js';

export interface WorkerAlert {
  level: 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
  title: string;
  message: string;
  key?: string;
}

export interface VariantRunnerDeps {
  store: BarStore;
  journal: TradingJournal;
  log: JsonLinesLog;
  /** Wall clock, for `updatedAt`, pacing and stall detection only: trading logic never reads it. */
  clock?: () => Date;
  /** Minimum milliseconds between two snapshot writes while bars stream in. */
  snapshotIntervalMs?: number;
  /** Commit the state at least every this many 1-minute bars, even without trades. */
  commitEveryBars?: number;
  onStatus?: (status: VariantStatus, message: string | null) => void;
  onAlert?: (alert: WorkerAlert) => void;
  onTrade?: (trade: TradeRow) => void;
  /** A live bar processed: seconds since its minute ended (see `barLatencySeconds`). */
  onBarProcessed?: (latencySeconds: number) => void;
  /** Restore finished after this many wall-clock seconds. */
  onRestored?: (seconds: number) => void;
}

/** Below this many window bars the indicators have not settled: compute, show, never trade. */
export const MIN_WINDOW_BARS_TO_TRADE = 100;
const FOLLOW_BATCH = 5_000;
const CHINA_FUTURES_EXCHANGES = new Set(['SHFE', 'DCE', 'CZCE', 'CFFEX', 'INE', 'GFEX']);

/**
 * One variant's life inside its worker.
 *
 * Restore: freeze → load the state row (positions, orders, counters, contracts, indicator
 * checkpoints) → resolve the active contract → load history and replay it (through the
 * strategy in `restoring` mode when there is no state, so signals are computed and no order
 * goes out; only into the chart when the state already holds the indicators) → unfreeze.
 * Live: every new 1-minute bar goes through the very same MacdTdRunner; the state and the
 * trades and orders it reflects are committed in one transaction.
 */
export class VariantRunner {
  private readonly monitorDir: string;
  private readonly clock: () => Date;
  private readonly snapshotIntervalMs: number;
  private readonly commitEveryBars: number;
  private readonly calendar = new TradingCalendar();
  private runner: MacdTdRunner | null = null;
  private view: InstrumentView;
  /** The chart's pipeline for history older than the state's checkpoint. */
  private viewPipeline: AnalysisPipeline | null = null;
  private vtSymbol: string;
  private key: BarKey;
  private status: VariantStatus = 'starting';
  private statusMessage: string | null = null;
  private mode: TradingMode = 'restoring';
  private halted: boolean;
  private degradedReason: string | null = null;
  private lastMinute: number | null = null;
  private barsSinceCommit = 0;
  private lastSnapshotAt = 0;
  private lastNewBarAt: number;
  private stalled = false;
  private replayStartedAt = 0;
  private replayBars = 0;
  private restoreInfo: NonNullable<SnapshotInput['restore']> = {
    phase: 'idle',
    minuteBarsReplayed: 0,
    windowBarsRestored: 0,
    message: null,
    finishedAt: null,
    suppressedDecisions: 0,
    from: 'none',
  };

  constructor(
    private readonly launch: WorkerLaunch,
    private readonly deps: VariantRunnerDeps,
  ) {
    this.vtSymbol = launch.variant.vtSymbol;
    this.key = keyOf(this.vtSymbol);
    this.view = new InstrumentView(this.vtSymbol, launch.variant.windowMinutes);
    this.monitorDir = join(launch.dataDir, 'monitor');
    this.clock = deps.clock ?? (() => new Date());
    this.snapshotIntervalMs = deps.snapshotIntervalMs ?? 200;
    this.commitEveryBars = deps.commitEveryBars ?? 500;
    this.halted = launch.halted ?? false;
    this.lastNewBarAt = this.clock().getTime();
  }

  get currentStatus(): VariantStatus {
    return this.status;
  }

  get tradingMode(): TradingMode {
    return this.mode;
  }

  get activeVtSymbol(): string {
    return this.vtSymbol;
  }

  get windowBarCount(): number {
    return this.runner?.pipeline(this.vtSymbol)?.windowBarCount ?? 0;
  }

  get strategy(): MacdTdStrategy | null {
    return this.runner?.strategy ?? null;
  }

  /** True from the "Feed stalled" alert until bars come again. */
  get feedStalled(): boolean {
    return this.stalled;
  }

  get lastMinuteTime(): number | null {
    return this.lastMinute;
  }

  async restore(): Promise<void> {
    const { variant } = this.launch;
    const restoreStartedAt = this.clock().getTime();
    this.mode = 'restoring';
    this.setStatus('restoring', 'loading state');
    this.restoreInfo = { ...this.restoreInfo, phase: 'loading' };
    this.writeSnapshot(true);

    const state = this.loadState();
    await this.resolveContract(state);
    const runnerOpts = {
      variant: variant.name,
      windowMinutes: variant.windowMinutes,
      calendar: this.calendar,
      onWindow: (vt: string, a: Parameters<InstrumentView['addWindow']>[0]) => {
        if (vt === this.vtSymbol) this.view.addWindow(a);
      },
    };
    const wanted = this.launch.restoreWindowBars * variant.windowMinutes;
    this.restoreInfo = { ...this.restoreInfo, phase: 'replaying' };
    let replayed = 0;
    let suppressed = 0;

    if (state) {
      const sameParams = state.paramsHash === MacdTdStrategy.paramsHashOf(variant.params);
      if (!sameParams) {
        this.alert({ level: 'WARNING', title: 'Parameters changed', message: `${variant.name}: parameters differ from the saved state; positions kept, indicators rebuilt by replay` });
      }
      this.runner = MacdTdRunner.fromState(sameParams ? state.runner : { ...state.runner, pipelines: {} }, variant.params, {
        ...runnerOpts,
        allowConfigChange: !sameParams,
      });
      this.lastMinute = state.lastMinuteTime;
      this.halted = this.launch.halted ?? state.halted;
      const before = state.lastMinuteTime === null ? undefined : state.lastMinuteTime + 1;
      const history = await this.deps.store.loadLast(this.key, wanted, before === undefined ? {} : { before });
      if (sameParams) {
        // The checkpoint already holds the indicators: history only draws the chart.
        this.viewPipeline = new AnalysisPipeline({
          windowMinutes: variant.windowMinutes,
          params: variant.params.signal,
          onWindow: (a) => this.view.addWindow(a),
        });
        for (const bar of history) this.viewPipeline.pushMinute(bar);
      } else {
        for (const bar of history) suppressed += this.runner.onMinuteBar(this.vtSymbol, bar, 'restoring').suppressed;
      }
      replayed = history.length;
    } else {
      this.runner = new MacdTdRunner(variant.params, { ...runnerOpts, activeContracts: { [productOf(this.vtSymbol)]: this.vtSymbol } });
      const before = this.replayFrom();
      const history = await this.deps.store.loadLast(this.key, wanted, before === null ? {} : { before });
      for (const bar of history) {
        suppressed += this.runner.onMinuteBar(this.vtSymbol, bar, 'restoring').suppressed;
        this.lastMinute = bar.time;
      }
      replayed = history.length;
    }

    const windows = this.windowBarCount;
    const tooLittle = windows < MIN_WINDOW_BARS_TO_TRADE;
    if (tooLittle && !this.degradedReason) {
      this.degradedReason = `only ${windows} window bars of history (${MIN_WINDOW_BARS_TO_TRADE} needed before trading)`;
      this.alert({ level: 'WARNING', title: 'Restore degraded: too little history', message: `${variant.name}: ${this.degradedReason}`, key: `${variant.name}:little-history` });
    }
    const message = `${state ? 'state restored' : 'no saved state'}; ${replayed} one-minute bars replayed, ${windows} window bars`;
    this.restoreInfo = {
      phase: this.degradedReason ? 'degraded' : 'done',
      minuteBarsReplayed: replayed,
      windowBarsRestored: windows,
      message: this.degradedReason ? `${message}; degraded: ${this.degradedReason}` : message,
      finishedAt: this.clock().toISOString(),
      suppressedDecisions: suppressed,
      from: state ? 'state' : replayed > 0 ? 'replay' : 'none',
    };
    this.deps.log.info('restore finished', { replayed, windows, suppressed, fromState: state !== null, vtSymbol: this.vtSymbol });
    this.commit([], []);
    this.unfreeze();
    this.replayStartedAt = this.clock().getTime();
    this.lastNewBarAt = this.clock().getTime();
    this.writeSnapshot(true);
    this.deps.onRestored?.((this.clock().getTime() - restoreStartedAt) / 1000);
  }

  /**
   * Seconds from a bar's minute end to now. The minute's end is known on the wall clock only for
   * a live feed of an exchange whose clock we know (China's futures exchanges, UTC+8); a
   * simulated or replayed minute has no wall time, nor a bar of another exchange, so for them
   * the latency is counted from the read that found the bar.
   */
  private barLatencySeconds(bar: OhlcvBar, readAtMs: number, nowMs: number): number {
    const live = this.launch.variant.feed.kind !== 'replay' && this.launch.sourceLabel !== 'simulated';
    if (live && CHINA_FUTURES_EXCHANGES.has(this.key.exchange)) return nowInZone(8, nowMs) - (bar.time + 60) + (nowMs % 1000) / 1000;
    return (nowMs - readAtMs) / 1000;
  }

  /** Reads rows newer than the last one processed; returns how many 1-minute bars it took. */
  async follow(): Promise<number> {
    if (!this.runner) return 0;
    let total = 0;
    const feed = this.launch.variant.feed;
    const end = feed.kind === 'replay' && feed.to ? parseDatetime(feed.to) : null;
    for (;;) {
      let limit = FOLLOW_BATCH;
      if (feed.kind === 'replay') {
        const due = Math.floor(((this.clock().getTime() - this.replayStartedAt) * feed.speed) / 60_000) - this.replayBars;
        limit = Math.min(limit, due);
        if (limit <= 0) break;
      }
      const readAt = this.clock().getTime();
      let bars = await this.deps.store.loadAfter(this.key, this.lastMinute ?? 0, limit);
      if (end !== null) bars = bars.filter((b) => b.time <= end);
      for (const bar of bars) this.process(bar);
      // One clock reading per read: a live read holds one bar; a catch-up batch is done as a whole.
      const onBar = this.deps.onBarProcessed;
      if (onBar && bars.length > 0) {
        const doneAt = this.clock().getTime();
        for (const bar of bars) onBar(this.barLatencySeconds(bar, readAt, doneAt));
      }
      total += bars.length;
      this.replayBars += bars.length;
      if (bars.length < limit) break;
    }
    if (total > 0) {
      this.lastNewBarAt = this.clock().getTime();
      if (this.stalled) {
        this.stalled = false;
        this.alert({ level: 'INFO', title: 'Feed resumed', message: `${this.launch.variant.name}: new bars again` });
      }
      if (this.degradedReason?.startsWith('only ') && this.windowBarCount >= MIN_WINDOW_BARS_TO_TRADE) {
        this.degradedReason = null;
        this.deps.log.info('enough history accumulated: trading enabled', { windows: this.windowBarCount });
        this.unfreeze();
      }
      this.writeSnapshot(false);
    }
    return total;
  }

  setHalted(halted: boolean): void {
    if (this.halted === halted) return;
    this.halted = halted;
    this.deps.log.warn(halted ? 'trading halted (kill switch)' : 'trading resumed');
    if (this.mode !== 'restoring') this.unfreeze();
    this.commit([], []);
    this.writeSnapshot(true);
  }

  /** Graceful stop: the state is committed and the last snapshot says stopped. */
  stop(): void {
    if (this.runner) this.commit([], []);
    this.setStatus('stopped', 'stopped by the supervisor');
    this.deps.log.info('stopped');
    this.writeSnapshot(true);
  }

  /** Heartbeat: rewrites the snapshot so a live worker never looks stale, and watches the feed. */
  heartbeat(): void {
    this.checkStall();
    if (this.barsSinceCommit > 0 && this.runner) this.commit([], []);
    this.writeSnapshot(true);
  }

  private process(bar: OhlcvBar): void {
    const runner = this.runner as MacdTdRunner;
    if (this.lastMinute !== null && bar.time <= this.lastMinute) return;
    const events = runner.onMinuteBar(this.vtSymbol, bar, this.mode);
    this.lastMinute = bar.time;
    this.barsSinceCommit += 1;
    for (const line of events.log) this.deps.log.write(line.level, line.message, line.context);
    const changedOrders = [...events.ordersSent, ...events.ordersPlaced, ...events.cancelled, ...events.fills.map((f) => f.order)];
    if (events.fills.length > 0 || changedOrders.length > 0) {
      this.commit(events.fills.map((f) => f.trade), changedOrders);
      for (const f of events.fills) {
        this.deps.onTrade?.(f.trade);
        this.deps.log.info('trade', { id: f.trade.id, vtSymbol: f.trade.vtSymbol, side: f.trade.side, offset: f.trade.offset, price: f.trade.price, volume: f.trade.volume, pnl: f.trade.pnl });
      }
    } else if (this.barsSinceCommit >= this.commitEveryBars) {
      this.commit([], []);
    }
    this.noteRefusals(events);
  }

  private noteRefusals(events: StrategyEvents): void {
    for (const d of events.decisions) {
      if (d.outcome === 'refused') {
        this.alert({ level: 'WARNING', title: 'Risk limit hit', message: `${this.launch.variant.name}: ${d.detail}`, key: `${this.launch.variant.name}:risk-limit:${d.kind}` });
      }
    }
  }

  private commit(trades: readonly TradeRow[], orders: readonly Order[]): void {
    const runner = this.runner;
    if (!runner) return;
    const variant = this.launch.variant.name;
    const state: VariantState = {
      version: VARIANT_STATE_VERSION,
      variant,
      paramsHash: runner.strategy.paramsHash,
      vtSymbol: this.vtSymbol,
      lastMinuteTime: this.lastMinute,
      halted: this.halted,
      runner: runner.toState(),
    };
    const tradingDay = runner.strategy.tradingDay ?? '';
    this.deps.journal.commit(variant, {
      version: VARIANT_STATE_VERSION,
      state,
      savedAt: this.clock().toISOString(),
      trades: trades.map((t): JournalTrade => ({
        id: t.id,
        variant,
        vtSymbol: t.vtSymbol,
        side: t.side,
        offset: t.offset,
        price: t.price,
        volume: t.volume,
        time: t.time,
        commission: t.commission,
        pnl: t.pnl,
        tradingDay,
      })),
      orders: orders.map((o): JournalOrder => ({
        id: o.id,
        variant,
        vtSymbol: o.vtSymbol,
        side: o.side,
        offset: o.offset,
        type: o.type,
        price: o.price,
        volume: o.volume,
        status: o.status,
        createdAt: o.createdAt,
      })),
    });
    this.barsSinceCommit = 0;
  }

  private loadState(): VariantState | null {
    const name = this.launch.variant.name;
    const stored = this.deps.journal.loadState(name);
    if (!stored) return null;
    try {
      return decodeVariantState(stored, name);
    } catch (err) {
      const reason = err instanceof UnreadableStateError ? err.message : `the state row of ${name} cannot be read: ${(err as Error).message}`;
      this.deps.journal.quarantine(name, reason, this.clock().toISOString());
      this.degradedReason = `${reason}; it was kept aside and the variant starts flat`;
      this.alert({ level: 'ERROR', title: 'State unreadable: starting flat in degraded mode', message: this.degradedReason, key: `${name}:state-unreadable` });
      this.deps.log.error('state unreadable', { reason });
      return null;
    }
  }

  /**
   * The contract to trade: the one in the state; else the configured contract; else, for a
   * product given alone (`rb.SHFE`), the dominant contract in the bar store.
   */
  private async resolveContract(state: VariantState | null): Promise<void> {
    if (state) {
      this.setContract(state.vtSymbol);
      return;
    }
    const { symbol, exchange } = parseVtSymbol(this.launch.variant.vtSymbol);
    if (!/^[A-Za-z]+$/.test(symbol)) return;
    const overview = await this.deps.store.overview();
    const candidates = [];
    for (const o of overview) {
      if (o.exchange !== exchange || o.interval !== '1m' || o.symbol === symbol || productOf(o.symbol) !== symbol) continue;
      const last = await this.deps.store.loadLast({ symbol: o.symbol, exchange, interval: '1m' }, 240);
      const lastBar = last[last.length - 1];
      candidates.push({
        symbol: `${o.symbol}.${exchange}`,
        volume: last.reduce((sum, b) => sum + b.volume, 0),
        openInterest: lastBar?.openInterest ?? 0,
      });
    }
    const dominant = pickDominant(candidates);
    if (dominant) {
      this.setContract(dominant);
      this.deps.log.info('active contract chosen', { product: symbol, vtSymbol: dominant, candidates: candidates.length });
    }
  }

  private setContract(vtSymbol: string): void {
    if (vtSymbol === this.vtSymbol) return;
    this.vtSymbol = vtSymbol;
    this.key = keyOf(vtSymbol);
    this.view = new InstrumentView(vtSymbol, this.launch.variant.windowMinutes);
  }

  /** For a replay feed, restore uses the history before the replayed range. */
  private replayFrom(): number | null {
    const feed = this.launch.variant.feed;
    return feed.kind === 'replay' ? parseDatetime(feed.from) : null;
  }

  private unfreeze(): void {
    if (this.degradedReason) {
      this.mode = 'degraded';
      this.setStatus('degraded', this.degradedReason);
    } else if (this.halted) {
      this.mode = 'halted';
      this.setStatus('halted', 'trading halted (kill switch): signals computed, no orders sent');
    } else {
      this.mode = 'live';
      this.setStatus('running', this.restoreInfo.message ?? null);
    }
  }

  private checkStall(): void {
    if (this.mode === 'restoring' || this.launch.variant.feed.kind === 'replay') return;
    const quietMs = this.clock().getTime() - this.lastNewBarAt;
    const limitMs = this.launch.variant.stallAfterBars * this.launch.expectedBarSeconds * 1000;
    if (this.stalled || quietMs < limitMs || !this.marketOpenNow()) return;
    this.stalled = true;
    this.alert({
      level: 'WARNING',
      title: 'Feed stalled',
      message: `${this.launch.variant.name}: no new 1-minute bar for ${Math.round(quietMs / 1000)} s while the market is open (last: ${this.lastMinute === null ? 'none' : formatDatetime(this.lastMinute)})`,
      key: `${this.launch.variant.name}:stall`,
    });
  }

  /** Simulated markets never close (closed hours are skipped); China futures follow their sessions. */
  private marketOpenNow(): boolean {
    if (this.launch.sourceLabel === 'simulated') return true;
    if (!CHINA_FUTURES_EXCHANGES.has(this.key.exchange)) return true;
    return this.calendar.isOpen(nowInZone(8, this.clock().getTime()));
  }

  private alert(a: WorkerAlert): void {
    this.deps.onAlert?.(a);
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
    const pipeline = this.runner?.pipeline(this.vtSymbol) ?? this.viewPipeline;
    const strategy = this.runner?.strategy.snapshot();
    const feed = variant.feed;
    return {
      version: SNAPSHOT_VERSION,
      variant: variant.name,
      strategy: variant.strategy,
      status: this.status,
      source: feed.kind === 'replay' ? 'replay' : this.launch.sourceLabel,
      pid: process.pid,
      updatedAt: this.clock().toISOString(),
      instruments: [
        this.view.toSnapshot(
          pipeline?.formingAnalysis() ?? null,
          pipeline?.forming() ?? null,
          pipeline?.signalState() ?? new AnalysisPipeline({ windowMinutes: variant.windowMinutes }).signalState(),
          this.lastMinute === null ? null : formatDatetime(this.lastMinute),
          pipeline?.minuteBarCount ?? 0,
        ),
      ],
      positions: strategy?.positions ?? [],
      orders: (strategy?.orders ?? []).map((o) => ({ ...o, status: String(o.status) })),
      recentTrades: (strategy?.recentTrades ?? []).map((t) => ({
        id: t.id,
        vtSymbol: t.vtSymbol,
        side: t.side,
        offset: t.offset,
        price: t.price,
        volume: t.volume,
        time: t.time,
        pnl: t.pnl,
        commission: t.commission,
      })),
      counters: strategy?.counters ?? {},
      pnl: strategy?.pnl ?? { realized: 0, unrealized: 0, today: 0 },
      restore: this.restoreInfo,
      message: this.statusMessage,
    };
  }
}

function keyOf(vtSymbol: string): BarKey {
  const { symbol, exchange } = parseVtSymbol(vtSymbol);
  return { symbol, exchange, interval: '1m' };
}
