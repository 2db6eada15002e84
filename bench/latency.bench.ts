/**
 * The live path, end to end: bars inserted into the SQLite store by another process (vnpy's
 * DataRecorder, as far as Kestrel can tell) until the K-line chart in real Chromium, served by
 * the headless host (`node bin/kestrel.js serve`), has each one. Also timed on the way: the
 * worker's snapshot file (watched here) and the host's `variantUpdated` event on a plain
 * WebSocket client, so the figures say where the time goes.
 *
 * One bar at a time: the recorder commits a bar, the bench waits until the chart has drawn it,
 * then pauses GAP_MS (a real recorder writes one bar a minute per contract) before the next.
 * KESTREL_BENCH_LATENCY_BARS sets the count (default 120).
 */
import { mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import WebSocket from 'ws';
import globalSetup from '../e2e/global-setup.js';
import playwrightConfig from '../playwright.config.js';
import { SimulatedMarket } from '../src/core/market/simulatedMarket.js';
import { SqliteBarStore } from '../src/io/sqliteBarStore.js';
import { formatDatetime, parseDatetime } from '../src/shared/time.js';
import { BarRecorder } from '../test/fixtures/barRecorder.js';
import type { BenchFigure } from './figure.js';
import { serveHost, type ServeHost } from './serveHost.js';

const VARIANT = 'live-1m';
const BARS = Number(process.env.KESTREL_BENCH_LATENCY_BARS ?? 120);
const GAP_MS = 300;
/** The variant's poll: the fallback behind the watcher (the schema's default). */
const POLL_MS = 250;

function serve(dataDir: string): Promise<ServeHost> {
  return serveHost(dataDir, ['--no-demo']);
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, everyMs = 2): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export async function run(): Promise<BenchFigure[]> {
  globalSetup();
  const dataDir = mkdtempSync(join(tmpdir(), 'kestrel-bench-latency-'));
  const dbPath = join(dataDir, 'kestrel.db');
  // History enough for the indicators to settle (the variant trades nothing: the point is the path).
  const market = new SimulatedMarket({
    seed: 5,
    instruments: [{ symbol: 'rb9999', exchange: 'SIM', startPrice: 3600, priceTick: 1, baseVolume: 1000 }],
    startTime: parseDatetime('2025-06-02 09:00:00') as number,
  });
  const store = SqliteBarStore.open(dbPath);
  const history = [];
  for (let i = 0; i < 2_000; i++) history.push(...market.nextMinute());
  await store.write(history);
  await store.close();
  const fresh = [];
  for (let i = 0; i < BARS; i++) fresh.push(...market.nextMinute());
  const variant: Record<string, unknown> = { name: VARIANT, vtSymbol: 'rb9999.SIM', windowMinutes: 1, pollMs: POLL_MS };
  writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ demo: { enabled: false }, variants: [variant] }));

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: playwrightConfig.use?.launchOptions?.args ?? ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  let host: ServeHost | null = null;
  const cleanups: (() => void | Promise<void>)[] = [];
  try {
    host = await serve(dataDir);
    const h = host;
    await until(
      `${VARIANT} running`,
      async () => {
        const res = await fetch(`${h.baseUrl}/api/variants`, { headers: { authorization: `Bearer ${h.token}` } });
        const list = (await res.json()) as { variant: string; status: string }[];
        return list.find((v) => v.variant === VARIANT)?.status === 'running' ? true : undefined;
      },
      120_000,
      250,
    );

    // Where each bar is first seen: the snapshot file, the WebSocket event, the chart.
    const atFile = new Map<string, number>();
    const snapshotFile = join(dataDir, 'monitor', `snapshot_${VARIANT}.json`);
    const watcher = watch(join(dataDir, 'monitor'), () => {
      const at = Date.now();
      try {
        const snap = JSON.parse(readFileSync(snapshotFile, 'utf8')) as { instruments: { lastBarAt: string | null }[] };
        const last = snap.instruments[0]?.lastBarAt;
        if (last && !atFile.has(last)) atFile.set(last, at);
      } catch {
        // Caught mid-rename: the next event reads it.
      }
    });
    cleanups.push(() => watcher.close());
    const atEvent = new Map<string, number>();
    const ws = new WebSocket(`${h.baseUrl.replace(/^http/, 'ws')}/api/ws?token=${h.token}`);
    await new Promise<void>((done, fail) => {
      ws.once('open', () => done());
      ws.once('error', fail);
    });
    cleanups.push(() => ws.close());
    ws.on('message', (data: Buffer) => {
      const at = Date.now();
      const frame = JSON.parse(data.toString()) as { event?: string; payload?: { summary?: { variant?: string }; instruments?: { lastBarAt: string | null }[] } };
      const last = frame.payload?.instruments?.[0]?.lastBarAt;
      if (frame.event === 'variantUpdated' && frame.payload?.summary?.variant === VARIANT && last && !atEvent.has(last)) atEvent.set(last, at);
    });

    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`${h.url}#/dashboard/${VARIANT}`);
    const chart = page.getByTestId('kline-chart');
    await chart.locator('canvas').first().waitFor();
    await until('the chart loaded', async () => ((await chart.getAttribute('data-load')) === 'ready' ? true : undefined), 60_000, 100);
    // The page notes the wall time at which each candle time first becomes the chart's last.
    await page.evaluate(`(() => {
      const host = document.querySelector('[data-testid="kline-chart"]');
      window.__seen = {};
      new MutationObserver(() => {
        const t = host.dataset.lastTime;
        if (t && !(t in window.__seen)) window.__seen[t] = Date.now();
      }).observe(host, { attributes: true, attributeFilter: ['data-last-time'] });
    })()`);

    const recorder = new BarRecorder(dbPath);
    cleanups.push(() => recorder.close());
    const toChart: number[] = [];
    const toFile: number[] = [];
    const toEvent: number[] = [];
    for (const bar of fresh) {
      const datetime = formatDatetime(bar.time);
      const c = await recorder.insert({ symbol: bar.symbol, exchange: bar.exchange, datetime, open: bar.open, high: bar.high, low: bar.low, close: bar.close, volume: bar.volume });
      const shownAt = await until(`${datetime} on the chart`, async () => (await page.evaluate(`window.__seen[${String(bar.time)}]`)) as number | undefined, 30_000);
      toChart.push(shownAt - c.committedAt);
      const f = atFile.get(datetime);
      const e = atEvent.get(datetime);
      if (f !== undefined) toFile.push(f - c.committedAt);
      if (e !== undefined) toEvent.push(e - c.committedAt);
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
    await page.close();

    const figure = (name: string, samples: number[], q: number, note?: string): BenchFigure => {
      const sorted = [...samples].sort((a, b) => a - b);
      return { name, value: quantile(sorted, q), unit: 'ms', peer: { name: 'store poll interval (the fallback; file watcher on)', value: POLL_MS }, ...(note ? { note } : {}) };
    };
    return [
      figure('commit → chart has the bar, p50', toChart, 0.5, `${toChart.length} bars, one every ≥ ${GAP_MS} ms, 1-minute window; target p50 < 50 ms`),
      figure('commit → chart has the bar, p99', toChart, 0.99, 'target p99 < 100 ms'),
      figure('  commit → snapshot file written, p50', toFile, 0.5, `${toFile.length} bars seen in the file (by this bench's own watcher)`),
      figure('  commit → snapshot file written, p99', toFile, 0.99),
      figure('  commit → variantUpdated on a WebSocket, p50', toEvent, 0.5, `${toEvent.length} bars seen as events`),
      figure('  commit → variantUpdated on a WebSocket, p99', toEvent, 0.99),
    ];
  } finally {
    for (const c of cleanups.reverse()) await c();
    await browser.close();
    await host?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
