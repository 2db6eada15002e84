import { open, type FileHandle } from 'node:fs/promises';
import type { LogLine } from '../../shared/contract/logs.js';
import type { LineIndex } from './lineIndex.js';
import { LineCursor } from './lineReading.js';
import { toLogLine } from './logLineParser.js';
import { displayLine, scanMatches, type LineFilter } from './logSearch.js';

export interface MatchIndexOptions {
  /** Entries kept before the list is thinned (every other one dropped, stride doubled). */
  maxStored?: number;
  chunkBytes?: number;
}

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
