/**
 * The bar store: vnpy's dbbardata/dbbaroverview tables, in SQLite or MySQL.
 *
 * Times cross this interface as local-as-UTC seconds (see shared/bar.ts); the stores keep
 * vnpy's naive local datetime text, so a database recorded by vnpy reads as it is.
 */
import type { OhlcvBar, StoredBar, BarOverview, BarInterval } from '../shared/bar.js';

export interface BarKey {
  symbol: string;
  exchange: string;
  interval: BarInterval;
}

export interface LoadRangeOptions {
  /** Inclusive lower bound, local-as-UTC seconds. */
  from?: number;
  /** Inclusive upper bound, local-as-UTC seconds. */
  to?: number;
  /** Bars per yielded chunk; default {@link DEFAULT_CHUNK_SIZE}. */
  chunkSize?: number;
}

export const DEFAULT_CHUNK_SIZE = 10_000;

export interface BarStore {
  readonly kind: 'sqlite' | 'mysql';
  /** Where the bars live, for messages: "SQLite /path/kestrel.db", "MySQL root@127.0.0.1:3306/test". Never a password. */
  readonly description: string;
  /** Ascending, inclusive bounds, streamed in chunks; never the whole table in one array. */
  loadRange(key: BarKey, opts?: LoadRangeOptions): AsyncIterable<OhlcvBar[]>;
  /** The last `count` bars (strictly before `before` when given), in ascending order. */
  loadLast(key: BarKey, count: number, opts?: { before?: number }): Promise<OhlcvBar[]>;
  /** Bars with time > after, ascending, at most `limit`: how a worker follows new rows. */
  loadAfter(key: BarKey, after: number, limit: number): Promise<OhlcvBar[]>;
  lastTime(key: BarKey): Promise<number | null>;
  /**
   * One transaction; insert-or-replace on (symbol, exchange, interval, datetime);
   * dbbaroverview (count, start, end) recomputed for each affected key. Returns rows written.
   * Throws on a read-only store.
   */
  write(bars: readonly StoredBar[]): Promise<number>;
  overview(): Promise<BarOverview[]>;
  close(): Promise<void>;
}

/** The bar store cannot be reached or opened: the message says what and where. */
export class BarStoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BarStoreUnavailableError';
  }
}

/** A write was attempted on a store opened read-only (e.g. a user's own vnpy database). */
export class BarStoreReadOnlyError extends Error {
  constructor(description: string) {
    super(`${description} is opened read-only; bars cannot be written to it`);
    this.name = 'BarStoreReadOnlyError';
  }
}

export function barKeyOf(bar: { symbol: string; exchange: string; interval: BarInterval }): BarKey {
  return { symbol: bar.symbol, exchange: bar.exchange, interval: bar.interval };
}

export function describeBarKey(key: BarKey): string {
  return `${key.symbol}.${key.exchange} ${key.interval}`;
}

/**
 * The user described the store wrongly (a malformed MySQL URL, conflicting options): a usage
 * error, which the CLI reports with exit code 2.
 */
export class BarStoreConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BarStoreConfigError';
  }
}
