import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanThreads } from '../../src/io/logs/scanThreads.js';
import { LogService } from '../../src/main/workstation/logService.js';
import type { LogSearchEvent } from '../../src/shared/contract/logs.js';
import { freshDir, waitFor } from '../helpers.js';
import { generateLines, writeLines } from '../io/logs/logFixtures.js';
import { startHarness, type Harness } from './workstationHarness.js';

/**
 * Issue 12, finding 2: a regular expression with catastrophic backtracking, sent with the
 * read-only token, froze the main process (`.*.*.*Q` 26 s, `(a+)+$` on 28 a's and a '!' 53 s)
 * and closing the connection did not stop it. Searches now run on worker threads with a time
 * budget; the main thread's event loop is watched with perf_hooks while they run.
 */
let tmp: { dir: string; remove: () => void };
let logsDir: string;

beforeAll(() => {
  tmp = freshDir('logsafety');
  logsDir = join(tmp.dir, 'logs');
  mkdirSync(join(logsDir, 'demo-15m'), { recursive: true });
  const file = join(logsDir, 'demo-15m', 'strategy.log');
  writeLines(file, generateLines(20_000, 3));
  // Long lines without a Q make `.*.*.*Q` cubic per line; the a's make `(a+)+$` exponential.
  const long = Array.from({ length: 40 }, (_, i) => `{"level":"INFO","message":"${'order filled at 3500.5 '.repeat(100)}${i}"}`);
  appendFileSync(file, `${long.join('\n')}\n${'a'.repeat(30)}!\n`);
});
afterAll(() => tmp.remove());

const ctx = { origin: 'rest', controlAllowed: false } as const;
const params = { file: 'demo-15m/strategy.log', regex: false, caseSensitive: false, limit: 10_000 };

/**
 * A harmless search first, so the pool has a thread: what is measured is the search, not the
 * start of a thread through tsx (tests run from source; the built app starts a plain file).
 */
async function warmPool(): Promise<void> {
  const service = new LogService({ logsDir });
  await service.streams().searchLog({ ...params, pattern: 'no such words here' }, () => undefined, new AbortController().signal, ctx);
  service.close();
  expect(scanThreads.idleThreads).toBeGreaterThan(0);
}

describe('a search cannot freeze the main process', () => {
  it('catastrophic patterns run out their time budget on threads; the main event loop never waits 50 ms', async () => {
    const service = new LogService({ logsDir, searchBudgetMs: 3000 });
    try {
      for (const pattern of ['.*.*.*Q', '(a+)+$']) {
        await warmPool();
        const delay = monitorEventLoopDelay({ resolution: 5 });
        delay.enable();
        const events: LogSearchEvent[] = [];
        const failure = await service
          .streams()
          .searchLog({ ...params, pattern, regex: true }, (e) => events.push(e), new AbortController().signal, ctx)
          .then(
            () => null,
            (err: unknown) => err,
          );
        delay.disable();
        expect(failure, pattern).toBeInstanceOf(Error);
        expect((failure as Error).message).toMatch(/^search stopped after 3 s, its time budget: the regular expression \/.+\/ had scanned .+ of .+ MB/);
        expect(events[0]).toMatchObject({ type: 'progress', scannedBytes: 0 });
        // p99, not the single worst sample: beside other suites on 2 cores a lone scheduling hiccup is
        // the machine's, while a search on the loop would hold it for seconds (26–53 s before this fix).
        const p99 = delay.percentile(99) / 1e6;
        expect({ pattern, p99DelayMs: p99 < 50 ? 'under 50' : p99 }).toEqual({ pattern, p99DelayMs: 'under 50' });
        // The threads that ran out of time were terminated, not left spinning.
        await waitFor('scan threads ended', () => scanThreads.busyThreads === 0);
      }
    } finally {
      service.close();
    }
  }, 120_000);

  describe('through the headless API', () => {
    let harness: Harness;
    beforeAll(async () => {
      harness = await startHarness({
        dataDir: tmp.dir,
        controlEnabled: false,
        settings: { demo: { enabled: false, speed: 60, seed: 1 }, variants: [] },
      });
    });
    afterAll(async () => {
      await harness?.stop();
    });

    it('answers /api/status during a catastrophic search, and closing the search connection ends its threads', async () => {
      await warmPool();
      const auth = { authorization: `Bearer ${harness.token}` };
      // The loop delay is asserted above, on the service alone: here the test's HTTP client
      // shares the process and the scan threads take both cores of a small machine.
      const controller = new AbortController();
      const res = await fetch(`${harness.baseUrl}/api/logs/search?file=demo-15m/strategy.log&regex=true&pattern=${encodeURIComponent('.*.*.*Q')}`, {
        headers: auth,
        signal: controller.signal,
      });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      while (!text.includes('event: item')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      await waitFor('the search threads running', () => scanThreads.busyThreads > 0);
      const status = await fetch(`${harness.baseUrl}/api/status`, { headers: auth });
      expect(status.status).toBe(200);
      controller.abort();
      // Well within the 30 s budget: the threads go when the client does.
      await waitFor('scan threads terminated', () => scanThreads.busyThreads === 0, 15_000);
    }, 120_000);
  });
});
