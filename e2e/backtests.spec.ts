import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import type { BacktestSummary } from '../src/shared/backtest.js';
import type { BarOverviewResult } from '../src/shared/contract/data.js';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { REMOTE_PAUSE_UNAVAILABLE } from '../src/shared/backtest.js';
import { expect, startHost, test, type KestrelHost } from './host.js';

/**
 * The Backtests screens on the headless host's demo bars (the simulated market's backfill):
 * a job from the form (field errors first), its progress bar to 100 %, a queued job cancelled
 * from the queue, a result page, two runs compared, a sweep's heatmap whose cell opens its run.
 */
const SCREENS_DIR = resolve(import.meta.dirname, '..', 'test-results', 'screens');

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENS_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENS_DIR, `${name}.png`), fullPage: true });
}

async function demoRange(host: KestrelHost): Promise<{ from: string; to: string }> {
  for (;;) {
    const res = await host.api<BarOverviewResult>('/api/data/overview');
    const row = res.body.rows.find((r) => r.vtSymbol === 'rb9999.SIM');
    if (row && row.count > 5000) return { from: row.start.slice(0, 10), to: row.end.slice(0, 10) };
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Parameters that make the demo tape trade often. */
const ACTIVE = { stopLoss: { unit: 'ticks', value: 30 }, takeProfit: { unit: 'ticks', value: 60 }, maxDailyOpenPerProduct: 5 };

async function numberAttr(locator: Locator, name: string): Promise<number> {
  return Number(await locator.getAttribute(name));
}

async function statusOf(host: KestrelHost, id: string): Promise<string | undefined> {
  return (await host.api<BacktestSummary[]>('/api/backtests')).body.find((b) => b.id === id)?.status;
}

test('backtests: form, progress, cancel, result, compare, sweep heatmap', async ({ page, controlHost: host }) => {
  test.setTimeout(300_000);
  const range = await demoRange(host);
  await page.goto(`${host.url}#/backtests`);
  await expect(page.getByTestId('backtests-screen')).toBeVisible();

  // A parameter outside its schema: the error sits next to the field.
  await page.getByTestId('bt-symbols').fill('rb9999.SIM');
  await page.getByTestId('bt-from').fill(range.from);
  await page.getByTestId('bt-to').fill(range.to);
  await page.getByTestId('bt-params').fill('{ "signal": { "fast": 0 } }');
  await page.getByTestId('bt-submit').click();
  await expect(page.getByTestId('bt-error-params')).toContainText('signal.fast');
  await screenshot(page, 'backtests-field-error');

  // A good job: its progress bar runs to 100 % and it lands in the history.
  await page.getByTestId('bt-params').fill('{ "stopLoss": { "unit": "ticks", "value": 30 }, "takeProfit": { "unit": "ticks", "value": 60 } }');
  await page.getByTestId('bt-submit').click();
  const first = page.getByTestId('bt-history').getByTestId('bt-row').first();
  await expect(first).toHaveAttribute('data-status', 'completed', { timeout: 120_000 });
  await expect(first.getByTestId('bt-progress')).toHaveAttribute('data-percent', '100.0');
  await screenshot(page, 'backtests-completed');

  // Another job held in the paused queue, cancelled from the screen.
  await host.api('/api/backtests/queue', { method: 'POST', body: JSON.stringify({ paused: true }) });
  const job = { strategy: 'macd-td', symbols: ['i9999.SIM'], from: range.from, to: range.to, windowMinutes: 30 };
  const held = await host.api<{ id: string }>('/api/backtests/start', { method: 'POST', body: JSON.stringify(job) });
  const queued = page.locator(`[data-testid="bt-row"][data-id="${held.body.id}"]`);
  await expect(queued).toHaveAttribute('data-status', 'queued');
  await queued.getByTestId('bt-cancel').click();
  await expect(page.locator(`[data-testid="bt-row"][data-id="${held.body.id}"]`)).toHaveAttribute('data-status', 'cancelled');
  await host.api('/api/backtests/queue', { method: 'POST', body: JSON.stringify({ paused: false }) });

  // A second completed run, then both compared.
  const second = await host.api<{ id: string }>('/api/backtests/start', { method: 'POST', body: JSON.stringify({ ...job, symbols: ['rb9999.SIM'], windowMinutes: 15, params: ACTIVE }) });
  await expect.poll(() => statusOf(host, second.body.id), { timeout: 120_000 }).toBe('completed');
  const picks = page.getByTestId('bt-history').locator('[data-status="completed"]').getByTestId('bt-compare-pick');
  await picks.nth(0).check();
  await picks.nth(1).check();
  await page.getByTestId('bt-compare').click();
  await expect(page.getByTestId('bt-compare-equity')).toHaveAttribute('data-series', '2');
  await screenshot(page, 'backtests-compare');

  // A result page.
  await page.getByTestId('bt-back').click();
  await page.locator(`[data-testid="bt-row"][data-id="${second.body.id}"]`).getByTestId('bt-open').click();
  await expect(page.getByTestId('bt-result')).toHaveAttribute('data-id', second.body.id);
  await expect(page.getByTestId('equity-chart')).toBeVisible();
  await expect(page.getByTestId('bt-months').locator('tbody tr').first()).toBeVisible();
  await screenshot(page, 'backtests-result');

  // Its K-line: the range's bars, the fills as markers beside the strategy's own TD marks.
  const trades = (await host.api<{ trades: unknown[] }>(`/api/backtests/${second.body.id}`)).body.trades.length;
  expect(trades).toBeGreaterThan(0);
  const kline = page.getByTestId('bt-kline');
  await expect(kline).toHaveAttribute('data-load', 'ready', { timeout: 30_000 });
  await expect(kline).toHaveAttribute('data-vt-symbol', 'rb9999.SIM');
  await expect.poll(() => numberAttr(kline, 'data-bar-count')).toBeGreaterThan(100);
  await expect.poll(() => numberAttr(kline, 'data-trade-markers')).toBeGreaterThan(0);
  const tradeMarkers = await numberAttr(kline, 'data-trade-markers');
  // Fills of one side and offset on one window share a marker: never more markers than fills.
  expect(tradeMarkers).toBeLessThanOrEqual(trades);
  expect(await numberAttr(kline, 'data-marker-count')).toBeGreaterThan(tradeMarkers);
  await kline.scrollIntoViewIfNeeded();
  await screenshot(page, 'backtests-result-kline');

  // A sweep over two parameters: its heatmap, and a cell that opens its run.
  const sweep = await host.api<{ id: string }>('/api/sweeps/start', {
    method: 'POST',
    body: JSON.stringify({
      job: { ...job, symbols: ['rb9999.SIM'], windowMinutes: 15, params: { stopLoss: { unit: 'ticks', value: 30 }, takeProfit: { unit: 'ticks', value: 60 } } },
      parameters: { 'stopLoss.value': { values: [20, 40] }, 'takeProfit.value': { values: [40, 80] } } }),
  });
  expect(sweep.status, JSON.stringify(sweep.body)).toBe(200);
  await expect.poll(async () => (await host.api<{ aggregate: { counts: { completed: number } } }>(`/api/sweeps/${sweep.body.id}`)).body.aggregate.counts.completed, { timeout: 180_000 }).toBe(4);
  await page.getByTestId('bt-back').click();
  await page.getByTestId('bt-open-sweep').first().click();
  await expect(page.getByTestId('bt-heatmap').getByTestId('bt-heat-cell')).toHaveCount(4);
  await page.getByTestId('bt-sort-sharpe').click();
  await screenshot(page, 'backtests-sweep-heatmap');
  await page.getByTestId('bt-heat-cell').first().click();
  await expect(page.getByTestId('bt-result')).toBeVisible();
});

test('backtests on the Redis queue: the screen says where jobs run, Pause is disabled with the reason, Cancel works', async ({ page }) => {
  test.setTimeout(180_000);
  const REDIS = 'redis://127.0.0.1:6379';
  const name = `e2e-${randomUUID().slice(0, 8)}`;
  const host = await startHost({ allowControl: true, extraArgs: ['--queue', REDIS, '--queue-name', name] });
  try {
    const range = await demoRange(host);
    await page.goto(`${host.url}#/backtests`);
    await expect(page.getByTestId('bt-queue-where')).toHaveAttribute('data-kind', 'redis');
    await expect(page.getByTestId('bt-queue-where')).toContainText(name);
    // No backtest-worker takes it: the job waits on the queue.
    const job = { strategy: 'macd-td', symbols: ['rb9999.SIM'], from: range.from, to: range.to, windowMinutes: 15 };
    const started = await host.api<{ id: string }>('/api/backtests/start', { method: 'POST', body: JSON.stringify(job) });
    const row = page.locator(`[data-testid="bt-row"][data-id="${started.body.id}"]`);
    await expect(row).toHaveAttribute('data-status', 'queued');
    const pause = row.getByTestId('bt-pause');
    await expect(pause).toBeDisabled();
    await expect(pause).toHaveAttribute('title', REMOTE_PAUSE_UNAVAILABLE);
    await screenshot(page, 'backtests-redis-queue');
    await row.getByTestId('bt-cancel').click();
    await expect(page.locator(`[data-testid="bt-row"][data-id="${started.body.id}"]`)).toHaveAttribute('data-status', 'cancelled');
  } finally {
    await host.stop();
    const redis = new Redis(REDIS);
    const keys = await redis.keys(`kestrel:${name}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
});
