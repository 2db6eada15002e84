import { appendFileSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineIndex } from '../../../src/io/logs/lineIndex.js';
import { LineCursor, linesBackward } from '../../../src/io/logs/lineReading.js';
import { findLineAtTime, parseAt, readUnfilteredPage } from '../../../src/io/logs/logPaging.js';
import { open } from 'node:fs/promises';
import { freshDir } from '../../helpers.js';
import { expectedRaw, generateLines, plainTime, referenceLines, writeLines, type GeneratedLine } from './logFixtures.js';

const LINES = 200_000;
const PAGE = 200;
let tmp: { dir: string; remove: () => void };
let path: string;
let generated: GeneratedLine[];
let ref: string[];

beforeAll(() => {
  tmp = freshDir('logs-index');
  path = join(tmp.dir, 'strategy.log');
  generated = generateLines(LINES, 11, { longLineAt: 103_250 });
  writeLines(path, generated);
  ref = referenceLines(readFileSync(path, 'utf8'));
});
afterAll(() => tmp.remove());

/** The page's lines must be exactly the reference's lines first..first+n-1, numbered. */
function expectLines(lines: { lineNo: number | null; raw: string }[], first: number, n: number, numbered = true): void {
  expect(lines.length).toBe(n);
  lines.forEach((l, i) => {
    expect(l.lineNo).toBe(numbered ? first + i + 1 : null);
    expect(l.raw).toBe(expectedRaw(ref[first + i] as string));
  });
}

describe('line index', () => {
  it('counts the lines of a generated file like a whole-file split does, with checkpoints every 1000 lines', async () => {
    expect(ref.length).toBe(LINES);
    const index = new LineIndex(path, { chunkBytes: 1024 * 1024, inlineCatchUpBytes: 0 });
    await index.refresh();
    const during = index.state();
    await index.whenDone();
    expect(index.state()).toEqual({ done: true, progress: 1, lines: LINES });
    expect(during.progress).toBeLessThanOrEqual(1);
    expect(index.checkpointCount).toBe(LINES / 1000);
    // Checkpoint j is the byte offset of line j*1000.
    const content = readFileSync(path);
    for (const j of [0, 1, 57, 199]) {
      const offset = index.checkpoint(j);
      const before = content.subarray(0, offset).toString('utf8').split('\n').length - 1;
      expect(before).toBe(j * 1000);
    }
    index.close();
  });

  it('pages: first, a middle one with exact line numbers (one line of 100 KB in it), the last, past the end', async () => {
    const index = new LineIndex(path);
    await index.refresh();
    await index.whenDone();
    const first = await readUnfilteredPage(index, { page: 1, pageSize: PAGE });
    expect(first).toMatchObject({ page: 1, pageSize: PAGE, totalLines: LINES, totalPages: LINES / PAGE, index: { done: true, progress: 1 } });
    expectLines(first.lines, 0, PAGE);

    const middle = await readUnfilteredPage(index, { page: 517, pageSize: PAGE });
    expectLines(middle.lines, 516 * PAGE, PAGE);
    const long = middle.lines.find((l) => l.lineNo === 103_251);
    expect(long?.raw.length).toBeLessThan(4200);
    expect(long?.raw).toMatch(/… \[\d{2},\d{3} more bytes\]$/);

    const odd = await readUnfilteredPage(index, { page: 3, pageSize: 777 });
    expectLines(odd.lines, 2 * 777, 777);

    const last = await readUnfilteredPage(index, { page: LINES / PAGE, pageSize: PAGE });
    expectLines(last.lines, LINES - PAGE, PAGE);
    const past = await readUnfilteredPage(index, { page: 5000, pageSize: PAGE });
    expect(past.page).toBe(LINES / PAGE);
    expectLines(past.lines, LINES - PAGE, PAGE);

    const fromEnd = await readUnfilteredPage(index, { page: 1, pageSize: 300, fromEnd: true });
    expect(fromEnd).toMatchObject({ page: 1, totalLines: LINES, totalPages: Math.ceil(LINES / 300) });
    expectLines(fromEnd.lines, LINES - 300, 300);
    // The oldest page from the end holds the remainder: 200,000 = 666 × 300 + 200.
    const oldest = await readUnfilteredPage(index, { page: 667, pageSize: 300, fromEnd: true });
    expectLines(oldest.lines, 0, 200);
    index.close();
  });

  it('pages from the end before the index exists, and while it is being built (read backwards)', async () => {
    const never = new LineIndex(path);
    const page1 = await readUnfilteredPage(never, { page: 1, pageSize: PAGE, fromEnd: true });
    expect(page1.index.done).toBe(false);
    expect(page1.totalLines).toBeNull();
    expectLines(page1.lines, LINES - PAGE, PAGE, false);
    const page3 = await readUnfilteredPage(never, { page: 3, pageSize: PAGE, fromEnd: true });
    expectLines(page3.lines, LINES - 3 * PAGE, PAGE, false);

    const building = new LineIndex(path, { chunkBytes: 64 * 1024, inlineCatchUpBytes: 0 });
    await building.refresh();
    const during = await readUnfilteredPage(building, { page: 2, pageSize: PAGE, fromEnd: true });
    expectLines(during.lines, LINES - 2 * PAGE, PAGE, during.lines[0]?.lineNo !== null);
    await building.whenDone();
    building.close();
    never.close();
  });

  it('a page asked for before the index reaches it waits for that part only', async () => {
    const index = new LineIndex(path, { chunkBytes: 256 * 1024, inlineCatchUpBytes: 0 });
    await index.refresh();
    const page = await readUnfilteredPage(index, { page: 2, pageSize: PAGE });
    expectLines(page.lines, PAGE, PAGE);
    const deep = await readUnfilteredPage(index, { page: 800, pageSize: PAGE });
    expectLines(deep.lines, 799 * PAGE, PAGE);
    await index.whenDone();
    index.close();
  });

  it('jumps to time: the page holding the first line at or after it', async () => {
    const index = new LineIndex(path);
    await index.refresh();
    // The generator writes line i at second i after 2026-01-05 00:00:00; some lines have no time.
    const firstTimedAtOrAfter = (second: number): number => generated.findIndex((g, i) => i >= second && g.time !== null);
    for (const second of [150_000, 1, 99_999, 123_456]) {
      const expectedLine = firstTimedAtOrAfter(second);
      expect(await findLineAtTime(index, parseAt(plainTime(second)))).toBe(expectedLine);
      const page = await readUnfilteredPage(index, { page: 1, pageSize: PAGE, at: plainTime(second) });
      expect(page.page).toBe(Math.floor(expectedLine / PAGE) + 1);
      expect(page.lines.some((l) => l.lineNo === expectedLine + 1)).toBe(true);
    }
    // ISO with a zone, between two seconds: the next timed line.
    const iso = '2026-01-06T10:00:00.500Z';
    expect(await findLineAtTime(index, parseAt(iso))).toBe(firstTimedAtOrAfter(86_400 + 36_001));
    // Before everything: page 1; after everything: the last page.
    expect((await readUnfilteredPage(index, { page: 9, pageSize: PAGE, at: '2020-01-01' })).page).toBe(1);
    expect((await readUnfilteredPage(index, { page: 1, pageSize: PAGE, at: '2030-01-01 00:00:00' })).page).toBe(LINES / PAGE);
    await expect(readUnfilteredPage(index, { page: 1, pageSize: PAGE, at: 'noon' })).rejects.toMatchObject({ status: 400 });
    index.close();
  });
});

describe('a file that changes', () => {
  it('indexes only the appended part when it grows, and starts over when it is truncated or replaced', async () => {
    const file = join(tmp.dir, 'growing.log');
    writeFileSync(file, 'a\nb\nc');
    const index = new LineIndex(file, { stride: 2 });
    await index.refresh();
    expect(index.state()).toEqual({ done: true, progress: 1, lines: 3 });
    appendFileSync(file, 'c\nd\n');
    await index.refresh();
    expect(index.lines).toBe(4);
    const gen = index.generation;
    const page = await readUnfilteredPage(index, { page: 1, pageSize: 10 });
    expect(page.lines.map((l) => [l.lineNo, l.raw])).toEqual([[1, 'a'], [2, 'b'], [3, 'cc'], [4, 'd']]);
    expect(index.generation).toBe(gen);

    truncateSync(file, 0);
    writeFileSync(file, 'x\n');
    await index.refresh();
    expect(index.generation).toBeGreaterThan(gen);
    expect(index.lines).toBe(1);

    // Rotation: renamed away, a new file in its place (same size, other inode).
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'y\n');
    await index.refresh();
    expect((await readUnfilteredPage(index, { page: 1, pageSize: 10 })).lines.map((l) => l.raw)).toEqual(['y']);

    // Copy-truncate then regrowth past the old size: the first bytes differ, so it starts over.
    writeFileSync(file, 'first\nsecond\n');
    await index.refresh();
    writeFileSync(file, 'other\nlines\nthan\nbefore\n');
    await index.refresh();
    expect((await readUnfilteredPage(index, { page: 1, pageSize: 10 })).lines.map((l) => l.raw)).toEqual(['other', 'lines', 'than', 'before']);
    index.close();
  });

  it('an empty file, a file of one unterminated line, blank lines and CRLF', async () => {
    const cases: [string, string[]][] = [
      ['', []],
      ['only', ['only']],
      ['\n', ['']],
      ['a\n\n\nb\r\n', ['a', '', '', 'b']],
    ];
    for (const [content, expected] of cases) {
      const file = join(tmp.dir, 'small.log');
      writeFileSync(file, content);
      const index = new LineIndex(file);
      await index.refresh();
      expect(index.lines).toBe(expected.length);
      const forward = await readUnfilteredPage(index, { page: 1, pageSize: 10 });
      expect(forward.lines.map((l) => l.raw)).toEqual(expected);
      const backward = await readUnfilteredPage(new LineIndex(file), { page: 1, pageSize: 10, fromEnd: true });
      expect(backward.lines.map((l) => l.raw)).toEqual(expected);
      expect(backward.lines.map((l) => l.lineNo)).toEqual(expected.map((_, i) => i + 1));
      index.close();
    }
  });
});

describe('line readers', () => {
  it('forward and backward readers see the same lines, giant lines whole (head kept, rest counted)', async () => {
    const file = join(tmp.dir, 'giant.log');
    const giant = `G${'é'.repeat(100_000)}`;
    writeFileSync(file, `one\n${giant}\nthree\n`);
    const fh = await open(file, 'r');
    try {
      const cursor = new LineCursor(fh, 0, 1024);
      const forward = [];
      for (let l = await cursor.next(); l; l = await cursor.next()) forward.push(l);
      const backward = [];
      for await (const l of linesBackward(fh, (await fh.stat()).size, 4096)) backward.push(l);
      backward.reverse();
      expect(forward.map((l) => [l.start, l.next, l.cutBytes, l.complete])).toEqual(backward.map((l) => [l.start, l.next, l.cutBytes, l.complete]));
      expect(forward.map((l) => l.text)).toEqual(backward.map((l) => l.text));
      const g = forward[1];
      expect(g?.text.startsWith('Gé')).toBe(true);
      expect(Buffer.byteLength(g?.text ?? '') + (g?.cutBytes ?? 0)).toBe(Buffer.byteLength(giant));
      expect(forward[2]?.text).toBe('three');
      const skipper = new LineCursor(fh, 0, 1024);
      expect(await skipper.skip(2)).toBe(2);
      expect((await skipper.next())?.text).toBe('three');
    } finally {
      await fh.close();
    }
  });
});
