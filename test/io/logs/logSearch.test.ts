import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchLogFile, type SearchParams } from '../../../src/io/logs/logSearch.js';
import type { LogLevelName, LogLine, LogSearchEvent } from '../../../src/shared/contract/logs.js';
import { freshDir } from '../../helpers.js';
import { expectedRaw, generateLines, referenceLines, writeLines, type GeneratedLine } from './logFixtures.js';

const LINES = 200_000;
const RANK: Record<LogLevelName, number> = { DEBUG: 1, INFO: 2, WARNING: 3, ERROR: 4, CRITICAL: 5 };

let tmp: { dir: string; remove: () => void };
let path: string;
let generated: GeneratedLine[];
let ref: string[];

beforeAll(() => {
  tmp = freshDir('logs-search');
  path = join(tmp.dir, 'strategy.log');
  generated = generateLines(LINES, 5, { longLineAt: 77_777 });
  writeLines(path, generated);
  ref = referenceLines(readFileSync(path, 'utf8'));
});
afterAll(() => tmp.remove());

async function search(
  params: Partial<SearchParams> & { pattern: string },
  opts: { abortAfterHits?: number; chunkBytes?: number } = {},
): Promise<{ hits: LogLine[]; progress: Extract<LogSearchEvent, { type: 'progress' }>[] }> {
  const abort = new AbortController();
  const hits: LogLine[] = [];
  const progress: Extract<LogSearchEvent, { type: 'progress' }>[] = [];
  await searchLogFile(
    path,
    { regex: false, caseSensitive: false, limit: 100_000, ...params },
    (e) => {
      if (e.type === 'hit') {
        hits.push(e.line);
        if (opts.abortAfterHits !== undefined && hits.length >= opts.abortAfterHits) abort.abort();
      } else progress.push(e);
    },
    abort.signal,
    { chunkBytes: opts.chunkBytes, progressEveryMs: 0 },
  );
  return { hits, progress };
}

/** Line numbers of the reference lines that pass. */
function reference(test: (line: string, i: number) => boolean): number[] {
  const out: number[] = [];
  ref.forEach((line, i) => {
    if (test(line, i)) out.push(i + 1);
  });
  return out;
}

describe('search', () => {
  it('keyword, case-insensitive by default: the same lines as a whole-file filter, numbered, with their text', async () => {
    const want = reference((l) => l.toLowerCase().includes('restore'));
    const { hits, progress } = await search({ pattern: 'restore' });
    expect(hits.map((h) => h.lineNo)).toEqual(want);
    for (const h of hits.slice(0, 500)) expect(h.raw).toBe(expectedRaw(ref[(h.lineNo as number) - 1] as string));
    const end = progress.at(-1);
    expect(end).toEqual({ type: 'progress', scannedBytes: readFileSync(path).length, totalBytes: readFileSync(path).length, hits: want.length });
  });

  it('case-sensitive keyword, a keyword with regex characters, a non-ASCII keyword', async () => {
    expect((await search({ pattern: 'RESTORE', caseSensitive: true })).hits.map((h) => h.lineNo)).toEqual(
      reference((l) => l.includes('RESTORE')),
    );
    expect((await search({ pattern: 'line 1(' })).hits.map((h) => h.lineNo)).toEqual(reference((l) => l.toLowerCase().includes('line 1(')));
    expect((await search({ pattern: 'in check' })).hits.map((h) => h.lineNo)).toEqual(reference((l) => l.includes('in check')));
    expect((await search({ pattern: '订单被拒绝' })).hits.map((h) => h.lineNo)).toEqual(reference((l) => l.includes('订单被拒绝')));
  });

  it('regular expressions apply to each line on its own: anchors, alternation, classes that could span lines', async () => {
    const cases: [string, boolean][] = [
      ['^  File "strategy\\.py", line 4\\d\\b', true],
      ['(cross|macd) order$', false],
      ['"price":35\\d\\d\\.5\\}', true],
      ['risk\\s+check\\s+restore', false],
      ['^$', true],
      ['x{1000}', true],
      ['[^a-z]{3,}restore', false],
    ];
    for (const [source, caseSensitive] of cases) {
      const re = new RegExp(source, caseSensitive ? '' : 'i');
      const want = reference((l) => re.test(l));
      expect(want.length, source).toBeGreaterThan(0);
      const { hits } = await search({ pattern: source, regex: true, caseSensitive }, { chunkBytes: 1024 * 1024 });
      expect({ source, lines: hits.map((h) => h.lineNo) }).toEqual({ source, lines: want });
    }
  });

  it('level filter on hits: at or above the level', async () => {
    const want = reference((l, i) => {
      const level = generated[i]?.level ?? null;
      return l.toLowerCase().includes('restore') && level !== null && RANK[level] >= RANK.ERROR;
    });
    const { hits } = await search({ pattern: 'restore', level: 'ERROR' });
    expect(hits.map((h) => h.lineNo)).toEqual(want);
    expect(new Set(hits.map((h) => h.level))).toEqual(new Set(['ERROR', 'CRITICAL']));
  });

  it('stops at the limit, and stops early when cancelled', async () => {
    const all = reference((l) => l.toLowerCase().includes('restore'));
    const limited = await search({ pattern: 'restore', limit: 25 });
    expect(limited.hits.map((h) => h.lineNo)).toEqual(all.slice(0, 25));
    expect(limited.progress.at(-1)?.scannedBytes).toBeLessThan(readFileSync(path).length);

    const cancelled = await search({ pattern: 'restore' }, { abortAfterHits: 3, chunkBytes: 256 * 1024 });
    expect(cancelled.hits.length).toBe(3);
    // Nothing is emitted after the abort, not even a final progress.
    expect(cancelled.progress.every((p) => p.scannedBytes < readFileSync(path).length)).toBe(true);
  });

  it('a regular expression that does not compile is refused, saying why', async () => {
    await expect(search({ pattern: 'order (filled', regex: true })).rejects.toThrow(/invalid regular expression \/order \(filled\/: .*(unterminated|group)/i);
  });

  it('hits across chunk boundaries, in a file without a final newline, with CRLF lines', async () => {
    const small = join(tmp.dir, 'small.log');
    const lines = Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? `needle ${i}\r` : `hay ${i}`));
    writeFileSync(small, lines.join('\n'));
    const hits: LogLine[] = [];
    await searchLogFile(small, { pattern: 'needle \\d+$', regex: true, caseSensitive: false, limit: 100_000 }, (e) => {
      if (e.type === 'hit') hits.push(e.line);
    }, new AbortController().signal, { chunkBytes: 4096 });
    expect(hits.map((h) => h.lineNo)).toEqual(lines.flatMap((l, i) => (l.startsWith('needle') ? [i + 1] : [])));
    expect(hits[0]?.raw).toBe('needle 0');
  });
});
