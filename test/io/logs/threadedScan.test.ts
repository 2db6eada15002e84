import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByteKernels } from '../../../src/io/logs/byteKernels.js';
import { requiredPrefix } from '../../../src/io/logs/rangeScan.js';
import { searchLogFile, type SearchOptions, type SearchParams } from '../../../src/io/logs/logSearch.js';
import type { LogLine, LogSearchEvent } from '../../../src/shared/contract/logs.js';
import { freshDir } from '../../helpers.js';
import { expectedRaw, referenceLines } from './logFixtures.js';

/**
 * The threaded scan (byte ranges cut at line starts, one thread each, hits put back in order)
 * against a plain reading of the file, on files built to put range and chunk boundaries where
 * they hurt: inside CRLF pairs, inside multi-byte characters, right before a hit, at the very
 * end of a file without a final newline.
 */

let tmp: { dir: string; remove: () => void };
beforeAll(() => {
  tmp = freshDir('threaded-scan');
});
afterAll(() => tmp.remove());

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 4_294_967_296;
  };
}

/** Folds ASCII letters only: the keyword search's notion of "case-insensitive". */
const foldAscii = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

const PIECES = ['order', 'Rejected', 'REJECTED', 'rejected', '订单被拒绝', 'é', 'ñandú', '€', '😀', 'x', '', 'fill', 'level'];

function makeFile(name: string, lines: number, seed: number, opts: { crlf: boolean; finalNewline: boolean }): { path: string; ref: string[] } {
  const rand = lcg(seed);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const words = Array.from({ length: Math.floor(rand() * 6) }, () => PIECES[Math.floor(rand() * PIECES.length)] as string);
    let line = words.join(rand() < 0.5 ? ' ' : '');
    if (rand() < 0.1) line = `{"time":"2026-01-05T09:00:${String(i % 60).padStart(2, '0')}Z","level":"${rand() < 0.5 ? 'ERROR' : 'INFO'}","message":"${line}"}`;
    out.push(opts.crlf && rand() < 0.5 ? `${line}\r` : line);
  }
  const content = out.join('\n') + (opts.finalNewline ? '\n' : '');
  const path = join(tmp.dir, name);
  writeFileSync(path, content);
  return { path, ref: referenceLines(content) };
}

async function search(path: string, params: Partial<SearchParams> & { pattern: string }, opts: SearchOptions): Promise<{ hits: LogLine[]; last: LogSearchEvent | undefined }> {
  const hits: LogLine[] = [];
  let last: LogSearchEvent | undefined;
  await searchLogFile(
    path,
    { regex: false, caseSensitive: false, limit: 100_000, ...params },
    (e) => {
      if (e.type === 'hit') hits.push(e.line);
      last = e;
    },
    new AbortController().signal,
    { progressEveryMs: 0, ...opts },
  );
  return { hits, last };
}

describe('byte kernels (WebAssembly SIMD)', () => {
  it('count newlines and fold ASCII case exactly as a byte loop does, at every length and alignment', () => {
    const k = new ByteKernels(4096);
    const rand = lcg(5);
    for (let round = 0; round < 300; round++) {
      const from = Math.floor(rand() * 40);
      const len = Math.floor(rand() * 200);
      for (let i = 0; i < 256; i++) {
        const r = rand();
        k.raw[i] = r < 0.2 ? 0x0a : r < 0.5 ? 65 + Math.floor(rand() * 26) : Math.floor(rand() * 256);
      }
      let want = 0;
      for (let i = from; i < from + len; i++) if (k.raw[i] === 0x0a) want++;
      expect(k.countNewlines(from, from + len)).toBe(want);
      const folded = k.fold(len + from);
      for (let i = 0; i < len + from; i++) {
        const b = k.raw[i] as number;
        expect(folded[i]).toBe(b >= 65 && b <= 90 ? b + 32 : b);
      }
    }
  });
});

describe('a regular expression\'s required leading literal', () => {
  it('is the letters, digits and spaces it starts with, less one a quantifier applies to; none with alternation', () => {
    expect(requiredPrefix('kill\\s+switch')).toBe('kill');
    expect(requiredPrefix('order rejected?')).toBe('order rejecte');
    expect(requiredPrefix('abcd{0}')).toBe('abc');
    expect(requiredPrefix('ab\\d')).toBeNull();
    expect(requiredPrefix('^order')).toBeNull();
    expect(requiredPrefix('order|fill')).toBeNull();
    expect(requiredPrefix('(?:x)order')).toBeNull();
  });
});

describe('threaded search over byte ranges', () => {
  const layouts: { ranges: number; chunkBytes: number }[] = [
    { ranges: 1, chunkBytes: 64 },
    { ranges: 2, chunkBytes: 37 },
    { ranges: 3, chunkBytes: 1000 },
  ];
  const files = [
    { name: 'crlf-final.log', crlf: true, finalNewline: true },
    { name: 'lf-nofinal.log', crlf: false, finalNewline: false },
    { name: 'crlf-nofinal.log', crlf: true, finalNewline: false },
  ];

  for (const f of files) {
    it(`${f.name}: keyword hits (both cases), numbered and shown as a plain reading of the file has them`, async () => {
      const { path, ref } = makeFile(f.name, 1500, f.name.length, f);
      const cases: { params: Partial<SearchParams> & { pattern: string }; test: (line: string) => boolean }[] = [
        { params: { pattern: 'rejected' }, test: (l) => foldAscii(l).includes('rejected') },
        { params: { pattern: 'Rejected', caseSensitive: true }, test: (l) => l.includes('Rejected') },
        { params: { pattern: 'x\r' }, test: () => false },
        { params: { pattern: 'X' }, test: (l) => foldAscii(l).includes('x') },
        { params: { pattern: 'RE', caseSensitive: true }, test: (l) => l.includes('RE') },
        { params: { pattern: 'ñandú' }, test: (l) => l.toLowerCase().includes('ñandú') },
        { params: { pattern: '^订单.*[x€]$', regex: true }, test: (l) => /^订单.*[x€]$/i.test(l) },
        // Led by a literal: found by its bytes, then tested line by line.
        { params: { pattern: 'order\\s*rej', regex: true }, test: (l) => /order\s*rej/i.test(l) },
        { params: { pattern: 'REJECTED?[ xé]', regex: true, caseSensitive: true }, test: (l) => /REJECTED?[ xé]/.test(l) },
        { params: { pattern: 'order', level: 'ERROR' }, test: (l) => foldAscii(l).includes('order') && l.includes('"level":"ERROR"') },
      ];
      for (const layout of layouts) {
        for (const c of cases) {
          const want = ref.flatMap((l, i) => (c.test(l) ? [i + 1] : []));
          const { hits, last } = await search(path, c.params, layout);
          const label = `${JSON.stringify(c.params)} in ${layout.ranges} ranges of ${layout.chunkBytes}-byte chunks`;
          expect({ label, lines: hits.map((h) => h.lineNo) }).toEqual({ label, lines: want });
          expect({ label, raw: hits.map((h) => h.raw) }).toEqual({ label, raw: want.map((n) => expectedRaw(ref[n - 1] as string)) });
          expect(last).toMatchObject({ type: 'progress', hits: want.length });
        }
      }
    }, 300_000);
  }

  it('stops at the limit in file order even when a later range finds its hits first', async () => {
    const { path, ref } = makeFile('limit.log', 5000, 11, { crlf: false, finalNewline: true });
    const want = ref.flatMap((l, i) => (foldAscii(l).includes('rejected') ? [i + 1] : []));
    for (const limit of [1, 7, want.length - 1]) {
      const { hits, last } = await search(path, { pattern: 'rejected', limit }, { ranges: 3, chunkBytes: 512 });
      expect(hits.map((h) => h.lineNo)).toEqual(want.slice(0, limit));
      expect(last).toMatchObject({ type: 'progress', hits: limit });
    }
  }, 300_000);
});
