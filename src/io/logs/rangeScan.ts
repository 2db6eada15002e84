import { isAscii } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';
import type { LogLevelName, LogLine } from '../../shared/contract/logs.js';
import { levelAtLeast } from '../../shared/logLevels.js';
import { ByteKernels } from './byteKernels.js';
import { normalizeLevel } from './logLineParser.js';
import { buildLineFilter, countNewlinesIn, displayLine, type LineFilterSpec } from './logSearch.js';

/**
 * One byte range of a log file searched synchronously, on a scan thread (see scanThreads.ts):
 * the range is read in big chunks of whole lines and searched as bytes. An ASCII keyword is found
 * by a SIMD finder built for it (ByteKernels.tokenFinder: the 16-byte blocks where it may begin),
 * then compared byte by byte there, ASCII case folded when case does not matter;
 * newlines are counted only to number the hits, by the SIMD kernel. Only a hit's line is
 * decoded. A level alone is found by its words' bytes: a SIMD finder built for the level's
 * aliases (ByteKernels.tokenFinder) skips the blocks where none begins, and only the lines around
 * a block it stops at are decoded and parsed (in a JSON-lines log, the lines whose level field or
 * text holds such a word); so is a regular expression's leading literal (`requiredPrefix`), the
 * expression then tested on the lines that hold it. Any other regular expression (or a non-ASCII
 * keyword) runs over the chunk as text, as `scanMatches` does, latin1-decoded when it is ASCII.
 */

export interface RangeScanJob {
  path: string;
  /** A line start. */
  start: number;
  /** A line start or the end of the file (exclusive). */
  end: number;
  filter: LineFilterSpec;
  /** Hits after which the range stops (no later hit of it could be shown). */
  limit: number;
  chunkBytes?: number;
  /** The first read is smaller so the first hit shows at once. */
  firstChunkBytes?: number;
  /** Hits carry where their line is (start offset, index), not the line itself (a filter's match list). */
  locate?: boolean;
}

export interface RangeHit {
  /** 0-based line index within the range. */
  lineIndex: number;
  /** File offset of the hit's line. */
  start: number;
  /** File offset just past the hit's line. */
  next: number;
  /** The line, with lineNo null (the caller knows the range's first line number); null for a `locate` job. */
  line: LogLine | null;
}

export interface RangeScanSink {
  /** Hits found so far in the chunk just scanned; `scannedTo` is a file offset, `linesTo` the range's lines before it. */
  found(hits: RangeHit[], scannedTo: number, linesTo: number): void;
  /** Asked between chunks: true stops the scan. */
  stopped(): boolean;
}

export interface RangeScanResult {
  /** Lines of the range scanned (all of them unless stopped). */
  lines: number;
  hits: number;
  scannedTo: number;
  stopped: boolean;
}

const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;
/** A line longer than this is searched in its head only (as scanLineChunks does). */
const MAX_LINE_BYTES = 16 * 1024 * 1024;
const NEWLINE = 0x0a;

let kernels: ByteKernels | null = null;

function kernelsFor(capacity: number): ByteKernels {
  if (!kernels || kernels.capacity < capacity) kernels = new ByteKernels(capacity);
  return kernels;
}

/**
 * The letters, digits and spaces a regular expression starts with, when every line it matches
 * must hold them (no alternation anywhere; a character a quantifier applies to is left out), and
 * there are at least 3; else null. Without the `u` flag a case-insensitive ASCII letter matches
 * only itself in either case, so the finder's ASCII folding covers it.
 */
export function requiredPrefix(source: string): string | null {
  if (source.includes('|')) return null;
  let end = 0;
  while (end < source.length && /[A-Za-z0-9 ]/.test(source.charAt(end))) end++;
  if (end < source.length && /[?*+{]/.test(source.charAt(end))) end--;
  return end >= 3 ? source.slice(0, end) : null;
}

const LEVEL_KEY = Buffer.from('"level"', 'latin1');
const BACKSLASH = 0x5c;
const QUOTE = 0x22;
/** The level's value must end this far into the line, so the plain-text reading (first 200 characters) sees it whole. */
const LEVEL_FIELD_WITHIN = 190;

/** A byte of a string in a line's leading fields: printable ASCII, not a quote or backslash, not v/V (every keyed level word of the plain-text reading has one). */
function plainFieldByte(b: number): boolean {
  return b >= 0x20 && b < 0x7f && b !== QUOTE && b !== BACKSLASH && b !== 0x76 && b !== 0x56;
}

/**
 * The level `levelOfText` gives a JSON line of the usual shape, read from its bytes without
 * decoding it: `{"k":"v",…,"level":"WORD"…` with plain leading fields, the word letters only
 * and an alias, no other `"level"` and no backslash later in the line. Both of levelOfText's
 * readings then agree on WORD, whether or not the rest of the line is valid JSON: JSON.parse
 * would give the one top-level "level" (checked first of the level keys); the plain-text reading
 * would take the first `level":"WORD` in its first 200 characters, and no keyed level word can
 * come before it (none has a v). undefined: not that shape (the caller decodes and parses).
 */
export function levelField(
  buf: Buffer,
  ls: number,
  le: number,
  nextAt: (which: 'key' | 'backslash', from: number) => number,
): LogLevelName | null | undefined {
  if (buf[ls] !== 0x7b) return undefined;
  const limit = Math.min(le, ls + LEVEL_FIELD_WITHIN);
  let i = ls + 1;
  for (;;) {
    if (i + 9 >= limit || buf[i] !== QUOTE) return undefined;
    if (buf.compare(LEVEL_KEY, 0, 7, i, i + 7) === 0 && buf[i + 7] === 0x3a && buf[i + 8] === QUOTE) {
      const from = i + 9;
      let j = from;
      while (j < limit && (((buf[j] as number) | 0x20) >= 0x61 && ((buf[j] as number) | 0x20) <= 0x7a)) j++;
      if (j === from || j >= limit || buf[j] !== QUOTE) return undefined;
      const level = normalizeLevel(buf.toString('latin1', from, j));
      if (level === null) return undefined;
      const key = nextAt('key', j);
      const backslash = nextAt('backslash', ls);
      if ((key !== -1 && key < le) || (backslash !== -1 && backslash < le)) return undefined;
      return level;
    }
    // Another leading field: "key":"value", both plain.
    let j = i + 1;
    while (j < limit && plainFieldByte(buf[j] as number)) j++;
    if (j + 2 >= limit || buf[j] !== QUOTE || buf[j + 1] !== 0x3a || buf[j + 2] !== QUOTE) return undefined;
    j += 3;
    while (j < limit && plainFieldByte(buf[j] as number)) j++;
    if (j + 1 >= limit || buf[j] !== QUOTE || buf[j + 1] !== 0x2c) return undefined;
    i = j + 2;
  }
}

/** The line's own text: without its newline and a trailing \r. */
function lineBytesEnd(buf: Buffer, start: number, end: number): number {
  return end > start && buf[end - 1] === 0x0d ? end - 1 : end;
}

export function scanRange(job: RangeScanJob, sink: RangeScanSink): RangeScanResult {
  const filter = buildLineFilter(job.filter);
  const spec = job.filter;
  const pattern = spec.pattern ?? '';
  const literal = pattern.length > 0 && !spec.regex && /^[\x00-\x7f]*$/.test(pattern);
  const folded = literal && !spec.caseSensitive;
  const needle = literal ? Buffer.from(folded ? pattern.toLowerCase() : pattern, 'latin1') : null;
  // A literal's byte match is exact; only a level filter still has to look at the line.
  const exact = literal && !spec.level && !/[\r\n]/.test(pattern);
  // A level alone: its words are looked for as bytes; the lines that hold one are then tested.
  // A regular expression that starts with a literal: the lines that hold the literal are tested.
  const prefix = spec.regex ? requiredPrefix(pattern) : null;
  const levelTokens = !needle && filter.tokens && !spec.pattern ? filter.tokens : prefix ? [prefix.toLowerCase()] : null;
  const chunkBytes = job.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const k = kernelsFor(chunkBytes + MAX_LINE_BYTES);
  const buf = k.raw;
  const findToken = levelTokens ? k.tokenFinder(levelTokens) : null;
  // A keyword of 2 bytes or more: the SIMD finder skips the blocks where it cannot begin (on its
  // first 3 bytes, case aside), and the few it stops at are compared byte by byte.
  const findNeedle = needle && needle.length >= 2 ? k.tokenFinder([needle.toString('latin1').toLowerCase()]) : null;
  const needleAt = (i: number): boolean => {
    const n = needle as Buffer;
    for (let j = 0; j < n.length; j++) {
      let b = buf[i + j] as number;
      if (folded && b >= 0x41 && b <= 0x5a) b += 0x20;
      if (b !== n[j]) return false;
    }
    return true;
  };
  const fd = openSync(job.path, 'r');
  let pos = job.start;
  let fill = 0;
  let lines = 0;
  let hits = 0;
  let batch: RangeHit[] = [];
  let firstRead = true;
  let stopped = false;

  // A level alone, in a JSON line of the usual shape: the level read from its field's bytes.
  const levelOnly = levelTokens !== null && !spec.pattern && spec.level !== undefined ? spec.level : null;
  // The next `"level"` and backslash in the chunk, kept between lines (one search per occurrence, not per line).
  let laterLevelKey = -2;
  let laterBackslash = -2;
  let levelHay = buf.subarray(0, 0);
  const nextAt = (which: 'key' | 'backslash', from: number): number => {
    if (which === 'key') {
      if (laterLevelKey !== -1 && laterLevelKey < from) laterLevelKey = levelHay.indexOf(LEVEL_KEY, from);
      return laterLevelKey;
    }
    if (laterBackslash !== -1 && laterBackslash < from) laterBackslash = levelHay.indexOf(BACKSLASH, from);
    return laterBackslash;
  };

  const hit = (ls: number, le: number, lineIndex: number, start: number, next: number, text?: string): boolean => {
    if (levelOnly && text === undefined) {
      const level = levelField(buf, ls, le, nextAt);
      if (level !== undefined && !levelAtLeast(level, levelOnly)) return true;
      if (level !== undefined && job.locate) {
        batch.push({ lineIndex, start, next, line: null });
        hits++;
        return hits < job.limit;
      }
    }
    if (!exact || !job.locate) {
      const line = text ?? buf.toString('utf8', ls, lineBytesEnd(buf, ls, le));
      if (!exact && !filter.test(line)) return true;
      batch.push({ lineIndex, start, next, line: job.locate ? null : displayLine(line, null) });
    } else {
      batch.push({ lineIndex, start, next, line: null });
    }
    hits++;
    return hits < job.limit;
  };

  /** Lines in buf[0, to): all whole, except a last one at the end of the file. Returns false to stop. */
  const scanChunk = (to: number): boolean => {
    let cursor = 0;
    let more = true;
    if (needle) {
      const hay = buf.subarray(0, to);
      // A one-byte keyword: Buffer.indexOf (memchr), over the case-folded copy when case does not matter.
      const plainHay = findNeedle ? null : folded ? k.fold(to) : hay;
      const nextMatch = (from: number): number => {
        if (plainHay || !findNeedle) return (plainHay ?? hay).indexOf(needle, from);
        const last = to - needle.length;
        for (let p = from; ; ) {
          const block = findNeedle(p, to);
          if (block >= to) return -1;
          const stop = Math.min(block + 15, last);
          for (let i = block; i <= stop; i++) if (needleAt(i)) return i;
          p = block + 16;
        }
      };
      let m = nextMatch(0);
      while (m !== -1) {
        const ls = m === 0 ? 0 : hay.lastIndexOf(NEWLINE, m - 1) + 1;
        const nl = hay.indexOf(NEWLINE, m);
        const le = nl === -1 ? to : nl;
        lines += k.countNewlines(cursor, ls);
        cursor = nl === -1 ? to : nl + 1;
        more = hit(ls, le, lines, pos + ls, pos + cursor);
        if (nl !== -1) lines++;
        if (!more || cursor >= to) break;
        m = nextMatch(cursor);
      }
    } else if (findToken) {
      const hay = buf.subarray(0, to);
      laterLevelKey = -2;
      laterBackslash = -2;
      levelHay = hay;
      let from = 0;
      for (;;) {
        const block = findToken(from, to);
        if (block >= to) break;
        // Every line in which a word may begin inside the block [block, block + 16).
        let ls = block === 0 ? 0 : hay.lastIndexOf(NEWLINE, block - 1) + 1;
        if (ls < cursor) ls = cursor;
        const blockEnd = Math.min(block + 16, to);
        while (more && ls < blockEnd) {
          const nl = hay.indexOf(NEWLINE, ls);
          const le = nl === -1 ? to : nl;
          lines += k.countNewlines(cursor, ls);
          cursor = nl === -1 ? to : nl + 1;
          more = hit(ls, le, lines, pos + ls, pos + cursor);
          if (nl !== -1) lines++;
          ls = cursor;
        }
        if (!more || cursor >= to) break;
        from = Math.max(cursor, blockEnd);
      }
    } else {
      const ascii = isAscii(buf.subarray(0, to));
      const text = buf.toString(ascii ? 'latin1' : 'utf8', 0, to);
      const re = filter.candidates;
      // Character → byte offsets, advanced incrementally, when the text has multi-byte characters.
      let bytePos = 0;
      let byteChar = 0;
      const byteOf = (charPos: number): number => {
        if (ascii) return charPos;
        bytePos += Buffer.byteLength(text.slice(byteChar, charPos));
        byteChar = charPos;
        return bytePos;
      };
      const countTo = (charPos: number): number => (ascii ? k.countNewlines(cursor, charPos) : countNewlinesIn(text, cursor, charPos));
      const visit = (ls: number, le: number): boolean => {
        const stop = le > ls && text.charCodeAt(le - 1) === 0x0d ? le - 1 : le;
        const line = text.slice(ls, stop);
        lines += countTo(ls);
        const lineIndex = lines;
        cursor = le < text.length ? le + 1 : le;
        if (le < text.length) lines++;
        if (!filter.test(line)) return true;
        const start = pos + byteOf(ls);
        return hit(0, 0, lineIndex, start, pos + byteOf(cursor), line);
      };
      if (re === null) {
        while (cursor < text.length && more) {
          const nl = text.indexOf('\n', cursor);
          more = visit(cursor, nl === -1 ? text.length : nl);
        }
      } else {
        re.lastIndex = 0;
        for (;;) {
          const m = re.exec(text);
          if (!m || m.index >= text.length) break;
          const ls = m.index === 0 ? 0 : text.lastIndexOf('\n', m.index - 1) + 1;
          const nl = text.indexOf('\n', m.index);
          more = visit(Math.max(ls, cursor), nl === -1 ? text.length : nl);
          if (!more || cursor >= text.length) break;
          re.lastIndex = cursor;
        }
      }
      if (more) lines += countTo(text.length);
      cursor = more ? to : byteOf(cursor);
    }
    if ((needle || findToken) && more) lines += k.countNewlines(cursor, to);
    const scannedTo = more ? pos + to : pos + cursor;
    if (batch.length > 0 || more) {
      sink.found(batch, scannedTo, lines);
      batch = [];
    }
    if (!more) {
      pos = scannedTo;
      return false;
    }
    return true;
  };

  try {
    for (;;) {
      if (sink.stopped()) {
        stopped = true;
        break;
      }
      const readAt = pos + fill;
      let want = Math.min(chunkBytes, buf.length - fill, job.end - readAt);
      if (firstRead && job.firstChunkBytes) want = Math.min(want, job.firstChunkBytes);
      firstRead = false;
      const n = want > 0 ? readSync(fd, buf, fill, want, readAt) : 0;
      if (n === 0) {
        if (fill > 0 && !scanChunk(fill)) stopped = true;
        else pos += fill;
        break;
      }
      fill += n;
      const last = buf.lastIndexOf(NEWLINE, fill - 1);
      if (last === -1) {
        if (fill < buf.length) continue;
        // A giant line: its head is searched as the line; the rest is skipped.
        const head = fill;
        if (!scanChunk(head)) {
          stopped = true;
          break;
        }
        pos = skipPastNewline(fd, pos + fill, job.end, buf);
        lines += 1;
        fill = 0;
        continue;
      }
      if (!scanChunk(last + 1)) {
        stopped = true;
        break;
      }
      pos += last + 1;
      buf.copyWithin(0, last + 1, fill);
      fill -= last + 1;
    }
  } finally {
    closeSync(fd);
  }
  return { lines, hits, scannedTo: pos, stopped };
}

/** The offset just past the next newline at or after `from` (or `end`). Uses buf's head as scratch. */
function skipPastNewline(fd: number, from: number, end: number, buf: Buffer): number {
  let pos = from;
  const scratch = buf.subarray(0, Math.min(buf.length, 1024 * 1024));
  while (pos < end) {
    const n = readSync(fd, scratch, 0, Math.min(scratch.length, end - pos), pos);
    if (n === 0) return pos;
    const nl = scratch.subarray(0, n).indexOf(NEWLINE);
    if (nl !== -1) return pos + nl + 1;
    pos += n;
  }
  return pos;
}
