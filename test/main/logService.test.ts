import { appendFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { LogFile, LogLine, LogPage, LogSearchEvent } from '../../src/shared/contract/logs.js';
import { createHttpApi, type HttpApi } from '../../src/renderer/api/httpApi.js';
import { freshDir, waitFor } from '../helpers.js';
import { expectedRaw, generateLines, referenceLines, writeLines, type GeneratedLine } from '../io/logs/logFixtures.js';
import { startHarness, type Harness } from './workstationHarness.js';

/**
 * The logs area through the real headless stack: Workstation + ApiServer on a free port, the
 * demo off, a logs folder filled by the test. REST for the queries, SSE for the streams, and
 * the renderer's own client (createHttpApi) on top.
 */
let harness: Harness;
let tmp: { dir: string; remove: () => void };
let outside: { dir: string; remove: () => void };
let logsDir: string;
let generated: GeneratedLine[];
let ref: string[];
let client: HttpApi;
const LINES = 60_000;
const RANK = { DEBUG: 1, INFO: 2, WARNING: 3, ERROR: 4, CRITICAL: 5 } as const;

beforeAll(async () => {
  tmp = freshDir('logsvc');
  outside = freshDir('logsvc-outside');
  logsDir = join(tmp.dir, 'logs');
  mkdirSync(join(logsDir, 'demo-15m'), { recursive: true });
  mkdirSync(join(logsDir, 'ext', 'deep'), { recursive: true });
  generated = generateLines(LINES, 31, { longLineAt: 40_000 });
  writeLines(join(logsDir, 'demo-15m', 'strategy.log'), generated);
  ref = referenceLines(readFileSync(join(logsDir, 'demo-15m', 'strategy.log'), 'utf8'));
  writeFileSync(join(logsDir, 'demo-15m', 'strategy.log.1'), '{"level":"INFO","message":"older"}\n');
  writeFileSync(join(logsDir, 'ext', 'deep', 'python.log'), '2026-01-05 09:00:00,001 - grid - ERROR - order rejected\nTraceback (most recent call last):\n');
  writeFileSync(join(logsDir, 'top.log'), 'plain line\n');
  writeFileSync(join(logsDir, 'notes.txt'), 'not a log\n');
  writeFileSync(join(outside.dir, 'secret.log'), 'secret\n');
  symlinkSync(join(outside.dir, 'secret.log'), join(logsDir, 'escape.log'));
  symlinkSync(join(logsDir, 'top.log'), join(logsDir, 'alias.log'));
  harness = await startHarness({
    dataDir: tmp.dir,
    controlEnabled: false,
    settings: { demo: { enabled: false, speed: 60, seed: 1 }, variants: [] },
  });
  client = createHttpApi({ baseUrl: harness.baseUrl, token: harness.token, WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
});

afterAll(async () => {
  client?.close();
  await harness?.stop();
  tmp?.remove();
  outside?.remove();
});

async function getJson<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${harness.baseUrl}${path}`, { headers: { authorization: `Bearer ${harness.token}` } });
  return { status: res.status, body: (await res.json()) as T };
}

/** Reads SSE frames from a stream route until `enough` says so or the stream ends. */
async function readSse(path: string, enough: (items: unknown[]) => boolean, onOpen?: () => void): Promise<{ items: unknown[]; end: { error: string | null } | null }> {
  const controller = new AbortController();
  const res = await fetch(`${harness.baseUrl}${path}`, { headers: { authorization: `Bearer ${harness.token}` }, signal: controller.signal });
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const items: unknown[] = [];
  let end: { error: string | null } | null = null;
  let buffer = '';
  onOpen?.();
  try {
    while (!end && !enough(items)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event === 'item' && data) items.push(JSON.parse(data));
        if (event === 'end' && data) end = JSON.parse(data) as { error: string | null };
      }
    }
  } finally {
    controller.abort();
  }
  return { items, end };
}

function levelAtLeast(i: number, min: keyof typeof RANK): boolean {
  const level = generated[i]?.level ?? null;
  return level !== null && RANK[level] >= RANK[min];
}

describe('logs over REST', () => {
  it('lists every .log and .log.N under the logs folder, recursively, and nothing that leaves it', async () => {
    const { status, body } = await getJson<LogFile[]>('/api/logs/files');
    expect(status).toBe(200);
    expect(body.map((f) => f.file)).toEqual(['alias.log', 'demo-15m/strategy.log', 'demo-15m/strategy.log.1', 'ext/deep/python.log', 'kestrel/main.log', 'top.log']);
    const strategy = body.find((f) => f.file === 'demo-15m/strategy.log');
    expect(strategy).toMatchObject({ variant: 'demo-15m', bytes: readFileSync(join(logsDir, 'demo-15m', 'strategy.log')).length });
    expect(body.find((f) => f.file === 'ext/deep/python.log')).toMatchObject({ variant: 'ext', index: { done: true, progress: 1, lines: 2 } });
    expect(body.find((f) => f.file === 'top.log')).toMatchObject({ variant: null, index: { lines: 1 } });
    expect(Number.isNaN(Date.parse(strategy?.modifiedAt ?? ''))).toBe(false);
  });

  it('pages: a middle page with exact line numbers, the last page from the end, the index status', async () => {
    const { status, body } = await getJson<LogPage>('/api/logs/list?file=demo-15m/strategy.log&page=3&pageSize=100');
    expect(status).toBe(200);
    expect(body).toMatchObject({ file: 'demo-15m/strategy.log', page: 3, pageSize: 100, totalLines: LINES, totalPages: LINES / 100 });
    expect(body.index).toEqual({ done: true, progress: 1 });
    expect(body.lines.map((l) => l.lineNo)).toEqual(Array.from({ length: 100 }, (_, i) => 201 + i));
    expect(body.lines.map((l) => l.raw)).toEqual(ref.slice(200, 300).map(expectedRaw));
    const last = await getJson<LogPage>('/api/logs/list?file=demo-15m/strategy.log&fromEnd=true&pageSize=50');
    expect(last.body.lines.map((l) => l.lineNo)).toEqual(Array.from({ length: 50 }, (_, i) => LINES - 49 + i));
    const json = body.lines.find((l) => l.raw.startsWith('{'));
    expect(json?.variant).toBe('demo-15m');
    expect(Object.keys(json?.fields ?? {})).toEqual(expect.arrayContaining(['seq', 'price']));
  });

  it('filters by level and keyword, and jumps to a time', async () => {
    const want = ref.flatMap((line, i) => (levelAtLeast(i, 'ERROR') && line.toLowerCase().includes('restore') ? [i + 1] : []));
    const page1 = await getJson<LogPage>('/api/logs/list?file=demo-15m/strategy.log&level=ERROR&keyword=Restore&pageSize=20');
    expect(page1.status).toBe(200);
    expect(page1.body.lines.map((l) => l.lineNo)).toEqual(want.slice(0, 20));
    await waitFor('filter totals', async () => (await getJson<LogPage>('/api/logs/list?file=demo-15m/strategy.log&level=ERROR&keyword=Restore&pageSize=20')).body.totalLines !== null);
    const page2 = await getJson<LogPage>('/api/logs/list?file=demo-15m/strategy.log&level=ERROR&keyword=Restore&pageSize=20&page=2');
    expect(page2.body.lines.map((l) => l.lineNo)).toEqual(want.slice(20, 40));
    expect(page2.body.totalLines).toBe(want.length);
    const at = await getJson<LogPage>(`/api/logs/list?file=demo-15m/strategy.log&pageSize=100&at=${encodeURIComponent('2026-01-05 10:00:00')}`);
    const target = generated.findIndex((g, i) => i >= 36_000 && g.time !== null);
    expect(at.body.page).toBe(Math.floor(target / 100) + 1);
  });

  it('refuses paths that leave the folder, files that are not logs, and files that are not there', async () => {
    expect((await getJson<{ error: string }>('/api/logs/list?file=../secret.log')).status).toBe(400);
    expect((await getJson<{ error: string }>(`/api/logs/list?file=${encodeURIComponent('/etc/passwd.log')}`)).status).toBe(400);
    const escape = await getJson<{ error: string }>('/api/logs/list?file=escape.log');
    expect(escape.status).toBe(403);
    expect(escape.body.error).toMatch(/outside the logs folder/);
    expect((await getJson<{ error: string }>('/api/logs/list?file=notes.txt')).status).toBe(400);
    expect((await getJson<{ error: string }>('/api/logs/list?file=demo-15m/none.log')).status).toBe(404);
    // A symlink to a log inside the folder is fine.
    expect((await getJson<LogPage>('/api/logs/list?file=alias.log')).body.lines.map((l) => l.raw)).toEqual(['plain line']);
    const sse = await readSse('/api/logs/search?file=escape.log&pattern=secret', () => false);
    expect(sse.items).toEqual([]);
    expect(sse.end?.error).toMatch(/outside the logs folder/);
  });

  it('streams a search as SSE: hits, progress, then the end', async () => {
    const want = ref.flatMap((line, i) => (/cross\s+order/i.test(line) ? [i + 1] : []));
    const { items, end } = await readSse('/api/logs/search?file=demo-15m/strategy.log&pattern=cross%5Cs%2Border&regex=true', () => false);
    expect(end).toEqual({ error: null });
    const events = items as LogSearchEvent[];
    expect(events.flatMap((e) => (e.type === 'hit' ? [e.line.lineNo] : []))).toEqual(want);
    const last = events.at(-1);
    expect(last).toMatchObject({ type: 'progress', hits: want.length });
    const bad = await readSse('/api/logs/search?file=demo-15m/strategy.log&pattern=%5B&regex=true', () => false);
    expect(bad.end?.error).toMatch(/invalid regular expression \/\[\//);
  });

  it('streams a tail as SSE: the last lines, then appended ones', async () => {
    const file = join(logsDir, 'ext', 'live.log');
    writeFileSync(file, 'one\ntwo\nthree\n');
    const { items } = await readSse('/api/logs/stream?file=ext/live.log&last=2', (got) => got.length >= 3, () => {
      setTimeout(() => appendFileSync(file, '2026-01-05 09:00:00 [ERROR] four\n'), 300);
    });
    expect((items as LogLine[]).map((l) => [l.lineNo, l.raw, l.level])).toEqual([
      [2, 'two', null],
      [3, 'three', null],
      [4, '2026-01-05 09:00:00 [ERROR] four', 'ERROR'],
    ]);
  });
});

describe('logs through the renderer client (createHttpApi)', () => {
  it('lists files and pages', async () => {
    const files = await client.api.listLogFiles({});
    expect(files.map((f) => f.file)).toContain('demo-15m/strategy.log');
    const page = await client.api.listLogLines({ file: 'demo-15m/strategy.log', page: 2, pageSize: 10, level: 'WARNING' });
    const want = ref.flatMap((_, i) => (levelAtLeast(i, 'WARNING') ? [i + 1] : []));
    expect(page.lines.map((l) => l.lineNo)).toEqual(want.slice(10, 20));
    await expect(client.api.listLogLines({ file: 'escape.log' })).rejects.toMatchObject({ status: 403 });
  });

  it('searches with streamed hits and ends; cancelling a tail ends it', async () => {
    const want = ref.flatMap((line, i) => (line.includes('订单被拒绝') ? [i + 1] : []));
    const hits: number[] = [];
    const ended = await new Promise<string | null>((resolve) => {
      client.api.streams.searchLog(
        { file: 'demo-15m/strategy.log', pattern: '订单被拒绝' },
        (item) => {
          if (item.type === 'hit') hits.push(item.line.lineNo ?? -1);
        },
        resolve,
      );
    });
    expect(ended).toBeNull();
    expect(hits).toEqual(want);

    const badEnd = await new Promise<string | null>((resolve) => {
      client.api.streams.searchLog({ file: 'demo-15m/strategy.log', pattern: '(', regex: 'true' }, () => undefined, resolve);
    });
    expect(badEnd).toMatch(/invalid regular expression/);

    const tailed: LogLine[] = [];
    let tailEnd: string | null | undefined;
    const cancel = client.api.streams.tailLog({ file: 'demo-15m/strategy.log', last: 3 }, (l) => tailed.push(l), (e) => (tailEnd = e));
    await waitFor('tail lines', () => tailed.length >= 3);
    expect(tailed.map((l) => l.lineNo)).toEqual([LINES - 2, LINES - 1, LINES]);
    cancel();
    await waitFor('tail ended', () => tailEnd !== undefined);
    expect(tailEnd).toBe('cancelled');
  });
});
