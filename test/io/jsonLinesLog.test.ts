import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonLinesLog } from '../../src/io/jsonLinesLog.js';
import { freshDir } from '../helpers.js';

let cleanup: (() => void) | null = null;
afterEach(() => cleanup?.());

describe('JSON-lines strategy log', () => {
  it('rotates by size, keeps the configured count, and never splits a line', () => {
    const tmp = freshDir('rotate');
    cleanup = tmp.remove;
    const path = join(tmp.dir, 'v', 'strategy.log');
    const log = new JsonLinesLog(path, 'v', { maxBytes: 2_000, keep: 3 }, () => new Date('2026-01-02T03:04:05Z'));
    for (let i = 0; i < 200; i++) log.info('bar processed', { i });
    log.close();
    const files = readdirSync(join(tmp.dir, 'v')).sort();
    expect(files).toEqual(['strategy.log', 'strategy.log.1', 'strategy.log.2', 'strategy.log.3']);
    const all = files.flatMap((f) => readFileSync(join(tmp.dir, 'v', f), 'utf8').split('\n').filter(Boolean));
    for (const f of files) expect(readFileSync(join(tmp.dir, 'v', f)).length).toBeLessThanOrEqual(2_000);
    const lines = all.map((l) => JSON.parse(l) as { i: number; level: string; variant: string; time: string });
    // The newest lines are in strategy.log; the oldest were dropped with strategy.log.4.
    const newest = readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { i: number }).i);
    expect(newest.at(-1)).toBe(199);
    expect(lines.every((l) => l.level === 'INFO' && l.variant === 'v' && l.time === '2026-01-02T03:04:05.000Z')).toBe(true);
    expect(existsSync(`${path}.4`)).toBe(false);
    expect(Math.min(...lines.map((l) => l.i))).toBeGreaterThan(0);
  });
});
