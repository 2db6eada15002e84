import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { SimulatedMarket, backfillStart } from '../../core/market/simulatedMarket.js';
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
  private readonly calendar = new TradingCalendar();
  private timer: NodeJS.Timeout | null = null;
  private liveSince = 0;
  private minutesSinceLive = 0;
  private lastTime: number | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly opts: DemoMarketOptions) {
    this.market = this.load() ?? this.fresh();
  }

  /** Backfills history on a fresh data directory, so every variant restores fully at once. */
  async prepare(): Promise<number> {
    const liveStart = this.liveStart();
    let written = 0;
    while (this.market.peekNextTime() < liveStart) {
      const batch: StoredBar[] = [];
      for (let i = 0; i < BACKFILL_BATCH_MINUTES && this.market.peekNextTime() < liveStart; i++) {
        batch.push(...this.market.nextMinute());
      }
      written += await this.commit(batch);
    }
    if (written > 0) this.opts.onProgress?.(`demo market: backfilled ${written} one-minute bars`);
    return written;
  }

  start(): void {
    if (this.timer) return;
    const now = this.opts.now ?? Date.now;
    this.liveSince = now();
    this.minutesSinceLive = 0;
    const tickMs = Math.min(1_000, Math.max(20, 60_000 / this.opts.speed));
    this.timer = setInterval(() => {
      const due = Math.floor(((now() - this.liveSince) * this.opts.speed) / 60_000) - this.minutesSinceLive;
      if (due <= 0) return;
      const minutes = Math.min(due, MAX_MINUTES_PER_TICK);
      this.minutesSinceLive += minutes;
      const batch: StoredBar[] = [];
      for (let i = 0; i < minutes; i++) batch.push(...this.market.nextMinute());
      this.writing = this.writing.then(() => this.commit(batch).then(() => undefined));
    }, tickMs);
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

  private async commit(batch: StoredBar[]): Promise<number> {
    if (batch.length === 0) return 0;
    const n = await this.opts.store.write(batch);
    this.lastTime = batch[batch.length - 1]?.time ?? this.lastTime;
    // The state follows the store: written only after the bars it describes are committed.
    const tmp = `${this.opts.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.market.toState()));
    renameSync(tmp, this.opts.stateFile);
    return n;
  }

  private liveStart(): number {
    const now = nowInZone(CHINA_UTC_OFFSET_HOURS, (this.opts.now ?? Date.now)());
    return now - (now % 60);
  }

  private fresh(): SimulatedMarket {
    const start = backfillStart(this.calendar, this.liveStart(), this.opts.backfillDays ?? 30);
    return new SimulatedMarket({ seed: this.opts.seed, calendar: this.calendar, startTime: start });
  }

  private load(): SimulatedMarket | null {
    if (!existsSync(this.opts.stateFile)) return null;
    try {
      const market = SimulatedMarket.fromState(JSON.parse(readFileSync(this.opts.stateFile, 'utf8')), {
        calendar: this.calendar,
      });
      this.opts.onProgress?.('demo market: continuing from its saved state');
      return market;
    } catch (err) {
      this.opts.onProgress?.(`demo market: saved state unreadable (${(err as Error).message}); starting anew`);
      return null;
    }
  }
}
