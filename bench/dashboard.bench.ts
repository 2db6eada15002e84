/**
 * "The dashboard with 10,000 bars of history keeps up with a demo at 100× speed", measured in
 * Chromium against the real headless host.
 *
 * Setup: a fresh data directory is seeded with a long simulated history (the demo market's own
 * code, backfilling ~460 trading days instead of 30, its state saved so that `serve` continues
 * it), so that the 15-minute variant has 10,000+ window bars in the store. Then
 * `node bin/kestrel.js serve --data-dir D --port 0 --demo-speed 100 --token T` runs, and the
 * dashboard of demo-15m is opened in Chromium (/usr/bin/chromium, playwright.config.ts's flags).
 *
 * The 10,000 bars reach the chart the way a trader gets them: zoomed out with the mouse wheel,
 * then dragged to the left edge again and again, each time the chart asking getBarHistory for
 * the bars before its first one (2,000 per request when zoomed out) and prepending them. Then
 * it is dragged back to the live edge, still zoomed out (~1,200 bars in view, the heavy case).
 *
 * Measured for MEASURE_S seconds: the variantUpdated events the host sent for the variant (a
 * WebSocket client of the bench, the peer), the updates the page applied (data-updates-handled)
 * and its series.update() calls, and frame times (requestAnimationFrame deltas). A ratio of
 * applied to sent ≈ 1 means the page keeps up. Figures are printed, never asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Locator, type Page } from '@playwright/test';
import WebSocket from 'ws';
import globalSetup from '../e2e/global-setup.js';
import playwrightConfig from '../playwright.config.js';
import { SqliteBarStore } from '../src/io/sqliteBarStore.js';
import { DemoMarket } from '../src/main/workstation/demoMarket.js';
import { settingsSchema } from '../src/shared/config.js';
import type { BenchFigure } from './figure.js';
import { serveHost, type ServeHost } from './serveHost.js';

const VARIANT = 'demo-15m';
const SPEED = 100;
const TARGET_BARS = 10_000;
const BACKFILL_DAYS = Number(process.env.KESTREL_BENCH_DASH_DAYS ?? 460);
const MEASURE_S = Number(process.env.KESTREL_BENCH_DASH_SECONDS ?? 30);

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function seed(dataDir: string): Promise<number> {
  const store = SqliteBarStore.open(join(dataDir, 'kestrel.db'));
  try {
    const demo = new DemoMarket({
      store,
      stateFile: join(dataDir, 'demo-market.json'),
      seed: settingsSchema.parse({}).demo.seed,
      speed: SPEED,
      backfillDays: BACKFILL_DAYS,
    });
    return await demo.prepare();
  } finally {
    await store.close();
  }
}

function serve(dataDir: string): Promise<ServeHost> {
  return serveHost(dataDir, ['--demo-speed', String(SPEED)]);
}

async function waitRunning(host: ServeHost): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${host.baseUrl}/api/variants`, { headers: { authorization: `Bearer ${host.token}` } });
    const list = (await res.json()) as { variant: string; status: string }[];
    if (list.find((v) => v.variant === VARIANT)?.status === 'running') return;
    await new Promise((done) => setTimeout(done, 500));
  }
  throw new Error(`${VARIANT} did not reach running`);
}

async function attr(chart: Locator, name: string): Promise<number> {
  const v = await chart.getAttribute(name);
  return v === null || v === '' ? Number.NaN : Number(v);
}

async function drag(page: Page, chart: Locator, dx: number): Promise<void> {
  const box = await chart.boundingBox();
  if (!box) throw new Error('no chart box');
  const y = box.y + box.height * 0.4;
  const x0 = dx > 0 ? box.x + 60 : box.x + box.width - 120;
  await page.mouse.move(x0, y);
  await page.mouse.down();
  await page.mouse.move(x0 + dx, y, { steps: 6 });
  await page.mouse.up();
}

/** Waits until no history request is in flight or pending (the chart debounces them). */
async function historySettled(page: Page, chart: Locator): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await page.waitForTimeout(200);
    if ((await chart.getAttribute('data-history-state')) !== 'loading') {
      await page.waitForTimeout(250);
      if ((await chart.getAttribute('data-history-state')) !== 'loading') return;
    }
  }
}

export async function run(): Promise<BenchFigure[]> {
  globalSetup();
  const dataDir = mkdtempSync(join(tmpdir(), 'kestrel-bench-dash-'));
  const figures: BenchFigure[] = [];
  let host: ServeHost | null = null;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: playwrightConfig.use?.launchOptions?.args ?? ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  try {
    const t0 = process.hrtime.bigint();
    const written = await seed(dataDir);
    figures.push({ name: 'seed: simulated 1-minute bars written', value: written, unit: 'bars', note: `${BACKFILL_DAYS} trading days in ${seconds(t0).toFixed(1)} s` });
    host = await serve(dataDir);
    await waitRunning(host);

    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`${host.url}#/dashboard/${VARIANT}`);
    const chart = page.getByTestId('kline-chart');
    await chart.locator('canvas').first().waitFor();
    for (let i = 0; i < 100 && (await chart.getAttribute('data-load')) !== 'ready'; i++) await page.waitForTimeout(200);

    // History: zoom out, then drag to the left edge until 10,000 bars are in the chart.
    const tHistory = process.hrtime.bigint();
    const box = await chart.boundingBox();
    if (!box) throw new Error('no chart box');
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.4);
    for (let i = 0; i < 12; i++) await page.mouse.wheel(0, 600);
    await historySettled(page, chart);
    for (let i = 0; i < 80 && (await attr(chart, 'data-bar-count')) < TARGET_BARS && (await chart.getAttribute('data-has-more')) !== 'false'; i++) {
      await drag(page, chart, 1_100);
      await historySettled(page, chart);
    }
    const bars = await attr(chart, 'data-bar-count');
    const loads = await attr(chart, 'data-history-loads');
    figures.push({
      name: 'history: bars in the chart',
      value: bars,
      unit: 'bars',
      note: `${loads} getBarHistory requests while scrolling left, ${seconds(tHistory).toFixed(1)} s including the drags`,
    });
    // Back to the live edge, still zoomed out.
    for (let i = 0; i < 40; i++) {
      const to = await attr(chart, 'data-visible-to');
      const last = await attr(chart, 'data-last-time');
      if (to >= last - 15 * 60) break;
      await drag(page, chart, -1_100);
      await page.waitForTimeout(100);
    }
    await page.mouse.move(box.x + 20, box.y - 30);
    const inView = await attr(chart, 'data-visible-bars');

    // The API alone: 2,000 bars before a time no chart asked for (computed), then the same again (cached).
    const first = await attr(chart, 'data-first-time');
    const ask = (before: number) =>
      fetch(`${host?.baseUrl}/api/history/bars?vtSymbol=rb9999.SIM&windowMinutes=15&count=2000&before=${before}&variant=${VARIANT}`, {
        headers: { authorization: `Bearer ${host?.token}` },
      }).then((r) => r.json() as Promise<{ bars: unknown[] }>);
    const computed: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const tq = process.hrtime.bigint();
      await ask(first + i * 37 * 86_400);
      computed.push(seconds(tq) * 1000);
    }
    const tc = process.hrtime.bigint();
    await ask(first + 5 * 37 * 86_400);
    const cachedMs = seconds(tc) * 1000;
    computed.sort((a, b) => a - b);
    figures.push({
      name: 'getBarHistory, 2,000 15-minute bars (median of 5)',
      value: computed[2] ?? Number.NaN,
      unit: 'ms',
      note: `600 window bars' warm-up each, over HTTP; the same request again (cached): ${cachedMs.toFixed(1)} ms`,
    });

    // The peer: what the host sends for the variant, counted by a plain WebSocket client.
    const ws = new WebSocket(`${host.baseUrl.replace(/^http/, 'ws')}/api/ws?token=${host.token}`);
    await new Promise<void>((done, fail) => {
      ws.once('open', () => done());
      ws.once('error', fail);
    });
    let sent = 0;
    let counting = false;
    ws.on('message', (data: Buffer) => {
      if (!counting) return;
      const frame = JSON.parse(data.toString()) as { event?: string; payload?: { summary?: { variant?: string }; instruments?: unknown[] } };
      if (frame.event === 'variantUpdated' && frame.payload?.summary?.variant === VARIANT && (frame.payload.instruments?.length ?? 0) > 0) sent += 1;
    });

    // As a string: tsx would wrap a function's inner closures in a helper the page lacks.
    await page.evaluate(`(() => {
      window.__frames = [];
      window.__stop = false;
      let last = performance.now();
      const tick = (now) => {
        window.__frames.push(now - last);
        last = now;
        if (!window.__stop) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    })()`);
    const handled0 = await attr(chart, 'data-updates-handled');
    const series0 = await attr(chart, 'data-series-updates');
    counting = true;
    const tm = process.hrtime.bigint();
    await page.waitForTimeout(MEASURE_S * 1000);
    counting = false;
    const elapsed = seconds(tm);
    // Let the last events in flight reach the page before reading its counters.
    await page.waitForTimeout(300);
    const handled = (await attr(chart, 'data-updates-handled')) - handled0;
    const seriesUpdates = (await attr(chart, 'data-series-updates')) - series0;
    const frames = (await page.evaluate('(() => { window.__stop = true; return window.__frames.slice(1); })()')) as number[];
    ws.close();
    const sorted = [...frames].sort((a, b) => a - b);
    const mean = frames.reduce((s, f) => s + f, 0) / Math.max(1, frames.length);
    const p95 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? Number.NaN;
    const max = sorted.at(-1) ?? Number.NaN;
    figures.push(
      {
        name: `updates applied by the page (${VARIANT})`,
        value: handled / elapsed,
        unit: 'updates/s',
        peer: { name: 'variantUpdated sent by the host', value: sent / elapsed },
        note: `${handled} applied, ${sent} sent in ${elapsed.toFixed(1)} s at --demo-speed ${SPEED}; ${bars} bars in the chart, ~${inView} in view`,
      },
      { name: 'series.update() calls', value: seriesUpdates / elapsed, unit: 'candles/s', note: `${seriesUpdates} candles drawn in place (closed bars and forming-bar updates)` },
      { name: 'frame time, mean', value: mean, unit: 'ms', note: `${frames.length} requestAnimationFrame frames` },
      { name: 'frame time, p95', value: p95, unit: 'ms' },
      { name: 'frame time, max', value: max, unit: 'ms' },
    );
    await page.close();
  } finally {
    await browser.close();
    await host?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return figures;
}
