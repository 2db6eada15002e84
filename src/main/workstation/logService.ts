import { ApiError, type ApiHandlers, type StreamHandlers } from '../../shared/api.js';
import type { LogFile, LogLevelName, LogPage } from '../../shared/contract/logs.js';
import { LineIndex } from '../../io/logs/lineIndex.js';
import { countFileLines, findLogFiles, resolveLogFile } from '../../io/logs/logFiles.js';
import { readFilteredPage, readUnfilteredPage, type PageQuery } from '../../io/logs/logPaging.js';
import { SEARCH_BUDGET_MS, buildLineFilter, searchLogFile } from '../../io/logs/logSearch.js';
import { tailLogFile } from '../../io/logs/logTail.js';
import { MatchIndex } from '../../io/logs/matchIndex.js';

export interface LogServiceOptions {
  logsDir: string;
  /** Line indexes kept (least recently used dropped first). */
  maxIndexes?: number;
  /** Filter caches kept (least recently used dropped first). */
  maxFilters?: number;
  tailPollMs?: number;
  /** A search ends with an error after this long (its threads are terminated). */
  searchBudgetMs?: number;
}

/** Files up to this size are counted when listed, so the list shows their lines at once. */
const COUNT_WHEN_LISTED_BYTES = 4 * 1024 * 1024;

interface FilterEntry {
  file: string;
  index: LineIndex;
  matches: MatchIndex;
}

function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err as { code: unknown }).code === 'ENOENT';
}

/**
 * The logs area of the API: the files under `<data>/logs`, pages of them (plain or filtered),
 * searches and tails. File work lives in src/io/logs; this keeps the caches: a line index per
 * recently opened file and a match list per recently used filter, both LRU.
 */
export class LogService {
  private readonly logsDir: string;
  private readonly maxIndexes: number;
  private readonly maxFilters: number;
  private readonly tailPollMs: number;
  private readonly searchBudgetMs: number;
  private readonly indexes = new Map<string, LineIndex>();
  private readonly filters = new Map<string, FilterEntry>();
  private readonly counted = new Map<string, { version: string; lines: number }>();
  private readonly tails = new Set<AbortController>();
  private closed = false;

  constructor(opts: LogServiceOptions) {
    this.logsDir = opts.logsDir;
    this.maxIndexes = opts.maxIndexes ?? 8;
    this.maxFilters = opts.maxFilters ?? 6;
    this.tailPollMs = opts.tailPollMs ?? 250;
    this.searchBudgetMs = opts.searchBudgetMs ?? SEARCH_BUDGET_MS;
  }

  handlers(): Pick<ApiHandlers, 'listLogFiles' | 'listLogLines'> {
    return {
      listLogFiles: () => this.listFiles(),
      listLogLines: (params) => this.listLines(params),
    };
  }

  streams(): Pick<StreamHandlers, 'tailLog' | 'searchLog'> {
    return {
      tailLog: async (params, emit, signal) => {
        const { file, abs } = await resolveLogFile(this.logsDir, params.file);
        const stop = new AbortController();
        this.tails.add(stop);
        try {
          await tailLogFile(
            abs,
            {
              last: params.last,
              level: params.level,
              pollMs: this.tailPollMs,
              lineIndexAt: async (offset) => {
                const index = this.indexFor(file, abs);
                await index.refresh();
                return index.lineIndexAt(offset);
              },
            },
            emit,
            AbortSignal.any([signal, stop.signal]),
          );
        } finally {
          this.tails.delete(stop);
        }
      },
      searchLog: async (params, emit, signal) => {
        // A bad pattern is refused before the file is looked at.
        buildLineFilter({ pattern: params.pattern, regex: params.regex, caseSensitive: params.caseSensitive });
        const { abs } = await resolveLogFile(this.logsDir, params.file);
        await searchLogFile(
          abs,
          { pattern: params.pattern, regex: params.regex, caseSensitive: params.caseSensitive, level: params.level, limit: params.limit },
          emit,
          signal,
          { budgetMs: this.searchBudgetMs },
        );
      },
    };
  }

  close(): void {
    this.closed = true;
    for (const stop of this.tails) stop.abort();
    this.tails.clear();
    for (const entry of this.filters.values()) entry.matches.close();
    this.filters.clear();
    for (const index of this.indexes.values()) index.close();
    this.indexes.clear();
  }

  private async listFiles(): Promise<LogFile[]> {
    const found = await findLogFiles(this.logsDir);
    const out: LogFile[] = [];
    for (const f of found) {
      let index: LogFile['index'] = { done: false, progress: 0, lines: null };
      const cached = this.indexes.get(f.file);
      if (cached && cached.path === f.abs) {
        try {
          await cached.refresh();
          index = cached.state();
        } catch {
          // Rotated away between listing and refresh: shown as not indexed.
        }
      } else if (f.bytes <= COUNT_WHEN_LISTED_BYTES) {
        const version = `${f.ino}:${f.bytes}:${f.mtimeMs}`;
        let entry = this.counted.get(f.file);
        if (entry?.version !== version) {
          try {
            entry = { version, lines: await countFileLines(f.abs) };
            this.counted.set(f.file, entry);
          } catch {
            entry = undefined;
          }
        }
        if (entry) index = { done: true, progress: 1, lines: entry.lines };
      }
      out.push({ file: f.file, variant: f.variant, bytes: f.bytes, modifiedAt: f.modifiedAt, index });
    }
    // Files that are gone leave the count cache.
    const present = new Set(found.map((f) => f.file));
    for (const key of this.counted.keys()) if (!present.has(key)) this.counted.delete(key);
    return out;
  }

  private async listLines(params: PageQuery & { file: string }): Promise<LogPage> {
    if (this.closed) throw new ApiError(503, 'the log service is closed');
    const { file, abs } = await resolveLogFile(this.logsDir, params.file);
    const index = this.indexFor(file, abs);
    const keyword = params.keyword !== undefined && params.keyword.length > 0 ? params.keyword : undefined;
    const query: PageQuery = {
      page: params.page,
      pageSize: params.pageSize,
      level: params.level,
      keyword,
      at: params.at,
      fromEnd: params.fromEnd,
    };
    try {
      await index.refresh();
      if (!params.level && !keyword) return { file, ...(await readUnfilteredPage(index, query)) };
      const entry = this.filterFor(file, index, params.level, keyword);
      const answer = await readFilteredPage(index, entry.matches, query);
      entry.matches.completeInBackground();
      return { file, ...answer };
    } catch (err) {
      if (isMissing(err)) throw new ApiError(404, `no log file ${file}`);
      throw err;
    }
  }

  /** The line index of a file, most recently used last; the oldest beyond the limit are closed. */
  private indexFor(file: string, abs: string): LineIndex {
    let index = this.indexes.get(file);
    if (index && index.path !== abs) {
      this.dropIndex(file);
      index = undefined;
    }
    if (index) {
      this.indexes.delete(file);
      this.indexes.set(file, index);
      return index;
    }
    index = new LineIndex(abs);
    this.indexes.set(file, index);
    while (this.indexes.size > this.maxIndexes) {
      const oldest = this.indexes.keys().next().value;
      if (oldest === undefined) break;
      this.dropIndex(oldest);
    }
    return index;
  }

  private dropIndex(file: string): void {
    this.indexes.get(file)?.close();
    this.indexes.delete(file);
    for (const [key, entry] of this.filters) {
      if (entry.file === file) {
        entry.matches.close();
        this.filters.delete(key);
      }
    }
  }

  /**
   * The match list of one filter on one file. Only the filter used last scans on in the
   * background (for its totals); the others pause where they are and resume when asked.
   */
  private filterFor(file: string, index: LineIndex, level: LogLevelName | undefined, keyword: string | undefined): FilterEntry {
    const key = `${file}\u0000${level ?? ''}\u0000${keyword ?? ''}`;
    let entry = this.filters.get(key);
    if (entry && entry.index !== index) {
      entry.matches.close();
      this.filters.delete(key);
      entry = undefined;
    }
    if (!entry) {
      entry = { file, index, matches: new MatchIndex(index, buildLineFilter({ pattern: keyword, level })) };
    } else {
      this.filters.delete(key);
    }
    this.filters.set(key, entry);
    for (const other of this.filters.values()) if (other !== entry) other.matches.pause();
    while (this.filters.size > this.maxFilters) {
      const oldest = this.filters.keys().next();
      if (oldest.done) break;
      this.filters.get(oldest.value)?.matches.close();
      this.filters.delete(oldest.value);
    }
    return entry;
  }
}
