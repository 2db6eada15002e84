import { open, type FileHandle } from 'node:fs/promises';
import type { LogLine } from '../../shared/contract/logs.js';
import type { LineIndex } from './lineIndex.js';
import { LineCursor } from './lineReading.js';
import { toLogLine } from './logLineParser.js';
import { MIN_RANGE_BYTES, cutAtLineStarts, displayLine, scanMatches, type LineFilter } from './logSearch.js';
import type { RangeHit, RangeScanJob, RangeScanResult } from './rangeScan.js';
import { runParallelScan, scanThreads, type RangeRun } from './scanThreads.js';

export interface MatchIndexOptions {
  /** Entries kept before the list is thinned (every other one dropped, stride doubled). */
  maxStored?: number;
  chunkBytes?: number;
  /**
   * What is left to scan, from this many bytes, is scanned on the scan threads, one byte range
   * each (default 2 × 8 MB); Infinity keeps every scan on the main thread (the reference).
   */
  threadedFromBytes?: number;
  /** Ranges a threaded scan is cut into (default: one per core, each at least 8 MB). */
  ranges?: number;
  /** Chunk size of the threads' reads (tests make it small to put lines across chunks). */
  threadChunkBytes?: number;
}

const FIRST_CHUNK_BYTES = 256 * 1024;
/** No limit on a thread's matches (the allowance is an Int32 shared with the thread). */
const UNLIMITED = 0x7fffffff;
/** Matches a range that is not the one being recorded may hold before its thread waits. */
const MATCHES_AHEAD = 200_000;
/** A scan of the match list has no time budget (it has no user pattern that could backtrack); this only bounds a stuck thread. */
const THREADED_BUDGET_MS = 2 ** 31 - 1;

/**
 * The lines of one file that pass one filter (level and/or keyword), for paging through them.
 *
 * Built by scanning the file forward (scanMatches: one regex over each 4 MB chunk, candidates
 * verified line by line), incrementally: only as far as the page asked for needs, then on in the
 * background when asked to (for the totals), resumable where it stopped, and continued when the
 * file grows. It keeps the line number and byte offset of every match (16 bytes each) until
 * `maxStored` entries; past that it keeps every 2nd, then every 4th … match, so memory stays
 * bounded (8 MB at the default) while a page is still found by seeking to the nearest kept match
 * and scanning on from there. Dense matches are then close together, so that scan is short;
 * sparse matches are all kept, so their pages are direct reads of 1 line each.
 *
 * Cost: the first pass reads the whole file once (CPU: the chunk regex plus a parse of each
 * candidate line; a level filter parses the lines that mention a level word, a keyword filter
 * only the lines that contain the keyword).
 */
export class MatchIndex {
  private lineNos = new Float64Array(1024);
  private offsets = new Float64Array(1024);
  private stored = 0;
  private stride = 1;
  private matchCount = 0;
  /** Where the scan stands: a line start and its 0-based index. */
  private scannedOffset = 0;
  private scannedLine = 0;
  /** The scan reached the end of the file as it was. */
  private atEnd = false;
  /** The last line scanned had no newline yet; whether it matched (undone when the file grows). */
  private partial: { offset: number; end: number; lineIndex: number; matched: boolean } | null = null;
  private gen: number;
  private running: Promise<void> | null = null;
  private wantAll = false;
  private waiters: { until: () => boolean; resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly maxStored: number;
  private readonly chunkBytes: number | undefined;
  private readonly threadedFromBytes: number;
  private readonly ranges: number | undefined;
  private readonly threadChunkBytes: number | undefined;
  /** Byte ranges scanned on threads so far (a test sees the threads used). */
  rangesOnThreads = 0;
  /** Aborts a threaded scan in progress (close). */
  private threadsStop: AbortController | null = null;
  private closed = false;
  lastUsed = Date.now();

  constructor(
    private readonly index: LineIndex,
    readonly filter: LineFilter,
    opts: MatchIndexOptions = {},
  ) {
    this.gen = index.generation;
    this.maxStored = opts.maxStored ?? 1 << 19;
    this.chunkBytes = opts.chunkBytes;
    this.threadedFromBytes = opts.threadedFromBytes ?? 2 * MIN_RANGE_BYTES;
    this.ranges = opts.ranges;
    this.threadChunkBytes = opts.threadChunkBytes;
  }

  get count(): number {
    return this.matchCount;
  }

  /** The scan has covered the whole file (as of the index's last look at it). */
  get done(): boolean {
    return this.atEnd && this.running === null && this.scannedEnd() >= this.index.fileBytes;
  }

  get progress(): number {
    const size = this.index.fileBytes;
    if (this.done) return 1;
    return size === 0 ? 0 : Math.min(1, this.scannedEnd() / size);
  }

  /** Bytes the scan has looked at, the unfinished last line included. */
  private scannedEnd(): number {
    return this.partial ? this.partial.end : this.scannedOffset;
  }

  /** Kept entries, and how many matches each stands for. */
  get storedEntries(): { stored: number; stride: number } {
    return { stored: this.stored, stride: this.stride };
  }

  private syncGeneration(): void {
    if (this.index.generation === this.gen) return;
    this.gen = this.index.generation;
    this.lineNos = new Float64Array(1024);
    this.offsets = new Float64Array(1024);
    this.stored = 0;
    this.stride = 1;
    this.matchCount = 0;
    this.scannedOffset = 0;
    this.scannedLine = 0;
    this.atEnd = false;
    this.partial = null;
  }

  /** Scans until `until()` holds or the end of the file is reached. */
  advance(until: () => boolean): Promise<void> {
    this.lastUsed = Date.now();
    this.syncGeneration();
    if (until() || this.closed) return Promise.resolve();
    if (this.atEnd && this.running === null && this.scannedEnd() >= this.index.fileBytes) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ until, resolve, reject });
      this.ensureRunning();
    });
  }

  /** Scans on to the end in the background (for the totals), until paused. */
  completeInBackground(): void {
    this.syncGeneration();
    if (this.done || this.closed) return;
    this.wantAll = true;
    this.ensureRunning();
  }

  /** Stops the background scan between two chunks; it resumes where it stopped when needed. */
  pause(): void {
    this.wantAll = false;
  }

  close(): void {
    this.closed = true;
    this.wantAll = false;
    this.threadsStop?.abort();
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  private ensureRunning(): void {
    if (this.running) return;
    this.running = this.run()
      .catch((err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        for (const w of this.waiters) w.reject(error);
        this.waiters = [];
      })
      .finally(() => {
        this.running = null;
        // A waiter that came while the scan was winding down still gets its scan.
        this.waiters = this.waiters.filter((w) => {
          if (this.closed || this.atEnd || w.until()) {
            w.resolve();
            return false;
          }
          return true;
        });
        if (this.waiters.length > 0) this.ensureRunning();
      });
  }

  private settleWaiters(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.until()) return true;
      w.resolve();
      return false;
    });
  }

  private record(lineIndex: number, offset: number): void {
    if (this.matchCount % this.stride === 0) {
      if (this.stored === this.maxStored) this.thin();
      if (this.matchCount % this.stride === 0) {
        if (this.stored === this.lineNos.length) {
          const n = this.lineNos.length * 2;
          const lines = new Float64Array(n);
          const offs = new Float64Array(n);
          lines.set(this.lineNos);
          offs.set(this.offsets);
          this.lineNos = lines;
          this.offsets = offs;
        }
        this.lineNos[this.stored] = lineIndex;
        this.offsets[this.stored] = offset;
        this.stored++;
      }
    }
    this.matchCount++;
  }

  /** Keeps every other entry: bounded memory, twice the stride. */
  private thin(): void {
    let j = 0;
    for (let i = 0; i < this.stored; i += 2) {
      this.lineNos[j] = this.lineNos[i] as number;
      this.offsets[j] = this.offsets[i] as number;
      j++;
    }
    this.stored = j;
    this.stride *= 2;
  }

  /** Takes back the match of an unfinished last line, before scanning it again. */
  private undoPartial(): void {
    const p = this.partial;
    if (!p) return;
    this.partial = null;
    if (p.matched) {
      this.matchCount--;
      if (this.stored > 0 && (this.lineNos[this.stored - 1] as number) === p.lineIndex) this.stored--;
    }
  }

  private async run(): Promise<void> {
    const fh = await open(this.index.path, 'r');
    try {
      while (!this.closed && (this.waiters.length > 0 || this.wantAll)) {
        this.syncGeneration();
        const gen = this.gen;
        const size = (await fh.stat()).size;
        if (this.partial) {
          if (size > this.partial.end) this.undoPartial();
          else {
            this.atEnd = true;
            break;
          }
        } else if (this.scannedOffset >= size) {
          this.atEnd = true;
          break;
        }
        this.atEnd = false;
        const threadedFrom = Math.max(1, this.threadedFromBytes);
        if (!this.partial && size - this.scannedOffset >= threadedFrom) {
          // The whole lines up to the last newline go to the threads; a last line still being written stays for the scan below.
          const end = await lastLineEnd(fh, this.scannedOffset, size);
          if (end - this.scannedOffset >= threadedFrom) {
            await this.scanOnThreads(end, gen);
            continue;
          }
        }
        let lastMatchLine = -1;
        const result = await scanMatches(
          fh,
          this.filter,
          { from: this.scannedOffset, lineIndex: this.scannedLine, chunkBytes: this.chunkBytes, needOffsets: true },
          (m) => {
            this.record(m.lineIndex, m.offset);
            lastMatchLine = m.lineIndex;
          },
          (p) => {
            if (this.gen !== gen || this.index.generation !== gen) return false;
            if (p.partialLast) {
              // The last line has no newline yet: counted now, scanned again once the file grows.
              const lineIndex = p.nextLineIndex - 1;
              this.partial = { offset: p.start, end: p.end, lineIndex, matched: lastMatchLine === lineIndex };
              this.scannedOffset = p.start;
              this.scannedLine = lineIndex;
            } else {
              this.scannedOffset = p.end;
              this.scannedLine = p.nextLineIndex;
            }
            this.settleWaiters();
            return !this.closed && (this.waiters.length > 0 || this.wantAll);
          },
        );
        if (this.gen !== gen) continue;
        if (!result.stopped) {
          this.atEnd = true;
          this.settleWaiters();
          break;
        }
      }
    } finally {
      await fh.close();
    }
  }

  /**
   * Scans [scannedOffset, end) (whole lines) on the scan threads, one byte range each, recording
   * the matches in file order: the first range's as they come, a later range's once all before
   * it are done (each may run MATCHES_AHEAD matches ahead, then waits). Stops, with the state
   * where the recorded part ends, when nobody wants more or the file was replaced.
   */
  private async scanOnThreads(end: number, gen: number): Promise<void> {
    const fh = await open(this.index.path, 'r');
    let cuts: number[];
    try {
      const parts = Math.max(1, this.ranges ?? Math.min(scanThreads.size, Math.floor((end - this.scannedOffset) / MIN_RANGE_BYTES)));
      cuts = await cutAtLineStarts(fh, end, parts, this.scannedOffset);
    } finally {
      await fh.close();
    }
    const n = cuts.length - 1;
    this.rangesOnThreads += n;
    const jobs: RangeScanJob[] = [];
    for (let k = 0; k < n; k++) {
      jobs.push({
        path: this.index.path,
        start: cuts[k] as number,
        end: cuts[k + 1] as number,
        filter: this.filter.spec,
        limit: Number.MAX_SAFE_INTEGER,
        locate: true,
        ...(this.threadChunkBytes ? { chunkBytes: this.threadChunkBytes } : {}),
        // The range a page waits on answers its first matches from a small first read.
        ...(k === 0 ? { firstChunkBytes: FIRST_CHUNK_BYTES } : {}),
      });
    }
    const pending: RangeHit[][] = Array.from({ length: n }, () => []);
    const results: (RangeScanResult | null)[] = Array.from({ length: n }, () => null);
    const progress: { to: number; lines: number }[] = cuts.slice(0, n).map((to) => ({ to, lines: 0 }));
    let head = 0;
    let baseLine = this.scannedLine;
    const stop = new AbortController();
    this.threadsStop = stop;
    const wanted = (): boolean => !this.closed && (this.waiters.length > 0 || this.wantAll) && this.index.generation === gen && this.gen === gen;
    const flush = (): void => {
      while (head < n) {
        const queue = pending[head] as RangeHit[];
        for (const h of queue) this.record(baseLine + h.lineIndex, h.start);
        queue.length = 0;
        const at = progress[head] as { to: number; lines: number };
        this.scannedOffset = at.to;
        this.scannedLine = baseLine + at.lines;
        const result = results[head];
        if (!result) break;
        baseLine += result.lines;
        head++;
        this.scannedOffset = head < n ? (cuts[head] as number) : end;
        this.scannedLine = baseLine;
        if (head < n) (run.ranges[head] as RangeRun).allow(UNLIMITED);
      }
      this.settleWaiters();
      if (!wanted()) run.finish();
    };
    const run = runParallelScan(
      jobs,
      {
        found(k, hits, to, lines) {
          (pending[k] as RangeHit[]).push(...hits);
          progress[k] = { to, lines };
          if (k === head) flush();
        },
        done(k, result) {
          results[k] = result;
          progress[k] = { to: cuts[k + 1] as number, lines: result.lines };
          if (k === head) flush();
        },
      },
      { signal: stop.signal, budgetMs: THREADED_BUDGET_MS, initialAllowance: (k) => (k === 0 ? UNLIMITED : MATCHES_AHEAD) },
    );
    try {
      await run.ended;
    } finally {
      this.threadsStop = null;
    }
  }

  /** Matches [first, first + n), as lines. */
  async read(first: number, n: number): Promise<LogLine[]> {
    const last = Math.min(this.matchCount, first + n);
    if (first >= last) return [];
    const fh = await open(this.index.path, 'r');
    try {
      if (this.stride === 1) return await this.readKept(fh, first, last);
      return await this.readByScan(fh, first, last);
    } finally {
      await fh.close();
    }
  }

  private async readKept(fh: FileHandle, first: number, last: number): Promise<LogLine[]> {
    const lines: LogLine[] = [];
    let cursor: LineCursor | null = null;
    for (let k = first; k < last; k++) {
      const offset = this.offsets[k] as number;
      if (!cursor || cursor.position !== offset) cursor = new LineCursor(fh, offset, 16 * 1024);
      const line = await cursor.next();
      if (!line) break;
      lines.push(toLogLine(line.text, (this.lineNos[k] as number) + 1, line.cutBytes));
    }
    return lines;
  }

  private async readByScan(fh: FileHandle, first: number, last: number): Promise<LogLine[]> {
    const k = Math.min(Math.floor(first / this.stride), this.stored - 1);
    let matchNo = k * this.stride;
    const lines: LogLine[] = [];
    await scanMatches(
      fh,
      this.filter,
      { from: this.offsets[k] as number, lineIndex: this.lineNos[k] as number, chunkBytes: 1024 * 1024 },
      (m) => {
        if (matchNo >= first) lines.push(displayLine(m.text, m.lineIndex + 1));
        matchNo++;
        return matchNo < last;
      },
    );
    return lines;
  }

  /** How many matches lie before the 0-based line `lineIndex` (the filtered position of a line). */
  async countBefore(lineIndex: number): Promise<number> {
    await this.advance(() => this.scannedLine > lineIndex);
    // The last kept entry before the line, then count on from it.
    let lo = 0;
    let hi = this.stored - 1;
    if (this.stored === 0 || (this.lineNos[0] as number) >= lineIndex) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineNos[mid] as number) < lineIndex) lo = mid;
      else hi = mid - 1;
    }
    if (this.stride === 1) return lo + 1;
    let count = lo * this.stride;
    const fh = await open(this.index.path, 'r');
    try {
      await scanMatches(
        fh,
        this.filter,
        { from: this.offsets[lo] as number, lineIndex: this.lineNos[lo] as number, chunkBytes: 1024 * 1024 },
        (m) => {
          if (m.lineIndex >= lineIndex) return false;
          count++;
          return true;
        },
      );
    } finally {
      await fh.close();
    }
    return Math.min(count, this.matchCount);
  }
}

/** The offset just past the last newline in [from, size), or `from` when there is none. */
async function lastLineEnd(fh: FileHandle, from: number, size: number): Promise<number> {
  const buf = Buffer.allocUnsafe(64 * 1024);
  let to = size;
  while (to > from) {
    const at = Math.max(from, to - buf.length);
    const { bytesRead } = await fh.read(buf, 0, to - at, at);
    if (bytesRead === 0) return from;
    const nl = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (nl !== -1) return at + nl + 1;
    to = at;
  }
  return from;
}
