import { join } from 'node:path';
import { AnalysisPipeline } from '../core/analysisPipeline.js';
import type { Order, TradeRow } from '../core/broker/paperBroker.js';
import { calendarForExchange } from '../core/market/continuousCalendar.js';
import type { TradingCalendar } from '../core/market/tradingCalendar.js';
import type { AllocatorCheck } from '../core/risk/riskGate.js';
import { pickDominant } from '../core/strategy/activeContract.js';
import { dailyVolumesOf, overtakingContract, type DailyVolumes } from '../core/strategy/contractRoll.js';
import { TradingEngine, orderViewOf, type ContractRollPlan, type EngineEvents, type EngineOptions } from '../core/strategy/engine.js';
import { fewestWindowBars } from '../core/strategy/warmUp.js';
import { mergeMinutes, type InstrumentSeries } from '../core/strategy/minuteMerge.js';
import { strategyFor } from '../core/strategy/registry.js';
import type { BoundStrategy, InstrumentBar, TradingMode } from '../core/strategy/strategy.js';
import type { BarKey, BarStore } from '../io/barStore.js';
import type { JsonLinesLog } from '../io/jsonLinesLog.js';
import { writeSnapshotAtomic } from '../io/snapshotFile.js';
import type { JournalOrder, TradingJournal } from '../io/tradingJournal.js';
import { parseVtSymbol, productOf, type OhlcvBar } from '../shared/bar.js';
import { RISK_REFUSAL_REASONS, type RiskRefusalReason } from '../shared/risk.js';
import { instrumentTailOf, tradingTailOf, type InstrumentUpdate, type TradingUpdate } from '../shared/liveUpdate.js';
import { SNAPSHOT_VERSION, type InstrumentSnapshot, type Snapshot, type SnapshotInput, type VariantStatus } from '../shared/snapshot.js';
import { SECONDS_PER_DAY, formatDatetime, nowInZone, parseDatetime } from '../shared/time.js';
import { journalTradeOf, tradeFillOf } from '../shared/trade.js';
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
  /** Bars processed: each instrument's live tail and the book, for main to show at once. */
  onLive?: (update: { updatedAt: string; instruments: InstrumentUpdate[]; trading: TradingUpdate }) => void;
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

export { MIN_WINDOW_BARS_TO_TRADE } from '../core/strategy/warmUp.js';
const FOLLOW_BATCH = 5_000;
/**
 * How far back the roll check reads volumes: `rollDays` trading days plus weekends and a long
 * holiday (the Spring Festival closes China's exchanges for about nine days).
 */
const ROLL_LOOKBACK_EXTRA_DAYS = 14;

/** A trading day's first minute: the rolls decided for it (with the new contracts' history), applied right after it. */
interface DayStart {
  time: number;
  rolls: { plan: ContractRollPlan; history: OhlcvBar[] }[];
}
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
  /** A snapshot write held back by the rate limit, due when the interval has passed. */
  private trailingSnapshot: NodeJS.Timeout | null = null;
  private lastNewBarAt: number;
  private stalled = false;
  private replayStartedAt = 0;
  private replayBars = 0;
  private dayStart: DayStart | null = null;
  /** The universe's entries given as products (`rb.SHFE`): the ones that roll. */
  private readonly rollingProducts: string[];
  private restoreInfo: NonNullable<Snapshot['restore']> = {
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
    this.rollingProducts = this.instruments.filter((vt) => /^[A-Za-z]+$/.test(parseVtSymbol(vt).symbol));
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

  /** The fewest window bars any instrument has (trading waits for the strategy's windowBarsToTrade on each). */
  get windowBarCount(): number {
    return this.engine ? fewestWindowBars(this.engine, this.instruments) : 0;
  }

  get tradingEngine(): TradingEngine | null {
    return this.engine;
  }

  /** The risk gate's refusals per reason since the variant began (restored with its state); all 0 before the engine exists. */
  refusalCounts(): Record<RiskRefusalReason, number> {
    const engine = this.engine;
    return Object.fromEntries(RISK_REFUSAL_REASONS.map((r) => [r, engine ? engine.refusals(r) : 0])) as Record<RiskRefusalReason, number>;
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
    const needed = this.bound.windowBarsToTrade;
    if (windows < needed && !this.degradedReason) {
      const short = this.instruments.filter((vt) => (this.engine?.pipeline(vt)?.windowBarCount ?? 0) < needed);
      this.degradedReason = `only ${windows} window bars of history${this.instruments.length > 1 ? ` for ${short.join(', ')}` : ''} (${needed} needed before trading)`;
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
    if (this.exchangeClock(vtSymbol)) return nowInZone(8, nowMs) - (bar.time + 60) + (nowMs % 1000) / 1000;
    return (nowMs - readAtMs) / 1000;
  }

  /** Per instrument, decided once: the latency is measured on the exchange's clock (a live feed of China's futures exchanges). */
  private readonly onExchangeClock = new Map<string, boolean>();
  private exchangeClock(vtSymbol: string): boolean {
    let known = this.onExchangeClock.get(vtSymbol);
    if (known === undefined) {
      const live = this.launch.variant.feed.kind !== 'replay' && this.launch.sourceLabel !== 'simulated';
      known = live && CHINA_FUTURES_EXCHANGES.has(parseVtSymbol(vtSymbol).exchange);
      this.onExchangeClock.set(vtSymbol, known);
    }
    return known;
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
      // A trading day's first minute goes alone, after the roll check; a batch stops at the day's end.
      const until = await this.dayBoundary(series, horizon);
      const consumed = mergeMinutes(
        series,
        (group) => {
          this.process(group);
          const latency = this.deps.onBarProcessed;
          if (latency) {
            // One clock read per minute processed, not per bar: the bars of a minute are processed together.
            const now = this.clock().getTime();
            for (const g of group) latency(this.barLatencySeconds(g.vtSymbol, g.bar, readAt, now));
          }
        },
        until,
      );
      const taken = consumed.reduce((n, c) => n + c, 0);
      total += taken;
      this.replayBars += taken;
      if ((horizon === Number.POSITIVE_INFINITY && until === horizon) || taken === 0) break;
    }
    if (total > 0) {
      this.lastNewBarAt = this.clock().getTime();
      if (this.stalled) {
        this.stalled = false;
        this.alert({ level: 'INFO', title: 'Feed resumed', message: `${this.launch.variant.name}: new bars again` });
      }
      this.sendLive();
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
    // Trading starts at the first minute with enough window bars, whatever the batch: as a backtest does.
    if (this.mode === 'degraded' && this.degradedReason?.startsWith('only ') && this.windowBarCount >= this.bound.windowBarsToTrade) {
      this.degradedReason = null;
      this.deps.log.info('enough history accumulated: trading enabled', { windows: this.windowBarCount });
      this.unfreeze();
    }
    const events = engine.onMinuteBars(group, this.mode);
    const time = group[0]?.bar.time;
    if (time !== undefined && (this.lastMinute === null || time > this.lastMinute)) this.lastMinute = time;
    this.barsSinceCommit += 1;
    this.deps.allocator?.observe(events);
    this.record(events);
    const changedOrders = [...events.ordersSent, ...events.ordersPlaced, ...events.cancelled, ...events.fills.map((f) => f.order)];
    const dayStart = this.dayStart;
    if (dayStart !== null && dayStart.time === time) {
      this.dayStart = null;
      // The rolls and the minute that decided them are committed in one transaction: a worker
      // killed before it re-decides them from the same store figures, one killed after it finds
      // the day begun and the roll's orders in its state.
      const trades = events.fills.map((f) => f.trade);
      this.applyRolls(dayStart, changedOrders);
      this.commit(trades, changedOrders);
      return;
    }
    if (events.fills.length > 0 || changedOrders.length > 0) {
      this.commit(
        events.fills.map((f) => f.trade),
        changedOrders,
      );
      for (const f of events.fills) {
        this.deps.log.info('trade', tradeFillOf(f.trade));
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
      trades: trades.map((t) => journalTradeOf(t, variant, tradingDay)),
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
   * Where this pass of `follow` stops merging (inclusive). At the first minute of a new trading
   * day it is that minute alone, and the contract-roll check runs before it (reading the store);
   * otherwise the last minute before the next trading day, so each day's first minute gets its
   * own check.
   */
  private async dayBoundary(series: readonly InstrumentSeries[], horizon: number): Promise<number> {
    const engine = this.engine as TradingEngine;
    // A universe of contracts only never rolls: its batches need no cut.
    if (this.rollingProducts.length === 0) return horizon;
    let first = Number.POSITIVE_INFINITY;
    for (const s of series) first = Math.min(first, s.bars[0]?.time ?? first);
    if (first === Number.POSITIVE_INFINITY) return horizon;
    const day = this.calendar.tradingDay(first);
    const current = engine.tradingDay;
    if (current !== null && day > current) {
      this.dayStart = { time: first, rolls: await this.rollsFor(day, first) };
      return Math.min(horizon, first);
    }
    let next = Number.POSITIVE_INFINITY;
    for (const s of series) {
      // Trading days only grow with time: the first bar of a later day by bisection.
      let lo = 0;
      let hi = s.bars.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.calendar.tradingDay((s.bars[mid] as OhlcvBar).time) > day) hi = mid;
        else lo = mid + 1;
      }
      next = Math.min(next, s.bars[lo]?.time ?? next);
    }
    return Math.min(horizon, next - 1);
  }

  /**
   * The contract-roll check at the first minute (`time`) of trading day `day`: for each product
   * of the universe (given as `rb.SHFE`, not as a contract), the daily volumes before `time` of
   * its active contract and of every other contract of it in the store; a contract that
   * out-traded the active one on each of the last `rollDays` trading days is rolled to (with its
   * history, to build its indicators). Only bars before `time` count, so a check repeated after
   * a restart decides the same whatever has been written since.
   */
  private async rollsFor(day: string, time: number): Promise<DayStart['rolls']> {
    const engine = this.engine as TradingEngine;
    const { variant } = this.launch;
    const rolls: DayStart['rolls'] = [];
    const products = this.rollingProducts;
    const from = time - (variant.rollDays + ROLL_LOOKBACK_EXTRA_DAYS) * SECONDS_PER_DAY;
    const fromText = formatDatetime(from);
    const overview = await this.deps.store.overview();
    for (const configured of products) {
      const { symbol: product, exchange } = parseVtSymbol(configured);
      const active = engine.activeContract(product);
      if (active === null) continue;
      const candidates = overview
        .filter((o) => o.exchange === exchange && o.interval === '1m' && o.symbol !== product && productOf(o.symbol) === product && o.end >= fromText)
        .map((o) => `${o.symbol}.${exchange}`)
        .filter((vt) => vt !== active);
      if (candidates.length === 0) continue;
      const volumes: Record<string, Record<string, number>> = {};
      for (const vt of [active, ...candidates]) {
        const bars: OhlcvBar[] = [];
        for await (const chunk of this.deps.store.loadRange(keyOf(vt), { from, to: time - 1 })) bars.push(...chunk);
        const byDay = dailyVolumesOf(bars, (t) => this.calendar.tradingDay(t));
        for (const d of Object.keys(byDay)) if (d >= day) delete byDay[d];
        volumes[vt] = byDay;
      }
      const verdict = overtakingContract(active, volumes as DailyVolumes, { days: variant.rollDays });
      this.deps.log.info(verdict.to === null ? 'contract roll check: no roll' : 'contract roll check: roll', { product: configured, active, tradingDay: day, to: verdict.to, detail: verdict.detail });
      if (verdict.to === null) continue;
      const history = this.instruments.includes(verdict.to) ? [] : await this.deps.store.loadLast(keyOf(verdict.to), this.launch.restoreWindowBars * variant.windowMinutes, { before: time });
      rolls.push({ plan: { product, to: verdict.to, policy: variant.roll, tradingDay: day }, history });
    }
    return rolls;
  }

  /**
   * Applies the rolls decided for a day's first minute (right after it went through the engine)
   * and lets go of contracts the variant no longer needs (neither active, nor holding a position
   * or an order, nor configured as a contract).
   */
  private applyRolls(dayStart: DayStart, changedOrders: Order[]): void {
    const engine = this.engine as TradingEngine;
    const { variant } = this.launch;
    for (const { plan, history } of dayStart.rolls) {
      const from = engine.activeContract(plan.product);
      if (from === null || from === plan.to) continue;
      if (!this.instruments.includes(plan.to)) {
        this.instruments = [...this.instruments, plan.to].sort();
        this.views.set(plan.to, new InstrumentView(plan.to, variant.windowMinutes));
        engine.warmUp(plan.to, history);
      }
      const moved = engine.positions().filter((p) => p.vtSymbol === from);
      const events = engine.rollContract(plan, this.mode);
      this.record(events);
      changedOrders.push(...events.ordersSent, ...events.cancelled);
      const { exchange } = parseVtSymbol(from);
      const held = moved.map((p) => `${p.direction} ${String(p.volume)}`).join(', ');
      const what =
        held === '' ? 'no position' : plan.policy === 'keep' ? `position kept on ${from} (${held})` : engine.pendingRolls.some((r) => r.to === plan.to) ? `${held}: orders wait until trading resumes` : plan.policy === 'move' ? `${held} moved at the next bar's open` : `${held} closed at the next bar's open`;
      this.alert({
        level: 'INFO',
        title: 'Contract roll',
        message: `${variant.name}: ${plan.product}.${exchange} ${parseVtSymbol(from).symbol} → ${parseVtSymbol(plan.to).symbol}; ${what}`,
        key: `${variant.name}:roll:${plan.product}:${plan.to}`,
      });
    }
    const explicit = new Set(configuredInstruments(this.launch));
    const needed = new Set(engine.symbolsNeeded());
    const kept = this.instruments.filter((vt) => needed.has(vt) || explicit.has(vt));
    if (kept.length !== this.instruments.length) {
      for (const vt of this.instruments) if (!kept.includes(vt)) this.views.delete(vt);
      this.deps.log.info('contracts no longer followed', { dropped: this.instruments.filter((vt) => !kept.includes(vt)).join(',') });
      this.instruments = kept;
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
      if (this.engine !== null && this.engine.pendingRolls.length > 0) {
        const events = this.engine.resumeRolls('live');
        this.deps.log.info('trading resumed: the orders of pending contract rolls sent', { orders: events.ordersSent.length });
        this.record(events);
        this.commit([], [...events.ordersSent, ...events.cancelled]);
      }
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
    const wait = this.snapshotIntervalMs - (now - this.lastSnapshotAt);
    if (!force && wait > 0) {
      // The last bars of a burst must not wait for the next bar or the heartbeat: write them when the interval ends.
      this.trailingSnapshot ??= setTimeout(() => {
        this.trailingSnapshot = null;
        this.writeSnapshot(true);
      }, wait).unref();
      return;
    }
    if (this.trailingSnapshot) clearTimeout(this.trailingSnapshot);
    this.trailingSnapshot = null;
    this.lastSnapshotAt = now;
    writeSnapshotAtomic(this.monitorDir, this.buildSnapshot());
  }

  /** The live tail of what `follow` just processed; the snapshot file follows at its bounded rate. */
  private sendLive(): void {
    const onLive = this.deps.onLive;
    if (!onLive) return;
    onLive({ updatedAt: this.clock().toISOString(), instruments: this.instrumentSnapshots().map(instrumentTailOf), trading: tradingTailOf(this.tradingBlock()) });
  }

  private instrumentSnapshots(): InstrumentSnapshot[] {
    const { variant } = this.launch;
    const engine = this.engine;
    return this.instruments.map((vt) => {
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
    });
  }

  private tradingBlock(): Pick<Snapshot, 'activeContracts' | 'pendingRolls' | 'risk' | 'positions' | 'orders' | 'recentTrades' | 'counters' | 'pnl' | 'restore'> {
    const trading = this.engine?.snapshot(this.mode);
    return {
      activeContracts: trading?.activeContracts ?? {},
      pendingRolls: trading?.pendingRolls ?? [],
      risk: trading?.risk ?? null,
      positions: trading?.positions ?? [],
      orders: (trading?.orders ?? []).map((o) => ({ ...o, status: String(o.status) })),
      recentTrades: (trading?.recentTrades ?? []).map(tradeFillOf),
      counters: trading?.counters ?? {},
      pnl: trading?.pnl ?? { realized: 0, unrealized: 0, today: 0 },
      restore: this.restoreInfo,
    };
  }

  buildSnapshot(): SnapshotInput {
    const { variant } = this.launch;
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
      instruments: this.instrumentSnapshots(),
      ...this.tradingBlock(),
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

