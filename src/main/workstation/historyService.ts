import { join } from 'node:path';
import { analyzeBars, type AnalysisRow } from '../../io/analyze.js';
import { BarStoreConfigError, BarStoreUnavailableError, type BarKey, type BarStore } from '../../io/barStore.js';
import { BAR_DB_FILE, openBarStore } from '../../io/openBarStore.js';
import type { SignalParams } from '../../shared/signalParams.js';
import { ApiError, type ApiHandlers, type ValidParamsOf } from '../../shared/api.js';
import { parseVtSymbol } from '../../shared/bar.js';
import type { BarSource } from '../../shared/config.js';
import type { BarHistory } from '../../shared/contract/history.js';
import { barPointOf, type TdMark } from '../../shared/snapshot.js';

export interface HistoryServiceOptions {
  dataDir: string;
  barSource: BarSource;
  /** A variant's signal parameters, so that its history is computed as its worker computes. */
  signalParamsOf?: (variant: string) => Partial<SignalParams> | undefined;
  /** Answers kept for repeated scrolls (two charts of one product, a dashboard reopened). */
  cacheEntries?: number;
  /** How long a cached answer is trusted: an import can rewrite old minutes. */
  cacheTtlMs?: number;
  now?: () => number;
}

type HistoryParams = ValidParamsOf<'getBarHistory'>;

const DEFAULT_CACHE_ENTRIES = 64;
const DEFAULT_CACHE_TTL_MS = 10 * 60_000;

/**
 * History on demand for the charts: the window bars before a time with their indicators and
 * marks, computed here in the main process by `analyzeBars` (io/analyze.ts), which is what
 * `kestrel analyze` prints: the store's 1-minute bars through core's AnalysisPipeline, warmed
 * up on 600 window bars' worth of earlier minutes, as a worker's restore is. The bar store is
 * opened read-only on the first request and kept until close().
 */
export class HistoryService {
  private storePromise: Promise<BarStore> | null = null;
  private readonly cache = new Map<string, { at: number; value: Promise<BarHistory> }>();
  private readonly cacheEntries: number;
  private readonly cacheTtlMs: number;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly opts: HistoryServiceOptions) {
    this.cacheEntries = opts.cacheEntries ?? DEFAULT_CACHE_ENTRIES;
    this.cacheTtlMs = opts.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
    this.now = opts.now ?? Date.now;
  }

  handlers(): Pick<ApiHandlers, 'getBarHistory'> {
    return { getBarHistory: (params) => this.barHistory(params) };
  }

  /** Cache size and hits, for tests and the status line. */
  readonly stats = { requests: 0, cacheHits: 0, computed: 0 };

  barHistory(params: HistoryParams): Promise<BarHistory> {
    return this.barHistoryWith(params, params.variant ? this.opts.signalParamsOf?.(params.variant) : undefined);
  }

  /** The same, with signal parameters given (a backtest's own, not a variant's). */
  barHistoryWith(params: Omit<HistoryParams, 'variant'>, signal: Partial<SignalParams> | undefined): Promise<BarHistory> {
    if (this.closed) return Promise.reject(new ApiError(503, 'the workstation is shutting down'));
    this.stats.requests += 1;
    // Only a range that ends before a given time is fixed; "up to now" moves with every bar.
    const cacheKey =
      params.before === undefined
        ? null
        : JSON.stringify([params.vtSymbol, params.windowMinutes, params.before, params.count, signal ?? null]);
    if (cacheKey !== null) {
      const hit = this.cache.get(cacheKey);
      if (hit && this.now() - hit.at < this.cacheTtlMs) {
        this.cache.delete(cacheKey);
        this.cache.set(cacheKey, hit);
        this.stats.cacheHits += 1;
        return hit.value;
      }
    }
    const computed = this.compute(params, signal);
    const value = computed.then((c) => c.history);
    if (cacheKey !== null) {
      // The promise itself is cached, so that two charts asking at once compute once.
      const entry = { at: this.now(), value };
      this.cache.set(cacheKey, entry);
      // A range reaching the newest minutes changes as bars arrive: not kept.
      const forget = (): void => {
        if (this.cache.get(cacheKey) === entry) this.cache.delete(cacheKey);
      };
      computed.then((c) => (c.settled ? undefined : forget()), forget);
      while (this.cache.size > this.cacheEntries) {
        const oldest = this.cache.keys().next().value;
        if (oldest === undefined) break;
        this.cache.delete(oldest);
      }
    }
    return value;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cache.clear();
    const pending = this.storePromise;
    this.storePromise = null;
    if (pending) await pending.then((s) => s.close()).catch(() => undefined);
  }

  /** `settled`: minutes exist after the range, so its bars are final. */
  private async compute(params: Omit<HistoryParams, 'variant'>, signal: Partial<SignalParams> | undefined): Promise<{ history: BarHistory; settled: boolean }> {
    let key: BarKey;
    try {
      key = { ...parseVtSymbol(params.vtSymbol), interval: '1m' };
    } catch (err) {
      throw new ApiError(400, `getBarHistory: vtSymbol: ${err instanceof Error ? err.message : String(err)}`);
    }
    const store = await this.store();
    this.stats.computed += 1;
    const n = params.windowMinutes;
    const span = n * 60;
    const { before, count } = params;
    // The window holding `before - 1` ends here; all of its minutes belong to it.
    const end = before === undefined ? undefined : Math.floor((before - 1) / span) * span + span;
    // Each window holds at most N minutes: the last count × N minutes span at least `count` windows.
    const probe = await store.loadLast(key, count * n, end === undefined ? {} : { before: end });
    const settled = end !== undefined && (await store.loadAfter(key, end - 1, 1)).length > 0;
    const first = probe[0];
    if (first === undefined) return { history: { bars: [], marks: [], hasMore: false }, settled };
    const from = Math.floor(first.time / span) * span;
    const rows: AnalysisRow[] = [];
    for await (const row of analyzeBars(store, key, {
      windowMinutes: n,
      from,
      ...(before === undefined ? {} : { to: before - 1 }),
      ...(signal ? { params: signal } : {}),
    })) {
      // The forming window is the live chart's own; history is closed bars only.
      if (row.closed && (before === undefined || row.time < before)) rows.push(row);
    }
    const page = rows.slice(-count);
    const oldest = page[0];
    if (oldest === undefined) return { history: { bars: [], marks: [], hasMore: false }, settled };
    const older = await store.loadLast(key, 1, { before: oldest.time });
    const marks: TdMark[] = [];
    for (const r of page) for (const m of r.marks) marks.push(m);
    return { history: { bars: page.map((row) => barPointOf(row, row)), marks, hasMore: older.length > 0 }, settled };
  }

  private store(): Promise<BarStore> {
    if (!this.storePromise) {
      const source = this.opts.barSource;
      const opening =
        source.kind === 'mysql'
          ? openBarStore({ mysqlUrl: source.url, readonly: true })
          : openBarStore({ sqlitePath: source.path ?? join(this.opts.dataDir, BAR_DB_FILE), readonly: true });
      this.storePromise = opening.catch((err: unknown) => {
        // Not kept: the store may appear later (a fresh data directory, MySQL back up).
        this.storePromise = null;
        if (err instanceof BarStoreUnavailableError || err instanceof BarStoreConfigError) throw new ApiError(503, `bar store: ${err.message}`);
        throw err;
      });
    }
    return this.storePromise;
  }
}
