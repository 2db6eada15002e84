import { open, type FileHandle } from 'node:fs/promises';
import { ApiError } from '../../shared/contractKit.js';
import type { LogLevelName, LogLine, LogSearchEvent } from '../../shared/contract/logs.js';
import { levelAtLeast } from '../../shared/logLevels.js';
import { levelOfText, levelTokensAtLeast, toLogLine } from './logLineParser.js';
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
  /** The exact test of one line. */
  test(line: string): boolean;
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
  if (!candidates && level) {
    candidates = new RegExp(levelTokensAtLeast(level).map(escapeRegExp).join('|'), 'gi');
  }
  // For lines tested one by one (reading backwards): the cheap candidate test first.
  const quick = candidates ? new RegExp(candidates.source, candidates.flags.replace('g', '')) : null;
  const test = (line: string): boolean => {
    if (quick && !patternTest && !quick.test(line)) return false;
    if (patternTest && !patternTest.test(line)) return false;
    return !level || levelAtLeast(levelOfText(line), level);
  };
  return { encoding, candidates, test };
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

function countNewlinesIn(text: string, from: number, to: number): number {
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
      for (;;) {
        const m = re.exec(text);
        if (!m) break;
        const at = m.index;
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
}

/**
 * Streams the hits of a search over the file as it is when the search starts: hits as they
 * are found, progress at most every `progressEveryMs`, and a last progress at the end. Stops
 * at `limit` hits or when `signal` aborts (checked between chunks and between hits).
 */
export async function searchLogFile(
  path: string,
  params: SearchParams,
  emit: (event: LogSearchEvent) => void,
  signal: AbortSignal,
  opts: SearchOptions = {},
): Promise<void> {
  const filter = buildLineFilter({ pattern: params.pattern, regex: params.regex, caseSensitive: params.caseSensitive, level: params.level });
  const progressEveryMs = opts.progressEveryMs ?? 200;
  const fh = await open(path, 'r');
  try {
    const totalBytes = (await fh.stat()).size;
    let hits = 0;
    let scanned = 0;
    let lastProgressAt = Date.now();
    emit({ type: 'progress', scannedBytes: 0, totalBytes, hits: 0 });
    if (signal.aborted) return;
    const result = await scanMatches(
      fh,
      filter,
      {
        from: 0,
        lineIndex: 0,
        end: totalBytes,
        signal,
        chunkBytes: opts.chunkBytes,
        firstChunkBytes: opts.firstChunkBytes ?? 256 * 1024,
      },
      (m) => {
        if (signal.aborted) return false;
        emit({ type: 'hit', line: displayLine(m.text, m.lineIndex + 1) });
        hits++;
        return hits < params.limit;
      },
      (p) => {
        scanned = p.end;
        const now = Date.now();
        if (now - lastProgressAt >= progressEveryMs) {
          lastProgressAt = now;
          emit({ type: 'progress', scannedBytes: scanned, totalBytes, hits });
        }
        return !signal.aborted;
      },
    );
    if (signal.aborted) return;
    const scannedBytes = result.stopped ? Math.max(scanned, result.offset) : totalBytes;
    emit({ type: 'progress', scannedBytes: Math.min(scannedBytes, totalBytes), totalBytes, hits });
  } finally {
    await fh.close();
  }
}
