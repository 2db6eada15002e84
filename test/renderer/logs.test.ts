import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { LogLine, LogPage } from '../../src/shared/contract/logs.js';
import { createHttpApi, type HttpApi } from '../../src/renderer/api/httpApi.js';
import { displayTime, fieldColumns, formatBytes, normalizeTimeInput, otherFields } from '../../src/renderer/lib/logFormat.js';
import { createLogsStore, pageLabel, pageMoves } from '../../src/renderer/stores/logs.js';
import { freshDir, waitFor } from '../helpers.js';
import { startHarness, type Harness } from '../main/workstationHarness.js';

function line(over: Partial<LogLine>): LogLine {
  return { lineNo: 1, time: null, level: null, variant: null, message: '', fields: {}, raw: '', ...over };
}

function pageOf(over: Partial<LogPage>): LogPage {
  return { file: 'a.log', page: 1, pageSize: 100, totalLines: null, totalPages: null, lines: [], index: { done: false, progress: 0 }, ...over };
}

describe('log display helpers', () => {
  it('formats sizes, times as written, loose time input', () => {
    expect([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(20 * 1024 * 1024), formatBytes(1.5 * 1024 ** 3)]).toEqual([
      '0 B',
      '1023 B',
      '1.50 KB',
      '20.0 MB',
      '1.50 GB',
    ]);
    expect(displayTime('2026-01-05T01:02:03.456Z')).toBe('2026-01-05 01:02:03.456Z');
    expect(displayTime('2026-01-05 09:00:00,123')).toBe('2026-01-05 09:00:00,123');
    expect(displayTime(null)).toBe('');
    expect(normalizeTimeInput('2026-1-5 9:30')).toBe('2026-01-05 09:30:00');
    expect(normalizeTimeInput('2026-01-05T09:30:15')).toBe('2026-01-05 09:30:15');
    expect(normalizeTimeInput('2026-01-05')).toBe('2026-01-05 00:00:00');
    expect(normalizeTimeInput('9:30')).toBeNull();
    expect(normalizeTimeInput('2026-01-05 25:00')).toBeNull();
  });

  it('turns the fields of a page into columns, most frequent first, numbers marked, the rest together', () => {
    const lines = [
      line({ fields: { pid: 12, vtSymbol: 'rb', extra: { a: 1 } } }),
      line({ fields: { pid: 13, window: 15 } }),
      line({ fields: { pid: 'n/a', window: 30 } }),
    ];
    expect(fieldColumns(lines)).toEqual([
      { key: 'pid', numeric: false },
      { key: 'window', numeric: true },
      { key: 'vtSymbol', numeric: false },
      { key: 'extra', numeric: false },
    ]);
    const two = fieldColumns(lines, 2);
    expect(otherFields({ pid: 1, vtSymbol: 'rb', extra: { a: 1 } }, two)).toBe('vtSymbol=rb  extra={"a":1}');
  });

  it('labels pages from the start or from the end, and knows where one can go', () => {
    expect(pageLabel({ mode: 'start', page: 3 }, pageOf({ page: 3, totalPages: 10 }))).toBe('page 3 of 10');
    expect(pageLabel({ mode: 'end', page: 1 }, pageOf({ page: 1, totalPages: 10 }))).toBe('page 10 of 10');
    expect(pageLabel({ mode: 'end', page: 3 }, pageOf({ page: 3, totalPages: 10 }))).toBe('page 8 of 10');
    expect(pageLabel({ mode: 'end', page: 1 }, pageOf({ page: 1 }))).toBe('last page');
    expect(pageLabel({ mode: 'end', page: 4 }, pageOf({ page: 4 }))).toBe('3 before the last');
    expect(pageMoves({ mode: 'start', page: 1 }, pageOf({ totalPages: 3 }))).toEqual({ older: false, newer: true });
    expect(pageMoves({ mode: 'end', page: 1 }, pageOf({ totalPages: 3 }))).toEqual({ older: true, newer: false });
    expect(pageMoves({ mode: 'end', page: 3 }, pageOf({ page: 3, totalPages: 3 }))).toEqual({ older: false, newer: true });
    // From the end with no total yet: a full page means there may be older ones.
    const full = pageOf({ lines: Array.from({ length: 100 }, () => line({})) });
    expect(pageMoves({ mode: 'end', page: 1 }, full).older).toBe(true);
    expect(pageMoves({ mode: 'end', page: 1 }, pageOf({ lines: [line({})] })).older).toBe(false);
  });
});

describe('logs store against the real host', () => {
  let harness: Harness;
  let tmp: { dir: string; remove: () => void };
  let client: HttpApi;
  const file = 'v1/strategy.log';
  let path: string;
  const LINES = 1050;
  const levelOf = (i: number): string => (i % 10 === 3 ? 'ERROR' : 'INFO');

  beforeAll(async () => {
    tmp = freshDir('logs-store');
    mkdirSync(join(tmp.dir, 'logs', 'v1'), { recursive: true });
    path = join(tmp.dir, 'logs', file);
    const lines = Array.from({ length: LINES }, (_, i) => JSON.stringify({ time: `2026-01-05T00:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`, level: levelOf(i), message: i % 100 === 50 ? `order rejected ${i}` : `bar ${i}` }));
    writeFileSync(path, `${lines.join('\n')}\n`);
    harness = await startHarness({ dataDir: tmp.dir, controlEnabled: false, settings: { demo: { enabled: false, speed: 60, seed: 1 }, variants: [] } });
    client = createHttpApi({ baseUrl: harness.baseUrl, token: harness.token, WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
  });
  afterAll(async () => {
    client.close();
    await harness.stop();
    tmp.remove();
  });

  it('opens on the newest page, moves older/newer, first/last, filters, jumps to a time', async () => {
    const store = createLogsStore(() => client.api);
    const s = (): ReturnType<typeof store.getState> => store.getState();
    await s().loadFiles();
    // The workstation's own main.log sits beside the variant's.
    expect(s().files.map((f) => f.file)).toEqual(['kestrel/main.log', file]);
    s().openFile(file);
    await waitFor('newest page', () => s().page !== null && !s().pageLoading);
    expect(s().page?.lines.map((l) => l.lineNo)).toEqual(Array.from({ length: 200 }, (_, i) => LINES - 199 + i));
    expect(pageLabel(s().position, s().page)).toBe('page 6 of 6');
    s().previous();
    await waitFor('older page', () => s().page?.page === 2 && !s().pageLoading);
    expect(s().page?.lines[0]?.lineNo).toBe(LINES - 399);
    s().first();
    await waitFor('first page', () => s().position.mode === 'start' && !s().pageLoading);
    expect(s().page?.lines[0]?.lineNo).toBe(1);
    expect(pageMoves(s().position, s().page).older).toBe(false);
    s().next();
    await waitFor('page 2', () => s().page?.page === 2 && s().position.mode === 'start' && !s().pageLoading);
    expect(s().page?.lines[0]?.lineNo).toBe(201);

    s().setLevel('ERROR');
    await waitFor('errors', () => !s().pageLoading && s().page?.lines.every((l) => l.level === 'ERROR') === true);
    expect(s().page?.lines.length).toBe(LINES / 10);
    s().setKeyword('REJECTED');
    await waitFor('keyword', () => !s().pageLoading && s().page?.lines.length === 0);
    s().setLevel(null);
    await waitFor('keyword only', () => !s().pageLoading && s().page?.lines.length === 10);
    expect(s().page?.lines.map((l) => l.lineNo)).toEqual(Array.from({ length: 10 }, (_, i) => 51 + i * 100));
    s().setKeyword('');

    await s().jumpToTime('2026-01-05 00:12:30');
    expect(s().position).toEqual({ mode: 'start', page: 4 });
    expect(s().focusLine).toBe(12 * 60 + 30 + 1);
    s().showLine(1001);
    await waitFor('line in context', () => !s().pageLoading && s().page?.page === 6);
    expect(s().focusLine).toBe(1001);
  });

  it('searches with streamed hits and can cancel; tails new lines', async () => {
    const store = createLogsStore(() => client.api);
    const s = (): ReturnType<typeof store.getState> => store.getState();
    s().openFile(file);
    s().startSearch('order rejected', { regex: false, caseSensitive: false });
    expect(s().view).toBe('search');
    await waitFor('search done', () => !s().search.running);
    expect(s().search.hits.map((h) => h.lineNo)).toEqual(Array.from({ length: 10 }, (_, i) => 51 + i * 100));
    expect(s().search.hitCount).toBe(10);
    expect(s().search.error).toBeNull();

    s().startSearch('rejected (', { regex: true, caseSensitive: false });
    await waitFor('refused', () => !s().search.running);
    expect(s().search.error).toMatch(/invalid regular expression/);

    s().startSearch('bar', { regex: false, caseSensitive: false });
    s().cancelSearch();
    expect(s().search).toMatchObject({ running: false, cancelled: true });

    s().setTail(true);
    await waitFor('tail start', () => s().tailLines.length === 200);
    expect(s().tailLines.at(-1)?.lineNo).toBe(LINES);
    appendFileSync(path, `${JSON.stringify({ level: 'WARNING', message: 'appended' })}\n`);
    await waitFor('tail follows', () => s().tailLines.at(-1)?.message === 'appended');
    expect(s().tailLines.at(-1)?.lineNo).toBe(LINES + 1);
    s().dispose();
    expect(s().tailing).toBe(false);
  });
});
