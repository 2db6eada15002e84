import { join } from 'node:path';
import { AnalysisPipeline } from '../core/analysisPipeline.js';
import type { Order, TradeRow } from '../core/broker/paperBroker.js';
import { calendarForExchange } from '../core/market/continuousCalendar.js';
import type { TradingCalendar } from '../core/market/tradingCalendar.js';
import { productOf, pickDominant } from '../core/strategy/activeContract.js';
import type { AllocatorCheck } from '../core/risk/riskGate.js';
import { TradingEngine, orderViewOf, type EngineEvents, type EngineOptions } from '../core/strategy/engine.js';
import { mergeMinutes, type InstrumentSeries } from '../core/strategy/minuteMerge.js';
import { strategyFor } from '../core/strategy/registry.js';
import type { BoundStrategy, InstrumentBar, TradingMode } from '../core/strategy/strategy.js';
import type { BarKey, BarStore } from '../io/barStore.js';
import type { JsonLinesLog } from '../io/jsonLinesLog.js';
import { writeSnapshotAtomic } from '../io/snapshotFile.js';
import type { JournalOrder, JournalTrade, TradingJournal } from '../io/tradingJournal.js';
import { parseVtSymbol, type OhlcvBar } from '../shared/bar.js';
import { SNAPSHOT_VERSION, type SnapshotInput, type VariantStatus } from '../shared/snapshot.js';
import { formatDatetime, nowInZone, parseDatetime } from '../shared/time.js';
import type { WorkerAlert, WorkerLaunch } from '../shared/workerProtocol.js';
import { InstrumentView } from './instrumentView.js';
import { UnreadableStateError, VARIANT_STATE_VERSION, decodeVariantState, type VariantState } from './variantState.js';

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
  /** A live bar processed: seconds since its minute ended (see `barLatencySeconds`). */
  onBarProcessed?: (latencySeconds: number) => void;
  /** Restore finished after this many wall-clock seconds. */
  onRestored?: (seconds: number) => void;
  /**
   * The allocator's worker side (a variant in an allocation group, see GrantLedger): the gate's
   * AllocatorCheck, shown every engine call's events, told when restore is done (it reports then).
   */
  allocator?: AllocatorCheck & { observe(events: EngineEvents): void; restored(engine: TradingEngine): void };
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
 * Live: every new minute (the bars of all instruments merged) goes through the very same
 * TradingEngine; the state and the
 * trades and orders it reflects are committed in one transaction.
 */
export class VariantRunner {
  private readonly monitorDir: string;
  private readonly clock: () => Date;
  private readonly snapshotIntervalMs: number;
  private readonly commitEveryBars: number;
  /** The variant's exchange's calendar: futures sessions, or 24/7 for a crypto venue. */
  private readonly calendar: TradingCalendar;
  private readonly bound: BoundStrategy;
  private engine: TradingEngine | null = null;
  /** The instruments followed (products resolved to contracts), sorted. */
  private instruments: string[] = [];
  private readonly views = new Map<string, InstrumentView>();
  /** The chart's pipelines for history older than the state's checkpoint. */
  private readonly viewPipelines = new Map<string, AnalysisPipeline>();
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
    this.bound = strategyFor(launch.variant.strategy, launch.variant.params, `variant ${launch.variant.name}`);
    this.instruments = configuredInstruments(launch);
    this.calendar = calendarForExchange(parseVtSymbol(launch.variant.vtSymbol).exchange);
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

  /** The instruments followed, products resolved to their active contracts. */
  get activeInstruments(): readonly string[] {
    return this.instruments;
  }

  /** The fewest window bars any instrument has (trading waits for MIN_WINDOW_BARS_TO_TRADE on each). */
  get windowBarCount(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const vt of this.instruments) min = Math.min(min, this.engine?.pipeline(vt)?.windowBarCount ?? 0);
    return min === Number.POSITIVE_INFINITY ? 0 : min;
  }

  get tradingEngine(): TradingEngine | null {
    return this.engine;
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
    this.instruments = state ? [...state.instruments] : await this.resolveUniverse();
    this.views.clear();
    for (const vt of this.instruments) this.views.set(vt, new InstrumentView(vt, variant.windowMinutes));
    const engineOpts: EngineOptions = {
      variant: variant.name,
      windowMinutes: variant.windowMinutes,
      calendar: this.calendar,
      activeContracts: Object.fromEntries(this.instruments.map((vt) => [productOf(vt), vt])),
      onWindow: (vt, a) => this.views.get(vt)?.addWindow(a),
      ...(this.deps.allocator ? { allocator: this.deps.allocator } : {}),
    };
    const wanted = this.launch.restoreWindowBars * variant.windowMinutes;
    this.restoreInfo = { ...this.restoreInfo, phase: 'replaying' };
    let replayed = 0;
    let suppressed = 0;
    const replay = (series: InstrumentSeries[]): void => {
      mergeMinutes(series, (group) => {
        suppressed += (this.engine as TradingEngine).onMinuteBars(group, 'restoring').suppressed;
        this.lastMinute = group[0]?.bar.time ?? this.lastMinute;
      });
    };

    if (state) {
      const sameParams = state.paramsHash === TradingEngine.paramsHashOf(this.bound);
      if (!sameParams) {
        this.alert({ level: 'WARNING', title: 'Parameters changed', message: `${variant.name}: parameters differ from the saved state; positions kept, indicators rebuilt by replay` });
      }
      this.engine = TradingEngine.fromState(state.engine, this.bound, { ...engineOpts, allowConfigChange: !sameParams });
      this.lastMinute = state.lastMinuteTime;
      this.halted = this.launch.halted ?? state.halted;
      const before = state.lastMinuteTime === null ? undefined : state.lastMinuteTime + 1;
      const series = await this.loadHistory(wanted, before ?? null);
      if (sameParams) {
        // The checkpoints already hold the indicators: history only draws the charts.
        for (const s of series) {
          const pipeline = new AnalysisPipeline({
            windowMinutes: variant.windowMinutes,
            params: this.bound.signalParams,
            onWindow: (a) => this.views.get(s.vtSymbol)?.addWindow(a),
          });
          for (const bar of s.bars) pipeline.pushMinute(bar);
          this.viewPipelines.set(s.vtSymbol, pipeline);
        }
      } else {
        replay(series);
        this.lastMinute = state.lastMinuteTime;
      }
      replayed = series.reduce((n, s) => n + s.bars.length, 0);
    } else {
      this.engine = new TradingEngine(this.bound, engineOpts);
      const series = await this.loadHistory(wanted, this.replayFrom());
      replay(series);
      replayed = series.reduce((n, s) => n + s.bars.length, 0);
    }

    const windows = this.windowBarCount;
    if (windows < MIN_WINDOW_BARS_TO_TRADE && !this.degradedReason) {
      const short = this.instruments.filter((vt) => (this.engine?.pipeline(vt)?.windowBarCount ?? 0) < MIN_WINDOW_BARS_TO_TRADE);
      this.degradedReason = `only ${windows} window bars of history${this.instruments.length > 1 ? ` for ${short.join(', ')}` : ''} (${MIN_WINDOW_BARS_TO_TRADE} needed before trading)`;
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
    this.deps.log.info('restore finished', { replayed, windows, suppressed, fromState: state !== null, instruments: this.instruments.join(',') });
    this.commit([], []);
    // Main re-derives this worker's use from what it holds now, before any buy is asked for.
    this.deps.allocator?.restored(this.engine);
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
  private barLatencySeconds(vtSymbol: string, bar: OhlcvBar, readAtMs: number, nowMs: number): number {
    const live = this.launch.variant.feed.kind !== 'replay' && this.launch.sourceLabel !== 'simulated';
    if (live && CHINA_FUTURES_EXCHANGES.has(parseVtSymbol(vtSymbol).exchange)) return nowInZone(8, nowMs) - (bar.time + 60) + (nowMs % 1000) / 1000;
    return (nowMs - readAtMs) / 1000;
  }

  /** The last `wanted` 1-minute bars of each instrument before `before` (all when null). */
  private async loadHistory(wanted: number, before: number | null): Promise<InstrumentSeries[]> {
    const series: InstrumentSeries[] = [];
    for (const vt of this.instruments) {
      series.push({ vtSymbol: vt, bars: await this.deps.store.loadLast(keyOf(vt), wanted, before === null ? {} : { before }) });
    }
    return series;
  }

  /** Reads rows newer than the last ones processed, merged on the time axis; returns how many 1-minute bars it took. */
  async follow(): Promise<number> {
    if (!this.engine) return 0;
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
      const series: InstrumentSeries[] = [];
      // An instrument whose batch came back full may have more: no minute after its last one is taken yet.
      let horizon = Number.POSITIVE_INFINITY;
      for (const vt of this.instruments) {
        let bars = await this.deps.store.loadAfter(keyOf(vt), this.engine.lastMinuteOf(vt) ?? this.lastMinute ?? 0, limit);
        if (bars.length >= limit) horizon = Math.min(horizon, bars[bars.length - 1]?.time ?? horizon);
        if (end !== null) bars = bars.filter((b) => b.time <= end);
        series.push({ vtSymbol: vt, bars });
      }
      const consumed = mergeMinutes(
        series,
        (group) => {
          this.process(group);
          const latency = this.deps.onBarProcessed;
          if (latency) for (const g of group) latency(this.barLatencySeconds(g.vtSymbol, g.bar, readAt, this.clock().getTime()));
        },
        horizon,
      );
      const taken = consumed.reduce((n, c) => n + c, 0);
      total += taken;
      this.replayBars += taken;
      if (horizon === Number.POSITIVE_INFINITY || taken === 0) break;
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

  /**
   * Flatten: halts, then sends a market close for every open position (and cancels every
   * pending order); the closes fill at each instrument's next bar open, halted or not.
   */
  flatten(): void {
    if (!this.engine) return;
    this.halted = true;
    if (this.mode !== 'restoring') this.unfreeze();
    const events = this.engine.flatten();
    this.deps.allocator?.observe(events);
    this.deps.log.warn('flatten: trading halted, every position closed at the next bar open', { orders: events.ordersSent.length });
    this.record(events);
    this.commit([], [...events.ordersSent, ...events.cancelled]);
    this.writeSnapshot(true);
  }

  /** Graceful stop: the state is committed and the last snapshot says stopped. */
  stop(): void {
    if (this.engine) {
      // A grid takes its resting orders down (they are placed again from its state after the restart).
      const events = this.engine.stop();
      this.deps.allocator?.observe(events);
      this.record(events);
      this.commit([], [...events.cancelled]);
    }
    this.setStatus('stopped', 'stopped by the supervisor');
    this.deps.log.info('stopped');
    this.writeSnapshot(true);
  }

  /** Heartbeat: rewrites the snapshot so a live worker never looks stale, and watches the feed. */
  heartbeat(): void {
    this.checkStall();
    if (this.barsSinceCommit > 0 && this.engine) this.commit([], []);
    this.writeSnapshot(true);
  }

  private process(group: readonly InstrumentBar[]): void {
    const engine = this.engine as TradingEngine;
    const events = engine.onMinuteBars(group, this.mode);
    const time = group[0]?.bar.time;
    if (time !== undefined && (this.lastMinute === null || time > this.lastMinute)) this.lastMinute = time;
    this.barsSinceCommit += 1;
    this.deps.allocator?.observe(events);
    this.record(events);
    const changedOrders = [...events.ordersSent, ...events.ordersPlaced, ...events.cancelled, ...events.fills.map((f) => f.order)];
    if (events.fills.length > 0 || changedOrders.length > 0) {
      this.commit(
        events.fills.map((f) => f.trade),
        changedOrders,
      );
      for (const f of events.fills) {
        this.deps.log.info('trade', { id: f.trade.id, vtSymbol: f.trade.vtSymbol, side: f.trade.side, offset: f.trade.offset, price: f.trade.price, volume: f.trade.volume, pnl: f.trade.pnl });
      }
    } else if (this.barsSinceCommit >= this.commitEveryBars) {
      this.commit([], []);
    }
  }

  /** Logs an engine call's lines and alerts its refusals and a REDUCING entered. */
  private record(events: EngineEvents): void {
    for (const line of events.log) this.deps.log.write(line.level, line.message, line.context);
    const name = this.launch.variant.name;
    for (const d of events.decisions) {
      if (d.outcome === 'refused') {
        this.alert({ level: 'WARNING', title: 'Risk limit hit', message: `${name}: ${d.kind} ${d.direction} ${d.vtSymbol} refused (${d.refusal ?? '?'}): ${d.detail}`, key: `${name}:risk-limit:${d.refusal ?? d.kind}` });
      }
    }
    for (const a of events.alerts) this.alert({ level: a.level, title: a.title, message: `${name}: ${a.message}`, key: `${name}:${a.key}` });
    if (events.reducingEntered) {
      this.alert({ level: 'ERROR', title: 'Maximum daily loss passed: reducing only', message: `${name}: only orders that reduce a position pass until the next trading day`, key: `${name}:reducing` });
    }
  }

  private commit(trades: readonly TradeRow[], orders: readonly Order[]): void {
    const engine = this.engine;
    if (!engine) return;
    const variant = this.launch.variant.name;
    const state: VariantState = {
      version: VARIANT_STATE_VERSION,
      variant,
      strategy: this.bound.name,
      paramsHash: engine.paramsHash,
      instruments: [...this.instruments],
      lastMinuteTime: this.lastMinute,
      halted: this.halted,
      engine: engine.toState(),
    };
    const tradingDay = engine.tradingDay ?? '';
    this.deps.journal.commit(variant, {
      version: VARIANT_STATE_VERSION,
      state,
      savedAt: this.clock().toISOString(),
      trades: trades.map((t): JournalTrade => journalTradeOf(t, variant, tradingDay)),
      orders: orders.map((o): JournalOrder => ({ ...orderViewOf(o), variant })),
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
   * The universe's instruments: a contract as configured; a product given alone (`rb.SHFE`)
   * resolved to its dominant contract in the bar store (kept in the state from then on).
   */
  private async resolveUniverse(): Promise<string[]> {
    const out = new Set<string>();
    for (const configured of this.instruments) out.add(await this.resolveProduct(configured));
    return [...out].sort();
  }

  private async resolveProduct(configured: string): Promise<string> {
    const { symbol, exchange } = parseVtSymbol(configured);
    if (!/^[A-Za-z]+$/.test(symbol)) return configured;
    const overview = await this.deps.store.overview();
    const candidates = [];
    for (const o of overview) {
      if (o.exchange !== exchange || o.interval !== '1m' || o.symbol === symbol || productOf(o.symbol) !== symbol) continue;
      const last = await this.deps.store.loadLast({ symbol: o.symbol, exchange, interval: '1m' }, 240);
      const lastBar = last[last.length - 1];
      candidates.push({ symbol: `${o.symbol}.${exchange}`, volume: last.reduce((sum, b) => sum + b.volume, 0), openInterest: lastBar?.openInterest ?? 0 });
    }
    const dominant = pickDominant(candidates);
    if (dominant === null) return configured;
    this.deps.log.info('active contract chosen', { product: symbol, vtSymbol: dominant, candidates: candidates.length });
    return dominant;
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
    if (!this.instruments.some((vt) => CHINA_FUTURES_EXCHANGES.has(keyOf(vt).exchange))) return true;
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
    const engine = this.engine;
    const trading = engine?.snapshot(this.mode);
    const feed = variant.feed;
    return {
      version: SNAPSHOT_VERSION,
      variant: variant.name,
      strategy: variant.strategy,
      status: this.status,
      source: feed.kind === 'replay' ? 'replay' : this.launch.sourceLabel,
      pid: process.pid,
      updatedAt: this.clock().toISOString(),
      display: this.bound.display,
      instruments: this.instruments.map((vt) => {
        const pipeline = engine?.pipeline(vt) ?? this.viewPipelines.get(vt) ?? null;
        const view = this.views.get(vt) ?? new InstrumentView(vt, variant.windowMinutes);
        const last = engine?.lastMinuteOf(vt) ?? null;
        return view.toSnapshot(
          pipeline?.formingAnalysis() ?? null,
          pipeline?.forming() ?? null,
          pipeline?.signalState() ?? new AnalysisPipeline({ windowMinutes: variant.windowMinutes }).signalState(),
          last === null ? null : formatDatetime(last),
          pipeline?.minuteBarCount ?? 0,
        );
      }),
      activeContracts: trading?.activeContracts ?? {},
      risk: trading?.risk ?? null,
      positions: trading?.positions ?? [],
      orders: (trading?.orders ?? []).map((o) => ({ ...o, status: String(o.status) })),
      recentTrades: (trading?.recentTrades ?? []).map((t) => ({
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
      counters: trading?.counters ?? {},
      pnl: trading?.pnl ?? { realized: 0, unrealized: 0, today: 0 },
      restore: this.restoreInfo,
      message: this.statusMessage,
    };
  }
}

/** The configured universe: `vtSymbol` first, then `universe`, without repeats. */
function configuredInstruments(launch: WorkerLaunch): string[] {
  return [...new Set([launch.variant.vtSymbol, ...launch.variant.universe])];
}

function keyOf(vtSymbol: string): BarKey {
  const { symbol, exchange } = parseVtSymbol(vtSymbol);
  return { symbol, exchange, interval: '1m' };
}

function journalTradeOf(t: TradeRow, variant: string, tradingDay: string): JournalTrade {
  return { id: t.id, variant, vtSymbol: t.vtSymbol, side: t.side, offset: t.offset, price: t.price, volume: t.volume, time: t.time, commission: t.commission, pnl: t.pnl, tradingDay };
}
