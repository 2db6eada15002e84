import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineIndex } from '../../../src/io/logs/lineIndex.js';
import { readFilteredPage } from '../../../src/io/logs/logPaging.js';
import { buildLineFilter } from '../../../src/io/logs/logSearch.js';
import { MatchIndex } from '../../../src/io/logs/matchIndex.js';
import type { LogLevelName } from '../../../src/shared/contract/logs.js';
import { freshDir } from '../../helpers.js';
import { expectedRaw, generateLines, plainTime, referenceLines, writeLines, type GeneratedLine } from './logFixtures.js';

const LINES = 200_000;
const RANK: Record<LogLevelName, number> = { DEBUG: 1, INFO: 2, WARNING: 3, ERROR: 4, CRITICAL: 5 };

let tmp: { dir: string; remove: () => void };
let path: string;
let generated: GeneratedLine[];
let ref: string[];
let index: LineIndex;

beforeAll(async () => {
  tmp = freshDir('logs-filter');
  path = join(tmp.dir, 'strategy.log');
  generated = generateLines(LINES, 23, { longLineAt: 5_000 });
  writeLines(path, generated);
  ref = referenceLines(readFileSync(path, 'utf8'));
  index = new LineIndex(path);
  await index.refresh();
});
afterAll(() => {
  index.close();
  tmp.remove();
});

/** The reference: line numbers (1-based) whose generated level and text pass the filter. */
function expected(level: LogLevelName | undefined, keyword: string | undefined): number[] {
  const out: number[] = [];
  generated.forEach((g, i) => {
    if (level && (g.level === null || RANK[g.level] < RANK[level])) return;
    if (keyword && !(ref[i] as string).toLowerCase().includes(keyword.toLowerCase())) return;
    out.push(i + 1);
  });
  return out;
}

function expectPage(lines: { lineNo: number | null; raw: string }[], want: number[]): void {
  expect(lines.map((l) => l.lineNo)).toEqual(want);
  lines.forEach((l) => expect(l.raw).toBe(expectedRaw(ref[(l.lineNo as number) - 1] as string)));
}

describe('filtered paging', () => {
  const filters: [LogLevelName | undefined, string | undefined][] = [
    ['ERROR', undefined],
    ['WARNING', undefined],
    [undefined, 'restore'],
    ['ERROR', 'restore'],
    [undefined, '订单被拒绝'],
    ['CRITICAL', 'order filled'],
  ];
  it.each(filters)('level %s, keyword %s: pages equal the reference', async (level, keyword) => {
    const want = expected(level, keyword);
    expect(want.length).toBeGreaterThan(0);
    const matches = new MatchIndex(index, buildLineFilter({ level, pattern: keyword }));
    const size = 150;
    const first = await readFilteredPage(index, matches, { page: 1, pageSize: size, level, keyword });
    expectPage(first.lines, want.slice(0, size));
    const p = Math.max(1, Math.floor(want.length / size / 2));
    const mid = await readFilteredPage(index, matches, { page: p, pageSize: size, level, keyword });
    expectPage(mid.lines, want.slice((p - 1) * size, p * size));
    // From the end before the scan is done: read backwards, numbered since the index is done.
    const fromEndEarly = await readFilteredPage(index, new MatchIndex(index, buildLineFilter({ level, pattern: keyword })), {
      page: 1,
      pageSize: size,
      level,
      keyword,
      fromEnd: true,
    });
    expectPage(fromEndEarly.lines, want.slice(-size));
    await matches.advance(() => false);
    expect(matches.done).toBe(true);
    expect(matches.count).toBe(want.length);
    const last = await readFilteredPage(index, matches, { page: 1, pageSize: size, level, keyword, fromEnd: true });
    expect(last).toMatchObject({ totalLines: want.length, totalPages: Math.ceil(want.length / size), index: { done: true, progress: 1 } });
    expectPage(last.lines, want.slice(-size));
    const past = await readFilteredPage(index, matches, { page: 10_000, pageSize: size, level, keyword });
    expect(past.page).toBe(Math.ceil(want.length / size));
    expectPage(past.lines, want.slice((past.page - 1) * size));
    matches.close();
  });

  it('bounded memory: past maxStored it keeps every 2nd, 4th … match and still pages exactly', async () => {
    const want = expected('INFO', undefined);
    const matches = new MatchIndex(index, buildLineFilter({ level: 'INFO' }), { maxStored: 1000 });
    await matches.advance(() => false);
    expect(matches.count).toBe(want.length);
    const { stored, stride } = matches.storedEntries;
    expect(stored).toBeLessThanOrEqual(1000);
    expect(stride).toBeGreaterThanOrEqual(128);
    for (const page of [1, 7, 333, Math.ceil(want.length / 100)]) {
      const answer = await readFilteredPage(index, matches, { page, pageSize: 100, level: 'INFO' });
      expectPage(answer.lines, want.slice((page - 1) * 100, page * 100));
    }
    matches.close();
  });

  it('jump to time within a filter: the filtered page holding the first match at or after it', async () => {
    const want = expected('ERROR', undefined);
    const matches = new MatchIndex(index, buildLineFilter({ level: 'ERROR' }));
    const second = 120_000;
    const firstLine = generated.findIndex((g, i) => i >= second && g.time !== null);
    const pos = want.findIndex((n) => n - 1 >= firstLine);
    const answer = await readFilteredPage(index, matches, { page: 1, pageSize: 100, level: 'ERROR', at: plainTime(second) });
    expect(answer.page).toBe(Math.floor(pos / 100) + 1);
    expectPage(answer.lines, want.slice((answer.page - 1) * 100, answer.page * 100));
    matches.close();
  });

  it('answers the first page before the whole file is scanned, then completes in the background', async () => {
    const matches = new MatchIndex(index, buildLineFilter({ level: 'INFO' }), { chunkBytes: 256 * 1024 });
    const first = await readFilteredPage(index, matches, { page: 1, pageSize: 50, level: 'INFO' });
    expect(first.totalLines).toBeNull();
    expect(first.index.done).toBe(false);
    expect(first.index.progress).toBeLessThan(1);
    matches.completeInBackground();
    await matches.advance(() => false);
    expect(matches.count).toBe(expected('INFO', undefined).length);
    matches.close();
  });

  it('follows a growing file, an unfinished last line included once its newline arrives', async () => {
    const file = join(tmp.dir, 'live.log');
    writeFileSync(file, '{"level":"ERROR","message":"a"}\n{"level":"INFO","message":"b"}\n{"level":"ERR');
    const live = new LineIndex(file);
    await live.refresh();
    const matches = new MatchIndex(live, buildLineFilter({ level: 'ERROR' }));
    const before = await readFilteredPage(live, matches, { page: 1, pageSize: 10, level: 'ERROR' });
    // The unfinished `{"level":"ERR` reads as plain text with level=ERR: it counts for now.
    expect(before.lines.map((l) => l.lineNo)).toEqual([1, 3]);
    appendFileSync(file, 'OR","message":"c"}\n{"level":"DEBUG"}\n{"level":"CRITICAL","message":"d"}\n');
    await live.refresh();
    const after = await readFilteredPage(live, matches, { page: 1, pageSize: 10, level: 'ERROR' });
    expect(after.lines.map((l) => [l.lineNo, l.message])).toEqual([[1, 'a'], [3, 'c'], [5, 'd']]);
    expect(after.totalLines).toBe(3);
    live.close();
  });
});
