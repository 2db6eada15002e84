/**
 * The columnar bar cache: one Apache Arrow IPC file of 1-minute bars per vtSymbol under
 * `<data>/cache/`, so that a backtest reads its bars at memory speed instead of the bar store's
 * ~1 M rows/s. Built on first use, rebuilt when the series' overview (count, start, end) in the
 * bar store no longer matches the one the file was built from (kept in a small sidecar, so the
 * check never opens the big file). Columns are float64: `time` is local-as-UTC seconds (exchange
 * time read as UTC), the rest as the store has them — pandas/polars open the files as they are.
 *
 * Reads land in a SharedArrayBuffer and the columns are views onto it (Arrow's body buffers are
 * 8-byte aligned), so the threads of a sweep share one copy of the bars.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import { BAR_COLUMNS, type BarColumn, type ColumnarBars } from '../../core/backtest/columnarBars.js';
import { parseVtSymbol, type BarOverview } from '../../shared/bar.js';
import type { BarKey, BarStore } from '../barStore.js';

/** Bumped when the file layout changes: an older file is rebuilt. */
const CACHE_FORMAT = 1;

interface CacheStamp {
  format: number;
  count: number;
  start: string;
  end: string;
}

/** Bars that threads can share: the raw Arrow file in shared memory and where each column is. */
export interface SharedBars {
  vtSymbol: string;
  length: number;
  buffer: SharedArrayBuffer;
  /** Byte offset of each column's float64 values in `buffer`. */
  offsets: Record<BarColumn, number>;
}

export function cacheFileOf(cacheDir: string, vtSymbol: string): string {
  return join(cacheDir, `${vtSymbol}.1m.arrow`);
}

function stampFileOf(cacheDir: string, vtSymbol: string): string {
  return join(cacheDir, `${vtSymbol}.1m.json`);
}

/** The vtSymbol has no 1-minute bars in the store (the message names the store). */
export class UnknownSymbolError extends Error {
  constructor(
    readonly vtSymbol: string,
    where: string,
  ) {
    super(`no 1-minute bars of ${vtSymbol} in ${where}`);
    this.name = 'UnknownSymbolError';
  }
}

function keyOf(vtSymbol: string): BarKey {
  const { symbol, exchange } = parseVtSymbol(vtSymbol);
  return { symbol, exchange, interval: '1m' };
}

function readStamp(cacheDir: string, vtSymbol: string): CacheStamp | null {
  try {
    return JSON.parse(readFileSync(stampFileOf(cacheDir, vtSymbol), 'utf8')) as CacheStamp;
  } catch {
    return null;
  }
}

function fresh(stamp: CacheStamp | null, overview: BarOverview): boolean {
  return stamp !== null && stamp.format === CACHE_FORMAT && stamp.count === overview.count && stamp.start === overview.start && stamp.end === overview.end;
}

/** Writes the columns as one Arrow IPC file (tmp + rename, so a reader never sees half a file). */
export function writeBarColumns(file: string, bars: ColumnarBars): void {
  const columns: Record<string, Float64Array> = {};
  for (const c of BAR_COLUMNS) columns[c] = bars[c].subarray(0, bars.length);
  const bytes = tableToIPC(tableFromArrays(columns), 'file');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
}

/**
 * Makes sure the vtSymbol's cache file matches the store's overview, building it when it does not.
 * Returns the file and whether it was (re)built.
 * @throws UnknownSymbolError when the store has no 1-minute bars of the vtSymbol.
 */
export async function ensureBarCache(store: BarStore, cacheDir: string, vtSymbol: string, overviews?: readonly BarOverview[]): Promise<{ file: string; built: boolean; count: number }> {
  const key = keyOf(vtSymbol);
  const overview = (overviews ?? (await store.overview())).find((o) => o.symbol === key.symbol && o.exchange === key.exchange && o.interval === '1m');
  if (overview === undefined || overview.count === 0) throw new UnknownSymbolError(vtSymbol, store.description);
  const file = cacheFileOf(cacheDir, vtSymbol);
  if (existsSync(file) && fresh(readStamp(cacheDir, vtSymbol), overview)) return { file, built: false, count: overview.count };
  mkdirSync(cacheDir, { recursive: true });
  const columns = {} as Record<BarColumn, Float64Array>;
  for (const c of BAR_COLUMNS) columns[c] = new Float64Array(overview.count);
  let n = 0;
  for await (const chunk of store.loadRange(key, { chunkSize: 50_000 })) {
    for (const bar of chunk) {
      // The overview can lag a concurrent writer by a few rows: grow rather than drop them.
      if (n === columns.time.length) for (const c of BAR_COLUMNS) columns[c] = growTo(columns[c], n * 2);
      columns.time[n] = bar.time;
      columns.open[n] = bar.open;
      columns.high[n] = bar.high;
      columns.low[n] = bar.low;
      columns.close[n] = bar.close;
      columns.volume[n] = bar.volume;
      columns.turnover[n] = bar.turnover;
      columns.openInterest[n] = bar.openInterest;
      n++;
    }
  }
  writeBarColumns(file, { vtSymbol, length: n, ...columns });
  const stamp: CacheStamp = { format: CACHE_FORMAT, count: overview.count, start: overview.start, end: overview.end };
  writeFileSync(stampFileOf(cacheDir, vtSymbol), `${JSON.stringify(stamp)}\n`);
  return { file, built: true, count: n };
}

function growTo(a: Float64Array, size: number): Float64Array {
  const b = new Float64Array(size);
  b.set(a);
  return b;
}

/** Reads an Arrow bar file into shared memory; the columns are located, not copied. */
export function readSharedBars(file: string, vtSymbol: string): SharedBars {
  const fd = openSync(file, 'r');
  let buffer: SharedArrayBuffer;
  try {
    const size = fstatSync(fd).size;
    buffer = new SharedArrayBuffer(size);
    const bytes = new Uint8Array(buffer);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, bytes, at, size - at, at);
      if (n === 0) break;
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  const table = tableFromIPC(new Uint8Array(buffer));
  const offsets = {} as Record<BarColumn, number>;
  for (const c of BAR_COLUMNS) {
    const child = table.getChild(c);
    if (child === null) throw new Error(`${file}: no column "${c}" (not a Kestrel bar cache file; delete it to rebuild)`);
    const values = child.data.length === 1 ? (child.data[0]?.values as unknown) : null;
    if (!(values instanceof Float64Array) || values.buffer !== buffer) {
      throw new Error(`${file}: column "${c}" is not one float64 buffer (not a Kestrel bar cache file; delete it to rebuild)`);
    }
    offsets[c] = values.byteOffset;
  }
  return { vtSymbol, length: table.numRows, buffer, offsets };
}

/** Column views onto shared bars (in any thread that holds the buffer). */
export function columnsOf(shared: SharedBars): ColumnarBars {
  const out = { vtSymbol: shared.vtSymbol, length: shared.length } as { vtSymbol: string; length: number } & Record<BarColumn, Float64Array>;
  for (const c of BAR_COLUMNS) out[c] = new Float64Array(shared.buffer, shared.offsets[c], shared.length);
  return out;
}

/** The cache directory for a bar store: `<data>/cache` for the data directory's own store. */
export function cacheDirFor(dataDir: string, store: BarStore): string {
  if (store.kind === 'sqlite' && store.description.includes(join(dataDir, 'kestrel.db'))) return join(dataDir, 'cache');
  // Another store's series must not overwrite these: one folder per store, named from its description.
  return join(dataDir, 'cache', store.description.replace(/[^A-Za-z0-9@._-]+/g, '_').slice(0, 120));
}

/** What a job pool needs: a vtSymbol's bars in shared memory, the cache brought up to date first. */
export function sharedBarsLoader(store: BarStore, cacheDir: string): (vtSymbol: string) => Promise<SharedBars> {
  return async (vtSymbol) => {
    const { file } = await ensureBarCache(store, cacheDir, vtSymbol);
    return readSharedBars(file, vtSymbol);
  };
}
