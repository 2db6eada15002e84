import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByteKernels } from '../../../src/io/logs/byteKernels.js';
import { LineIndex } from '../../../src/io/logs/lineIndex.js';
import { levelOfText } from '../../../src/io/logs/logLineParser.js';
import { levelField } from '../../../src/io/logs/rangeScan.js';
import { buildLineFilter, type LineFilterSpec } from '../../../src/io/logs/logSearch.js';
import { MatchIndex, type MatchIndexOptions } from '../../../src/io/logs/matchIndex.js';
import type { LogLevelName } from '../../../src/shared/contract/logs.js';
import { freshDir } from '../../helpers.js';
import { generateLines, referenceLines, writeLines } from './logFixtures.js';

/**
 * The level filter's match list built on the scan threads (byte ranges cut at line starts, the
 * level words found as bytes) against the same list built on the main thread, line by line: the
 * reference. Ranges and read chunks are made small so that lines, CRLF pairs, multi-byte
 * characters and level words fall across their boundaries.
 */

let tmp: { dir: string; remove: () => void };
beforeAll(() => {
  tmp = freshDir('threaded-level');
});
afterAll(() => tmp.remove());

const RANK: Record<LogLevelName, number> = { DEBUG: 1, INFO: 2, WARNING: 3, ERROR: 4, CRITICAL: 5 };

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 4_294_967_296;
  };
}

/** Lines that make a byte-level level finder work: level words in messages, in other keys, escaped, in other cases, cut JSON. */
const TRICKY = [
  '{"time":"2026-01-05T09:00:00Z","level":"INFO","message":"no error here"}',
  '{"level":"\\u0045RROR","message":"escaped level"}',
  '{"severity":"crit","message":"keyed by severity"}',
  '{"lvl":"Warn","level":7,"message":"level not a string"}',
  '{"level":"ERR',
  '2026-01-05 09:00:01 [FATAL] engine stopped',
  '2026-01-05 09:00:02 | Alert | margin call',
  'error: plain leading word',
  'an Error deep in a line that has no level word at its head, then ERROR',
  'level=panic component=risk',
  '订单被拒绝 ERROR 订单',
  '{"level":"emerg","msg":"€ 😀"}',
  '',
  'Critical',
  '{"message":"severe weather", "level": "notice"}',
  // The usual shape, read from the level field's bytes, and its near misses.
  '{"time":"2026-01-05T09:00:03Z","level":"ERROR","message":"margin"}',
  '{"time":"t","level":"INFO","level":"ERROR"}',
  '{"time":"t","level":"ERROR","message":"a\\"b \\u0041"}',
  '{"time":"t","level":"ERROR","nested":{"level":"DEBUG"}}',
  '{"time":"t","level":"Warn"',
  `{"pad":"${'x'.repeat(160)}","level":"ERROR"}`,
  `{"pad":"${'x'.repeat(190)}","level":"ERROR"`,
  '{"variant":"x","level":"ERROR"}',
  '{"time":"t","level":"ERRORX","severity":"critical"}',
  '{"lvl":"debug","level":"ERROR"}',
  '{"time":"t","level":"ERROR"} trailing junk',
  '{"msg":"level=debug","level":"CRITICAL"}',
  '{"time":"t","level":"debug","message":"an error"}',
];

function trickyFile(name: string, lines: number, seed: number, finalNewline: boolean): string {
  const rand = lcg(seed);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const line = TRICKY[Math.floor(rand() * TRICKY.length)] as string;
    out.push(rand() < 0.2 ? `${line}\r` : line);
  }
  const path = join(tmp.dir, name);
  writeFileSync(path, out.join('\n') + (finalNewline ? '\n' : ''));
  return path;
}

interface Listing {
  count: number;
  lines: { lineNo: number | null; raw: string }[];
  rangesOnThreads: number;
}

async function listAll(index: LineIndex, spec: LineFilterSpec, opts: MatchIndexOptions): Promise<Listing> {
  const matches = new MatchIndex(index, buildLineFilter(spec), opts);
  await matches.advance(() => false);
  expect(matches.done).toBe(true);
  const lines = (await matches.read(0, matches.count)).map((l) => ({ lineNo: l.lineNo, raw: l.raw }));
  const listing = { count: matches.count, lines, rangesOnThreads: matches.rangesOnThreads };
  matches.close();
  return listing;
}

const REFERENCE: MatchIndexOptions = { threadedFromBytes: Number.POSITIVE_INFINITY };
const LAYOUTS: MatchIndexOptions[] = [
  { threadedFromBytes: 0, ranges: 2, threadChunkBytes: 4096 },
  { threadedFromBytes: 0, ranges: 3, threadChunkBytes: 1000 },
  { threadedFromBytes: 0, ranges: 7, threadChunkBytes: 333 },
];

describe('level filter on the scan threads', () => {
  it('finds every block a token may begin in, at any alignment (the SIMD token finder against indexOf)', () => {
    const k = new ByteKernels(8192);
    const rand = lcg(3);
    const tokens = ['err', 'crit', 'fatal', '\\u', 'warn'];
    const alphabet = 'eErRcCiItTfFaAwWnNuU\\x \n';
    for (let round = 0; round < 200; round++) {
      const len = Math.floor(rand() * 600);
      for (let i = 0; i < len; i++) k.raw[i] = alphabet.charCodeAt(Math.floor(rand() * alphabet.length));
      const text = k.raw.toString('latin1', 0, len).replace(/[A-Z]/g, (c) => c.toLowerCase());
      const from = Math.floor(rand() * 40);
      const find = k.tokenFinder(tokens);
      const blocks: number[] = [];
      for (let p = from; ; ) {
        const b = find(p, len);
        if (b >= len) break;
        blocks.push(b);
        p = b + 16;
      }
      for (const t of tokens) {
        for (let at = text.indexOf(t, from); at !== -1 && at < len; at = text.indexOf(t, at + 1)) {
          expect({ t, at, covered: blocks.some((b) => at >= b && at < b + 16) }).toEqual({ t, at, covered: true });
        }
      }
    }
  });

  it('reads the level from the bytes of a usual JSON line, as the parser does, and declines the near misses', () => {
    const read = (line: string): string | null | undefined => {
      const buf = Buffer.from(line);
      const nextAt = (which: 'key' | 'backslash', from: number): number => buf.indexOf(which === 'key' ? '"level"' : '\\', from);
      return levelField(buf, 0, buf.length, nextAt);
    };
    const decided = TRICKY.filter((line) => read(line) !== undefined);
    expect(decided).toEqual([
      '{"time":"2026-01-05T09:00:00Z","level":"INFO","message":"no error here"}',
      '{"level":"emerg","msg":"€ 😀"}',
      '{"time":"2026-01-05T09:00:03Z","level":"ERROR","message":"margin"}',
      '{"time":"t","level":"Warn"',
      `{"pad":"${'x'.repeat(160)}","level":"ERROR"}`,
      '{"time":"t","level":"ERROR"} trailing junk',
      '{"time":"t","level":"debug","message":"an error"}',
    ]);
    for (const line of decided) expect({ line, level: read(line) }).toEqual({ line, level: levelOfText(line) });
  });

  it('equals the main-thread reference on a generated log, every level, lines across range and chunk boundaries', async () => {
    const path = join(tmp.dir, 'mixed.log');
    const generated = generateLines(30_000, 41, { longLineAt: 12_000 });
    writeLines(path, generated);
    const ref = referenceLines(readFileSync(path, 'utf8'));
    expect(ref.length).toBe(generated.length);
    const index = new LineIndex(path);
    await index.refresh();
    for (const level of ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as LogLevelName[]) {
      const reference = await listAll(index, { level }, REFERENCE);
      expect(reference.rangesOnThreads).toBe(0);
      // The generator wrote each line's level: the reference is checked against it first.
      const want = generated.flatMap((g, i) => (g.level !== null && RANK[g.level] >= RANK[level] ? [i + 1] : []));
      expect(reference.lines.map((l) => l.lineNo)).toEqual(want);
      for (const layout of LAYOUTS) {
        const threaded = await listAll(index, { level }, layout);
        expect(threaded.rangesOnThreads).toBeGreaterThan(1);
        expect({ level, layout, ...threaded, rangesOnThreads: 0 }).toEqual({ level, layout, ...reference, rangesOnThreads: 0 });
      }
    }
    index.close();
  }, 300_000);

  for (const finalNewline of [true, false]) {
    it(`equals the reference on level words in every disguise (${finalNewline ? 'final newline' : 'no final newline'}), with and without a keyword`, async () => {
      const path = trickyFile(`tricky-${finalNewline}.log`, 6000, finalNewline ? 5 : 6, finalNewline);
      const index = new LineIndex(path);
      await index.refresh();
      const specs: LineFilterSpec[] = [{ level: 'ERROR' }, { level: 'WARNING' }, { level: 'CRITICAL' }, { level: 'INFO' }, { level: 'ERROR', pattern: 'level' }];
      for (const spec of specs) {
        const reference = await listAll(index, spec, REFERENCE);
        expect(reference.count).toBeGreaterThan(0);
        for (const layout of LAYOUTS) {
          const threaded = await listAll(index, spec, layout);
          expect(threaded.rangesOnThreads).toBeGreaterThan(1);
          expect({ spec, layout, ...threaded, rangesOnThreads: 0 }).toEqual({ spec, layout, ...reference, rangesOnThreads: 0 });
        }
      }
      index.close();
    }, 300_000);
  }

  it('a growing file: the threaded list follows it, the unfinished last line left to the main thread', async () => {
    const path = trickyFile('growing.log', 3000, 9, false);
    const index = new LineIndex(path);
    await index.refresh();
    const matches = new MatchIndex(index, buildLineFilter({ level: 'ERROR' }), LAYOUTS[1]);
    await matches.advance(() => false);
    const firstRanges = matches.rangesOnThreads;
    expect(firstRanges).toBeGreaterThan(1);
    appendFileSync(path, `OR","message":"finished"}\n${readFileSync(path, 'utf8')}\n`);
    await index.refresh();
    await matches.advance(() => false);
    expect(matches.rangesOnThreads).toBeGreaterThan(firstRanges);
    const reference = await listAll(index, { level: 'ERROR' }, REFERENCE);
    expect(matches.count).toBe(reference.count);
    const lines = (await matches.read(0, matches.count)).map((l) => ({ lineNo: l.lineNo, raw: l.raw }));
    expect(lines).toEqual(reference.lines);
    matches.close();
    index.close();
  }, 300_000);
});
