import { open, type FileHandle } from 'node:fs/promises';
import { ApiError } from '../../shared/contractKit.js';
import type { LogLevelName, LogLine, LogSearchEvent } from '../../shared/contract/logs.js';
import { levelAtLeast } from '../../shared/logLevels.js';
import { ByteKernels } from './byteKernels.js';
import { levelOfText, levelTokensAtLeast, toLogLine } from './logLineParser.js';
import type { RangeHit, RangeScanJob, RangeScanResult } from './rangeScan.js';
import { ScanBudgetError, runParallelScan, scanThreads, type ParallelScanEnd, type RangeRun } from './scanThreads.js';
import { MAX_LINE_KEEP, decodeLineBytes, scanLineChunks, type ChunkEncoding, type LineChunk, type ScanOptions } from './lineReading.js';

/**
 * Finding lines in a big file fast: the file is read in big chunks of whole lines, one
 * regular expression runs over a whole chunk to find candidate lines (V8's regex engine, not
 * a JavaScript loop per line), and only candidates are tested line by line. A keyword is a
 * literal (case-insensitive unless asked otherwise); a regular expression is JavaScript's,
 * applied to each line on its own.
 */

export interface LineFilterSpec {
  pattern?: string;
  regex?: boolean;
  caseSensitive?: boolean;
  /** Keep lines at or above this level. */
  level?: LogLevelName;
}

export interface LineFilter {
  /** How chunks are decoded for `candidates` (latin1 when it looks for ASCII text only). */
  readonly encoding: ChunkEncoding;
  /**
   * Global, multiline: every line that can pass `test` holds a match of it. Null when no text
   * narrows the lines down (every line is a candidate).
   */
  readonly candidates: RegExp | null;
  /**
   * Lower-case ASCII words one of which (case-insensitively) every passing line holds, when the
   * filter is a keyword or a level: found with Buffer.indexOf over a case-folded copy of the
   * chunk's bytes, much faster than the alternation in `candidates`.
   */
  readonly tokens: readonly string[] | null;
  /** The exact test of one line. */
  test(line: string): boolean;
  /** What it was built from (a scan thread builds the same filter from it). */
  readonly spec: LineFilterSpec;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

const ASCII_RE = /^[\x00-\x7f]*$/;

/**
 * Builds a filter; a regular expression that does not compile is a 400 that says why.
 *
 * An ASCII keyword (and the level words) is looked for in latin1-decoded chunks, always
 * case-insensitively (V8 searches a one-byte string fastest that way); a candidate line is then
 * decoded as UTF-8 and tested exactly, case-sensitively when asked. Since no non-ASCII byte
 * folds to an ASCII letter, the candidates are a superset of the true hits. Regular
 * expressions and non-ASCII keywords run on UTF-8 text.
 */
export function buildLineFilter(spec: LineFilterSpec): LineFilter {
  const caseFlag = spec.caseSensitive ? '' : 'i';
  let patternTest: RegExp | null = null;
  let candidates: RegExp | null = null;
  let encoding: ChunkEncoding = 'latin1';
  if (spec.pattern !== undefined && spec.pattern.length > 0) {
    const source = spec.regex ? spec.pattern : escapeRegExp(spec.pattern);
    try {
      patternTest = new RegExp(source, caseFlag);
      if (!spec.regex && ASCII_RE.test(spec.pattern)) candidates = new RegExp(source, 'gi');
      else {
        candidates = new RegExp(source, `gm${caseFlag}`);
        encoding = 'utf8';
      }
    } catch (err) {
      const why = err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : String(err);
      throw new ApiError(400, `invalid regular expression /${spec.pattern}/: ${why}`);
    }
  }
  const level = spec.level;
  let tokens: string[] | null = candidates && !spec.regex && encoding === 'latin1' ? [(spec.pattern as string).toLowerCase()] : null;
  if (!candidates && level) {
    tokens = levelTokensAtLeast(level);
    candidates = new RegExp(tokens.map(escapeRegExp).join('|'), 'gi');
  }
  // For lines tested one by one (reading backwards): the cheap candidate test first.
  const quick = candidates ? new RegExp(candidates.source, candidates.flags.replace('g', '')) : null;
  const test = (line: string): boolean => {
    if (quick && !patternTest && !quick.test(line)) return false;
    if (patternTest && !patternTest.test(line)) return false;
    return !level || levelAtLeast(levelOfText(line), level);
  };
  return { encoding, candidates, tokens, test, spec: { ...spec } };
}

let foldKernels: ByteKernels | null = null;

/**
 * Candidate line positions in a chunk from the filter's tokens: the chunk's bytes folded to lower
 * case once, then each token's next occurrence kept and the nearest taken (one indexOf per
 * occurrence, memchr-fast, where a regex alternation tests every position).
 */
function tokenFinder(buf: Buffer, tokens: readonly string[]): (from: number) => number {
  const len = buf.length;
  if (!foldKernels || foldKernels.capacity < len) foldKernels = new ByteKernels(Math.max(len, 4 * 1024 * 1024));
  buf.copy(foldKernels.raw, 0, 0, len);
  const folded = foldKernels.fold(len);
  const needles = tokens.map((t) => Buffer.from(t, 'latin1'));
  const next = needles.map(() => -2);
  return (from) => {
    let best = -1;
    for (let i = 0; i < needles.length; i++) {
      let at = next[i] as number;
      if (at !== -1 && at < from) {
        at = folded.indexOf(needles[i] as Buffer, from);
        next[i] = at;
      }
      if (at !== -1 && (best === -1 || at < best)) best = at;
    }
    return best;
  };
}

export interface MatchVisit {
  /** 0-based line index. */
  lineIndex: number;
  /** Byte offset of the line start (only when asked for: it costs on non-ASCII text). */
  offset: number;
  text: string;
}

export interface ScanProgress {
  /** Offset of the chunk's first line. */
  start: number;
  /** Offset just past the last chunk scanned. */
  end: number;
  /** 0-based index of the next line after the chunk. */
  nextLineIndex: number;
  /** The chunk ended at the end of the file without a newline (a line still being written?). */
  partialLast: boolean;
}

export interface ScanResult {
  /** Where the scan stopped: a line start, and its index. */
  offset: number;
  lineIndex: number;
  /** Stopped because a visitor said so (not at the end, not aborted). */
  stopped: boolean;
}

/** Newlines in text[from, to). */
export function countNewlinesIn(text: string, from: number, to: number): number {
  let n = 0;
  let p = text.indexOf('\n', from);
  while (p !== -1 && p < to) {
    n++;
    p = text.indexOf('\n', p + 1);
  }
  return n;
}

function lineText(chunk: LineChunk, start: number, end: number): string {
  const stop = end > start && chunk.text.charCodeAt(end - 1) === 0x0d ? end - 1 : end;
  // latin1 positions are byte positions: the line is decoded properly from its bytes.
  return chunk.encoding === 'latin1' ? chunk.buf.toString('utf8', start, Math.min(stop, chunk.buf.length)) : chunk.text.slice(start, stop);
}

/**
 * Visits the lines that pass `filter`, from `opts.from` on. `onMatch` returning false stops at
 * once; `onChunk` (after each whole chunk) returning false stops between chunks.
 */
export async function scanMatches(
  fh: FileHandle,
  filter: LineFilter,
  opts: ScanOptions & { needOffsets?: boolean },
  onMatch: (m: MatchVisit) => boolean | void,
  onChunk?: (p: ScanProgress) => boolean | void,
): Promise<ScanResult> {
  let offset = opts.from;
  let lineIndex = opts.lineIndex;
  for await (const chunk of scanLineChunks(fh, { ...opts, encoding: filter.encoding })) {
    const { text } = chunk;
    const re = filter.candidates;
    let cursorPos = 0;
    let cursorLine = chunk.lineIndex;
    // Character → byte offsets, advanced incrementally, for chunks with multi-byte characters.
    let byteCharPos = 0;
    let bytePos = chunk.fileOffset;
    const offsetOf = (charPos: number): number => {
      if (!opts.needOffsets) return -1;
      if (chunk.aligned) return chunk.fileOffset + charPos;
      if (chunk.lineCount === 1) return chunk.fileOffset;
      bytePos += Buffer.byteLength(text.slice(byteCharPos, charPos));
      byteCharPos = charPos;
      return bytePos;
    };
    const visit = (lineStart: number, lineEnd: number): boolean => {
      const line = lineText(chunk, lineStart, lineEnd);
      if (!filter.test(line)) return true;
      return onMatch({ lineIndex: cursorLine, offset: offsetOf(lineStart), text: line }) !== false;
    };
    let stopped = false;
    if (re === null) {
      while (cursorPos < text.length) {
        const nl = text.indexOf('\n', cursorPos);
        const lineEnd = nl === -1 ? text.length : nl;
        if (!visit(cursorPos, lineEnd)) stopped = true;
        cursorPos = lineEnd + 1;
        cursorLine++;
        if (stopped) break;
      }
    } else {
      re.lastIndex = 0;
      const find = filter.tokens && chunk.aligned ? tokenFinder(chunk.buf, filter.tokens) : null;
      for (;;) {
        let at: number;
        if (find) {
          at = find(re.lastIndex);
          if (at === -1) break;
        } else {
          const m = re.exec(text);
          if (!m) break;
          at = m.index;
        }
        if (at >= text.length) break;
        const lineStart = at === 0 ? 0 : text.lastIndexOf('\n', at - 1) + 1;
        cursorLine += countNewlinesIn(text, cursorPos, lineStart);
        const nl = text.indexOf('\n', at);
        const lineEnd = nl === -1 ? text.length : nl;
        if (!visit(lineStart, lineEnd)) stopped = true;
        cursorPos = lineEnd + 1;
        cursorLine++;
        if (stopped || cursorPos >= text.length) break;
        re.lastIndex = cursorPos;
      }
    }
    if (stopped) {
      const stopAt = Math.min(cursorPos, text.length);
      const stopOffset = chunk.aligned ? chunk.fileOffset + stopAt : opts.needOffsets ? offsetOf(stopAt) : chunk.fileOffset;
      return { offset: stopOffset, lineIndex: cursorLine, stopped: true };
    }
    offset = chunk.fileOffset + chunk.bytes;
    lineIndex = chunk.lineIndex + chunk.lineCount;
    const partialLast = text.length > 0 && text.charCodeAt(text.length - 1) !== 0x0a;
    if (onChunk && onChunk({ start: chunk.fileOffset, end: offset, nextLineIndex: lineIndex, partialLast }) === false) {
      return { offset, lineIndex, stopped: true };
    }
  }
  return { offset, lineIndex, stopped: false };
}

/** A line found by a scan, cut like a paged line so both show the same thing. */
export function displayLine(text: string, lineNo: number | null): LogLine {
  if (text.length * 3 > MAX_LINE_KEEP && Buffer.byteLength(text) > MAX_LINE_KEEP) {
    const { text: kept, cutBytes } = decodeLineBytes(Buffer.from(text));
    return toLogLine(kept, lineNo, cutBytes);
  }
  return toLogLine(text, lineNo);
}

export interface SearchParams {
  pattern: string;
  regex: boolean;
  caseSensitive: boolean;
  level?: LogLevelName;
  limit: number;
}

export interface SearchOptions {
  chunkBytes?: number;
  /** The first read is small so the first hits show at once. */
  firstChunkBytes?: number;
  /** Progress events at most this often. */
  progressEveryMs?: number;
  /** The search ends with an error after this long (default 60 s). */
  budgetMs?: number;
  /** Byte ranges searched at once; default: one per core, each at least 8 MB. */
  ranges?: number;
}

export const SEARCH_BUDGET_MS = 60_000;
/** Ranges smaller than this are not worth a thread of their own. */
export const MIN_RANGE_BYTES = 8 * 1024 * 1024;
/** Hits a range that is not being shown yet may find before its thread waits. */
const HITS_AHEAD = 2000;

/** Line starts that cut [from, size) (from a line start) into about `parts` ranges: [from, …, size]. */
export async function cutAtLineStarts(fh: FileHandle, size: number, parts: number, from = 0): Promise<number[]> {
  const cuts = [from];
  const probe = Buffer.allocUnsafe(64 * 1024);
  for (let k = 1; k < parts; k++) {
    let at = from + Math.floor(((size - from) * k) / parts);
    if (at <= (cuts.at(-1) as number)) continue;
    // The first line start after `at`; a cut is dropped when no newline comes soon.
    let found = -1;
    for (let tries = 0; tries < 16 && found === -1 && at < size; tries++) {
      const { bytesRead } = await fh.read(probe, 0, Math.min(probe.length, size - at), at);
      if (bytesRead === 0) break;
      const nl = probe.subarray(0, bytesRead).indexOf(0x0a);
      if (nl !== -1) found = at + nl + 1;
      else at += bytesRead;
    }
    if (found !== -1 && found < size && found > (cuts.at(-1) as number)) cuts.push(found);
  }
  cuts.push(size);
  return cuts;
}

/**
 * Streams the hits of a search over the file as it is when the search starts: hits in file
 * order as they are found, progress at most every `progressEveryMs`, and a last progress at the
 * end. Stops at `limit` hits or when `signal` aborts (nothing is emitted after that). The scan
 * runs on worker threads, one byte range each (scanThreads.ts), so the main thread's event loop
 * only forwards hits; past `budgetMs` the threads are terminated and the search fails saying so.
 */
export async function searchLogFile(
  path: string,
  params: SearchParams,
  emit: (event: LogSearchEvent) => void,
  signal: AbortSignal,
  opts: SearchOptions = {},
): Promise<void> {
  const spec: LineFilterSpec = { pattern: params.pattern, regex: params.regex, caseSensitive: params.caseSensitive, level: params.level };
  // A bad pattern is refused here, before any thread starts.
  buildLineFilter(spec);
  const progressEveryMs = opts.progressEveryMs ?? 200;
  const budgetMs = opts.budgetMs ?? SEARCH_BUDGET_MS;
  const fh = await open(path, 'r');
  let cuts: number[];
  let totalBytes: number;
  try {
    totalBytes = (await fh.stat()).size;
    const parts = Math.max(1, opts.ranges ?? Math.min(scanThreads.size, Math.floor(totalBytes / MIN_RANGE_BYTES)));
    cuts = await cutAtLineStarts(fh, totalBytes, parts);
  } finally {
    await fh.close();
  }
  emit({ type: 'progress', scannedBytes: 0, totalBytes, hits: 0 });
  if (signal.aborted) return;

  const n = cuts.length - 1;
  const pending: RangeHit[][] = Array.from({ length: n }, () => []);
  const results: (RangeScanResult | null)[] = Array.from({ length: n }, () => null);
  const scannedTo = cuts.slice(0, n);
  let head = 0;
  let baseLine = 0;
  let hits = 0;
  let stoppedAt = -1;
  let lastProgressAt = Date.now();
  const jobs: RangeScanJob[] = [];
  for (let k = 0; k < n; k++) {
    jobs.push({
      path,
      start: cuts[k] as number,
      end: cuts[k + 1] as number,
      filter: spec,
      limit: params.limit,
      ...(opts.chunkBytes ? { chunkBytes: opts.chunkBytes } : {}),
      ...(k === 0 ? { firstChunkBytes: opts.firstChunkBytes ?? 256 * 1024 } : {}),
    });
  }
  const run = runParallelScan(
    jobs,
    {
      found(k, found, to) {
        scannedTo[k] = to;
        (pending[k] as RangeHit[]).push(...found);
        flush();
      },
      done(k, result) {
        results[k] = result;
        scannedTo[k] = cuts[k + 1] as number;
        flush();
      },
    },
    { signal, budgetMs, initialAllowance: (k) => (k === 0 ? params.limit : HITS_AHEAD) },
  );
  /** Emits what can be shown in file order: the head range's hits, then on to the next range. */
  function flush(): void {
    while (head < n && stoppedAt === -1) {
      const queue = pending[head] as RangeHit[];
      for (const h of queue) {
        if (signal.aborted) return;
        // A search's jobs are never `locate` ones: every hit carries its line.
        if (h.line) emit({ type: 'hit', line: { ...h.line, lineNo: baseLine + h.lineIndex + 1 } });
        hits++;
        if (hits >= params.limit) {
          stoppedAt = h.next;
          run.finish();
          return;
        }
      }
      queue.length = 0;
      const result = results[head];
      if (!result) break;
      baseLine += result.lines;
      head++;
      if (head < n) (run.ranges[head] as RangeRun).allow(params.limit);
    }
    const now = Date.now();
    if (now - lastProgressAt >= progressEveryMs && !signal.aborted) {
      lastProgressAt = now;
      let scanned = 0;
      for (let k = 0; k < n; k++) scanned += (scannedTo[k] as number) - (cuts[k] as number);
      emit({ type: 'progress', scannedBytes: scanned, totalBytes, hits });
    }
  }
  let how: ParallelScanEnd;
  try {
    how = await run.ended;
  } catch (err) {
    if (err instanceof ScanBudgetError) {
      let scanned = 0;
      for (let k = 0; k < n; k++) scanned += (scannedTo[k] as number) - (cuts[k] as number);
      const what = params.regex ? `the regular expression /${params.pattern}/` : `the search for "${params.pattern}"`;
      throw new Error(
        `search stopped after ${budgetMs / 1000} s, its time budget: ${what} had scanned ${mbText(scanned)} of ${mbText(totalBytes)} ` +
          `with ${hits} hits shown; a simpler pattern (a keyword, or a regular expression without nested or repeated wildcards) is faster`,
      );
    }
    throw err;
  }
  if (how === 'aborted' || signal.aborted) return;
  emit({ type: 'progress', scannedBytes: stoppedAt === -1 ? totalBytes : Math.min(stoppedAt, totalBytes), totalBytes, hits });
}

function mbText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${bytes.toLocaleString('en-US')} bytes`;
}
