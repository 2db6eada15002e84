import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { SimulatedMarket, backfillStart, type SimulatedInstrument } from '../../core/market/simulatedMarket.js';
import { TradingCalendar } from '../../core/market/tradingCalendar.js';
import type { BarStore } from '../../io/barStore.js';
import type { StoredBar } from '../../shared/bar.js';
import { formatDatetime, nowInZone } from '../../shared/time.js';

export interface DemoMarketOptions {
  /** The writable bar store the workers follow. */
  store: BarStore;
  /** Where the market's own state is kept, so a restart continues the same series. */
  stateFile: string;
  seed: number;
  /** Simulated minutes per real minute; 1 = real time. */
  speed: number;
  /** Trading days of history written before going live on a fresh data directory. */
  backfillDays?: number;
  now?: () => number;
  onProgress?: (message: string) => void;
  /**
   * A write failed: true when the disk is full (the market pauses, keeps the minutes it could
   * not write and retries them on each tick); false rethrows. Default: always rethrow.
   */
  onWriteFailure?: (path: string, err: unknown) => boolean;
  /** The bar store's file, for the message when writing to it fails. */
  storePath?: string;
  /** What it simulates (the futures demo's products by default) and on which calendar. */
  instruments?: readonly SimulatedInstrument[];
  calendar?: TradingCalendar;
  /** The exchange clock's offset from UTC: 8 for China's futures (default), 0 for crypto. */
  utcOffsetHours?: number;
  /** Names the market in its progress lines. */
  label?: string;
}

const CHINA_UTC_OFFSET_HOURS = 8;
const BACKFILL_BATCH_MINUTES = 2_000;
/** Never let one timer tick write an unbounded burst, whatever the speed. */
const MAX_MINUTES_PER_TICK = 2_000;

/**
 * The built-in demo: a simulated futures market writing 1-minute bars into the bar store,
 * exactly where a vnpy DataRecorder would. Workers cannot tell it from a real recorder;
 * only the exchange name 'SIM' and the `simulated` label say what it is.
 */
export class DemoMarket {
  private market: SimulatedMarket;
  private readonly calendar: TradingCalendar;
  private timer: NodeJS.Timeout | null = null;
  private liveSince = 0;
  private minutesSinceLive = 0;
  private lastTime: number | null = null;
  private writing: Promise<void> = Promise.resolve();
  private ticking = false;
  /** Minutes made but refused by a full disk, stored before any newer one. */
  private blocked: StoredBar[] | null = null;
  private backfilled = false;

  constructor(private readonly opts: DemoMarketOptions) {
    this.calendar = opts.calendar ?? new TradingCalendar();
    this.market = this.load() ?? this.fresh();
  }

  /** Backfills history on a fresh data directory, so every variant restores fully at once. */
  async prepare(): Promise<number> {
    const liveStart = this.liveStart();
    let written = 0;
    while (!this.blocked && this.market.peekNextTime() < liveStart) {
      const batch: StoredBar[] = [];
      for (let i = 0; i < BACKFILL_BATCH_MINUTES && this.market.peekNextTime() < liveStart; i++) {
        batch.push(...this.market.nextMinute());
      }
      if (await this.commit(batch)) written += batch.length;
    }
    this.backfilled = !this.blocked;
    if (written > 0) this.opts.onProgress?.(`${this.opts.label ?? 'demo market'}: backfilled ${written} one-minute bars`);
    return written;
  }

  start(): void {
    if (this.timer) return;
    const now = this.opts.now ?? Date.now;
    this.liveSince = now();
    this.minutesSinceLive = 0;
    const tickMs = Math.min(1_000, Math.max(20, 60_000 / this.opts.speed));
    this.timer = setInterval(() => {
      if (this.ticking) return;
      this.ticking = true;
      this.writing = this.writing.then(() => this.tick()).finally(() => {
        this.ticking = false;
      });
    }, tickMs);
  }

  /** True while a full disk holds the market: no new minute is made until the last ones are stored. */
  paused(): boolean {
    return this.blocked !== null;
  }

  private async tick(): Promise<void> {
    if (this.blocked && !(await this.commit(this.blocked))) return;
    if (!this.backfilled) {
      await this.prepare();
      if (!this.backfilled) return;
    }
    const now = this.opts.now ?? Date.now;
    const due = Math.floor(((now() - this.liveSince) * this.opts.speed) / 60_000) - this.minutesSinceLive;
    if (due <= 0) return;
    // After a pause the market catches up at this pace: nothing skipped, nothing in one burst.
    const minutes = Math.min(due, MAX_MINUTES_PER_TICK);
    this.minutesSinceLive += minutes;
    const batch: StoredBar[] = [];
    for (let i = 0; i < minutes; i++) batch.push(...this.market.nextMinute());
    await this.commit(batch);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.writing;
  }

  /** Simulated minutes generated since start() (the backfill not counted); closed-market minutes are skipped, not counted. */
  simulatedMinutes(): number {
    return this.minutesSinceLive;
  }

  /** Exchange time of the last simulated minute written. */
  simulatedTime(): string | null {
    return this.lastTime === null ? null : formatDatetime(this.lastTime);
  }

  /** Stores a batch and the market's state after it; false when a full disk refused them (kept in `blocked`). */
  private async commit(batch: StoredBar[]): Promise<boolean> {
    if (batch.length === 0) return true;
    let path = this.opts.storePath ?? 'the bar store';
    try {
      await this.opts.store.write(batch);
      // The state follows the store: written only after the bars it describes are committed.
      path = this.opts.stateFile;
      const tmp = `${this.opts.stateFile}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.market.toState()));
      renameSync(tmp, this.opts.stateFile);
    } catch (err) {
      if (!this.opts.onWriteFailure?.(path, err)) throw err;
      // Retried as it is (insert-or-replace makes a repeat harmless), before anything newer.
      this.blocked = batch;
      return false;
    }
    this.blocked = null;
    this.lastTime = batch[batch.length - 1]?.time ?? this.lastTime;
    return true;
  }

  private liveStart(): number {
    const now = nowInZone(this.opts.utcOffsetHours ?? CHINA_UTC_OFFSET_HOURS, (this.opts.now ?? Date.now)());
    return now - (now % 60);
  }

  private fresh(): SimulatedMarket {
    const start = backfillStart(this.calendar, this.liveStart(), this.opts.backfillDays ?? 30);
    return new SimulatedMarket({ seed: this.opts.seed, calendar: this.calendar, startTime: start, ...(this.opts.instruments ? { instruments: this.opts.instruments } : {}) });
  }

  private load(): SimulatedMarket | null {
    if (!existsSync(this.opts.stateFile)) return null;
    try {
      const market = SimulatedMarket.fromState(JSON.parse(readFileSync(this.opts.stateFile, 'utf8')), {
        calendar: this.calendar,
      });
      this.opts.onProgress?.(`${this.opts.label ?? 'demo market'}: continuing from its saved state`);
      return market;
    } catch (err) {
      this.opts.onProgress?.(`${this.opts.label ?? 'demo market'}: saved state unreadable (${(err as Error).message}); starting anew`);
      return null;
    }
  }
}
