import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineIndex } from '../../../src/io/logs/lineIndex.js';
import { tailLogFile } from '../../../src/io/logs/logTail.js';
import type { LogLine } from '../../../src/shared/contract/logs.js';
import { freshDir, waitFor } from '../../helpers.js';

let tmp: { dir: string; remove: () => void };
beforeAll(() => {
  tmp = freshDir('logs-tail');
});
afterAll(() => tmp.remove());

const json = (level: string, message: string): string => JSON.stringify({ time: '2026-01-05T01:00:00Z', level, variant: 'v', message });

/** Starts a tail; `lines` fills as it emits; `stop()` aborts and waits for it to finish. */
function startTail(path: string, opts: Parameters<typeof tailLogFile>[1]) {
  const lines: LogLine[] = [];
  const abort = new AbortController();
  const done = tailLogFile(path, opts, (l) => lines.push(l), abort.signal);
  return {
    lines,
    messages: () => lines.map((l) => l.message),
    async stop() {
      abort.abort();
      await done;
    },
  };
}

describe('tail', () => {
  it('shows the last lines, then every appended line, numbered when an index is there', async () => {
    const path = join(tmp.dir, 'follow.log');
    writeFileSync(path, `${Array.from({ length: 50 }, (_, i) => json('INFO', `m${i}`)).join('\n')}\n`);
    const index = new LineIndex(path);
    const tail = startTail(path, {
      last: 5,
      pollMs: 50,
      lineIndexAt: async (offset) => {
        await index.refresh();
        return index.lineIndexAt(offset);
      },
    });
    await waitFor('first lines', () => tail.lines.length >= 5);
    expect(tail.messages()).toEqual(['m45', 'm46', 'm47', 'm48', 'm49']);
    expect(tail.lines.map((l) => l.lineNo)).toEqual([46, 47, 48, 49, 50]);
    appendFileSync(path, `${json('WARNING', 'new one')}\n`);
    // Half a line is not a line yet.
    appendFileSync(path, json('ERROR', 'second').slice(0, 20));
    await waitFor('appended line', () => tail.lines.length >= 6);
    await new Promise((r) => setTimeout(r, 200));
    expect(tail.messages().slice(5)).toEqual(['new one']);
    appendFileSync(path, `${json('ERROR', 'second').slice(20)}\n`);
    await waitFor('completed line', () => tail.lines.length >= 7);
    expect(tail.lines.slice(5).map((l) => [l.lineNo, l.level, l.message])).toEqual([
      [51, 'WARNING', 'new one'],
      [52, 'ERROR', 'second'],
    ]);
    await tail.stop();
    index.close();
  });

  it('survives rotation: lines written just before the rename are not lost, then the new file from its start', async () => {
    const path = join(tmp.dir, 'rotate.log');
    writeFileSync(path, `${json('INFO', 'old 1')}\n`);
    const tail = startTail(path, { last: 10, pollMs: 50 });
    await waitFor('first line', () => tail.lines.length >= 1);
    // The writer's last line in the old file, then rotation (rename + new file), then new lines.
    appendFileSync(path, `${json('INFO', 'old 2')}\n`);
    renameSync(path, `${path}.1`);
    writeFileSync(path, `${json('INFO', 'new 1')}\n`);
    appendFileSync(path, `${json('ERROR', 'new 2')}\n`);
    await waitFor('lines after rotation', () => tail.lines.length >= 4, 5000);
    expect(tail.messages()).toEqual(['old 1', 'old 2', 'new 1', 'new 2']);
    // After rotation, the new file's lines are numbered from 1.
    expect(tail.lines.slice(2).map((l) => l.lineNo)).toEqual([1, 2]);
    appendFileSync(path, `${json('INFO', 'new 3')}\n`);
    await waitFor('more lines', () => tail.lines.length >= 5);
    expect(tail.messages().at(-1)).toBe('new 3');
    await tail.stop();
  });

  it('follows a file truncated in place from its start again', async () => {
    const path = join(tmp.dir, 'truncate.log');
    writeFileSync(path, `${json('INFO', 'a')}\n${json('INFO', 'b')}\n`);
    const tail = startTail(path, { last: 1, pollMs: 50 });
    await waitFor('first line', () => tail.lines.length >= 1);
    truncateSync(path, 0);
    await new Promise((r) => setTimeout(r, 150));
    appendFileSync(path, `${json('INFO', 'c')}\n`);
    await waitFor('line after truncation', () => tail.lines.length >= 2);
    expect(tail.messages()).toEqual(['b', 'c']);
    await tail.stop();
  });

  it('applies the level filter to the first lines and to new ones', async () => {
    const path = join(tmp.dir, 'level.log');
    const levels = ['INFO', 'ERROR', 'DEBUG', 'WARNING', 'CRITICAL', 'INFO'];
    writeFileSync(path, `${levels.map((l, i) => json(l, `${l}${i}`)).join('\n')}\n  traceback line\n`);
    const tail = startTail(path, { last: 2, level: 'WARNING', pollMs: 50 });
    await waitFor('first lines', () => tail.lines.length >= 2);
    expect(tail.messages()).toEqual(['WARNING3', 'CRITICAL4']);
    appendFileSync(path, `${json('DEBUG', 'quiet')}\n2026-01-05 09:00:00 [ERROR] loud\n`);
    await waitFor('filtered new line', () => tail.lines.length >= 3);
    await new Promise((r) => setTimeout(r, 150));
    expect(tail.messages()).toEqual(['WARNING3', 'CRITICAL4', 'loud']);
    await tail.stop();
  });

  it('stops when aborted and emits nothing afterwards', async () => {
    const path = join(tmp.dir, 'stop.log');
    writeFileSync(path, 'one\n');
    const tail = startTail(path, { last: 10, pollMs: 20 });
    await waitFor('first line', () => tail.lines.length >= 1);
    await tail.stop();
    appendFileSync(path, 'two\n');
    await new Promise((r) => setTimeout(r, 100));
    expect(tail.lines.map((l) => l.raw)).toEqual(['one']);
  });
});
