import { open, type FileHandle } from 'node:fs/promises';
import { ApiError } from '../../shared/contractKit.js';
import type { LogLevelName, LogLine } from '../../shared/contract/logs.js';
import type { LineIndex } from './lineIndex.js';
import { LineCursor, linesBackward } from './lineReading.js';
import { compareTimeKeys, parseLogText, timeKeyOf, toLogLine, type TimeKey } from './logLineParser.js';
import type { LineFilter } from './logSearch.js';
import type { MatchIndex } from './matchIndex.js';

/**
 * Pages of a log file. Unfiltered: seek to the nearest index checkpoint and skip forward.
 * From the end before the index is done: read backwards from the end of the file. Jump to
 * time: binary search over the checkpoints (reading the line at each), then a short scan.
 * Filtered: through a MatchIndex.
 */

export interface PageQuery {
  page: number;
  pageSize: number;
  level?: LogLevelName;
  keyword?: string;
  at?: string;
  fromEnd?: boolean;
}

export interface PageAnswer {
  page: number;
  pageSize: number;
  totalLines: number | null;
  totalPages: number | null;
  lines: LogLine[];
  index: { done: boolean; progress: number };
}

/** How many lines after a checkpoint are read to find one with a time. */
const TIME_PROBE_LINES = 64;

function pagesOf(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(total / pageSize));
}

export function parseAt(at: string): TimeKey {
  const key = timeKeyOf(at);
  if (!key) throw new ApiError(400, `at: "${at}" is not a time (use YYYY-MM-DD HH:MM:SS or ISO 8601)`);
  return key;
}

async function readLinesAt(fh: FileHandle, index: LineIndex, first: number, count: number, end?: number): Promise<LogLine[]> {
  const { offset, skip } = index.locate(first);
  const cursor = new LineCursor(fh, offset, 256 * 1024, end);
  const skipped = await cursor.skip(skip);
  if (skipped < skip) return [];
  const lines: LogLine[] = [];
  for (let i = 0; i < count; i++) {
    const line = await cursor.next();
    if (!line) break;
    lines.push(toLogLine(line.text, first + i + 1, line.cutBytes));
  }
  return lines;
}

/** The first line with a time at or after `cursor`'s position, within a few lines. */
async function probeTime(fh: FileHandle, offset: number): Promise<TimeKey | null> {
  const cursor = new LineCursor(fh, offset, 64 * 1024);
  for (let i = 0; i < TIME_PROBE_LINES; i++) {
    const line = await cursor.next();
    if (!line) return null;
    const time = parseLogText(line.text).time;
    const key = time ? timeKeyOf(time) : null;
    if (key) return key;
  }
  return null;
}

/**
 * The 0-based index of the first line whose time is at or after `target`, or the number of
 * lines when there is none. Assumes the file is in time order (a log is); lines without a
 * time are passed over. Needs a finished index.
 */
export async function findLineAtTime(index: LineIndex, target: TimeKey): Promise<number> {
  await index.whenDone();
  const total = index.lines ?? 0;
  const fh = await open(index.path, 'r');
  try {
    // The last checkpoint whose first timed line is before the target: the answer lies after it.
    let lo = 0;
    let hi = index.checkpointCount - 1;
    const before = async (j: number): Promise<boolean> => {
      const key = await probeTime(fh, index.checkpoint(j));
      return key === null || compareTimeKeys(key, target) < 0;
    };
    if (!(await before(0))) hi = 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (await before(mid)) lo = mid;
      else hi = mid - 1;
    }
    const cursor = new LineCursor(fh, index.checkpoint(lo), 256 * 1024, index.indexedBytes);
    let lineIndex = lo * index.stride;
    for (;;) {
      const line = await cursor.next();
      if (!line) return total;
      const time = parseLogText(line.text).time;
      const key = time ? timeKeyOf(time) : null;
      if (key && compareTimeKeys(key, target) >= 0) return lineIndex;
      lineIndex++;
    }
  } finally {
    await fh.close();
  }
}

function indexStatus(index: LineIndex): { done: boolean; progress: number } {
  const s = index.state();
  return { done: s.done, progress: s.progress };
}

/** A page of the file, all lines. `index` must have been refreshed. */
export async function readUnfilteredPage(index: LineIndex, query: PageQuery): Promise<PageAnswer> {
  const size = query.pageSize;
  if (query.fromEnd && !query.at) {
    if (!index.done) return readPageFromEndByScan(index, null, query);
    const total = index.lines ?? 0;
    const totalPages = pagesOf(total, size);
    const page = Math.min(query.page, totalPages);
    const endIndex = total - (page - 1) * size;
    const first = Math.max(0, endIndex - size);
    const fh = await open(index.path, 'r');
    try {
      const lines = await readLinesAt(fh, index, first, endIndex - first, index.indexedBytes);
      return { page, pageSize: size, totalLines: total, totalPages, lines, index: indexStatus(index) };
    } finally {
      await fh.close();
    }
  }
  let page = query.page;
  if (query.at) {
    const target = parseAt(query.at);
    const lineIndex = await findLineAtTime(index, target);
    const total = index.lines ?? 0;
    page = Math.floor(Math.min(lineIndex, Math.max(0, total - 1)) / size) + 1;
  }
  let first = (page - 1) * size;
  await index.whenLines(first + size);
  let totalLines: number | null = null;
  let totalPages: number | null = null;
  if (index.done) {
    totalLines = index.lines ?? 0;
    totalPages = pagesOf(totalLines, size);
    if (page > totalPages) {
      page = totalPages;
      first = (page - 1) * size;
    }
  }
  const fh = await open(index.path, 'r');
  try {
    const count = totalLines === null ? size : Math.min(size, totalLines - first);
    const lines = await readLinesAt(fh, index, first, count, index.done ? index.indexedBytes : undefined);
    return { page, pageSize: size, totalLines, totalPages, lines, index: indexStatus(index) };
  } finally {
    await fh.close();
  }
}

/**
 * A page counted from the end, read backwards from the end of the file: no index needed.
 * Line numbers are known when the scan reaches the start of the file or the index is done.
 */
async function readPageFromEndByScan(index: LineIndex, filter: LineFilter | null, query: PageQuery): Promise<PageAnswer> {
  const size = query.pageSize;
  const skip = (query.page - 1) * size;
  const fh = await open(index.path, 'r');
  try {
    const end = index.done ? index.indexedBytes : (await fh.stat()).size;
    const picked: { text: string; cutBytes: number; fromEnd: number }[] = [];
    let fromEnd = 0;
    let matched = 0;
    let reachedStart = true;
    for await (const line of linesBackward(fh, end)) {
      if (!filter || filter.test(line.text)) {
        if (matched >= skip) picked.push({ text: line.text, cutBytes: line.cutBytes, fromEnd });
        matched++;
      }
      fromEnd++;
      if (picked.length === size) {
        reachedStart = line.start === 0;
        break;
      }
    }
    // Past the first page: the file is shorter than asked; serve its first page (from the end, the last).
    if (picked.length === 0 && matched > 0 && reachedStart) {
      const lastPage = pagesOf(matched, size);
      return readPageFromEndByScan(index, filter, { ...query, page: lastPage });
    }
    const total = reachedStart ? fromEnd : index.done ? (index.lines ?? null) : null;
    const lines = picked.reverse().map((p) => toLogLine(p.text, total === null ? null : total - p.fromEnd, p.cutBytes));
    const totalMatches = reachedStart ? matched : null;
    return {
      page: query.page,
      pageSize: size,
      totalLines: totalMatches,
      totalPages: totalMatches === null ? null : pagesOf(totalMatches, size),
      lines,
      index: filter ? { done: reachedStart, progress: reachedStart ? 1 : 0 } : indexStatus(index),
    };
  } finally {
    await fh.close();
  }
}

/** A page of the lines that pass a filter. `index` must have been refreshed. */
export async function readFilteredPage(index: LineIndex, matches: MatchIndex, query: PageQuery): Promise<PageAnswer> {
  const size = query.pageSize;
  const status = (): { done: boolean; progress: number } => ({ done: matches.done, progress: matches.progress });
  if (query.fromEnd && !query.at) {
    if (!matches.done) {
      const answer = await readPageFromEndByScan(index, matches.filter, query);
      return { ...answer, index: status() };
    }
    const total = matches.count;
    const totalPages = pagesOf(total, size);
    const page = Math.min(query.page, totalPages);
    const endIndex = total - (page - 1) * size;
    const first = Math.max(0, endIndex - size);
    const lines = await matches.read(first, endIndex - first);
    return { page, pageSize: size, totalLines: total, totalPages, lines, index: status() };
  }
  let page = query.page;
  if (query.at) {
    const lineIndex = await findLineAtTime(index, parseAt(query.at));
    const before = await matches.countBefore(lineIndex);
    // No match at or after the time yet: scan on for one, else the last page.
    await matches.advance(() => matches.count > before);
    page = Math.floor(Math.min(before, Math.max(0, matches.count - 1)) / size) + 1;
  }
  let first = (page - 1) * size;
  await matches.advance(() => matches.count >= first + size);
  let totalLines: number | null = null;
  let totalPages: number | null = null;
  if (matches.done) {
    totalLines = matches.count;
    totalPages = pagesOf(totalLines, size);
    if (page > totalPages) {
      page = totalPages;
      first = (page - 1) * size;
    }
  }
  const lines = await matches.read(first, size);
  return { page, pageSize: size, totalLines, totalPages, lines, index: status() };
}
