/**
 * Row ↔ bar helpers shared by the SQLite and MySQL bar stores.
 */
import type { OhlcvBar, StoredBar } from '../shared/bar.js';
import { formatDatetime } from '../shared/time.js';
import { DEFAULT_CHUNK_SIZE, type BarKey } from './barStore.js';
import { storedDatetimeToTime } from './datetimeText.js';

/** A raw row in BAR_COLUMNS order. */
export type RawBarRow = [string, number, number, number, number, number, number, number];

function rowToBar(row: RawBarRow, where: string): OhlcvBar {
  const time = storedDatetimeToTime(row[0]);
  if (Number.isNaN(time)) {
    throw new Error(`${where}: stored datetime "${row[0]}" is not 'YYYY-MM-DD HH:MM:SS'`);
  }
  return {
    time,
    open: row[1],
    high: row[2],
    low: row[3],
    close: row[4],
    volume: row[5],
    turnover: row[6],
    openInterest: row[7],
  };
}

export function rowsToBars(rows: readonly RawBarRow[], where: string): OhlcvBar[] {
  const bars = new Array<OhlcvBar>(rows.length);
  for (let i = 0; i < rows.length; i++) bars[i] = rowToBar(rows[i] as RawBarRow, where);
  return bars;
}

export function chunkSizeOf(chunkSize: number | undefined): number {
  if (chunkSize === undefined) return DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  }
  return chunkSize;
}

const BAR_NUMBER_FIELDS = ['open', 'high', 'low', 'close', 'volume', 'turnover', 'openInterest'] as const;

/** Refuses a bar that would store garbage; the index says which one in the batch. */
export function checkBar(bar: StoredBar, index: number): void {
  if (!Number.isInteger(bar.time)) {
    throw new RangeError(`bar ${index} (${bar.symbol}.${bar.exchange}): time ${bar.time} is not whole seconds`);
  }
  if (!bar.symbol || !bar.exchange || !bar.interval) {
    throw new RangeError(`bar ${index}: symbol, exchange and interval must not be empty`);
  }
  for (const field of BAR_NUMBER_FIELDS) {
    if (!Number.isFinite(bar[field])) {
      throw new RangeError(
        `bar ${index} (${bar.symbol}.${bar.exchange} ${formatDatetime(bar.time)}): ${field} ${bar[field]} is not a finite number`,
      );
    }
  }
}

/** Overview datetimes in the contract's 'YYYY-MM-DD HH:MM:SS' shape, whatever the writer left. */
export function normaliseDatetimeText(text: string): string {
  const time = storedDatetimeToTime(text);
  return Number.isNaN(time) ? text : formatDatetime(time);
}


/** A bar's values in the column order of vnpy's dbbardata insert, as both stores write them. */
export function vnpyRowValues(bar: StoredBar): [string, string, string, string, number, number, number, number, number, number, number] {
  return [bar.symbol, bar.exchange, formatDatetime(bar.time), bar.interval, bar.volume, bar.turnover, bar.openInterest, bar.open, bar.high, bar.low, bar.close];
}

/** Remembers each distinct (symbol, exchange, interval) of a batch, whose overview must be redone. */
export function noteBarKey(keys: Map<string, BarKey>, bar: StoredBar): void {
  const k = `${bar.symbol}\u0000${bar.exchange}\u0000${bar.interval}`;
  if (!keys.has(k)) keys.set(k, { symbol: bar.symbol, exchange: bar.exchange, interval: bar.interval });
}
