import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import type { VariantSummary } from '../src/shared/api.js';
import type { Snapshot } from '../src/shared/snapshot.js';
import { expect, test, type KestrelHost } from './host.js';

/**
 * The first end-to-end slice: the headless host with its demo market, seen through the
 * renderer in Chromium. Screens are saved to test-results/screens/ for a human to look at.
 */
const DEMO = ['demo-15m', 'demo-30m'] as const;
const SCREENS_DIR = resolve(import.meta.dirname, '..', 'test-results', 'screens');

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENS_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENS_DIR, `${name}.png`) });
}

function row(page: Page, variant: string): Locator {
  return page.locator(`[data-testid="variant-row"][data-variant="${variant}"]`);
}

async function numberAttr(locator: Locator, name: string): Promise<number> {
  const value = await locator.getAttribute(name);
  return value === null || value === '' ? Number.NaN : Number(value);
}

/** Polls the REST API until the variant runs with a live process. */
async function waitRunning(host: KestrelHost, variant: string, timeoutMs = 60_000): Promise<VariantSummary & { pid: number }> {
  const deadline = Date.now() + timeoutMs;
  let last: VariantSummary | undefined;
  while (Date.now() < deadline) {
    const res = await host.api<VariantSummary[]>('/api/variants');
    last = res.status === 200 ? res.body.find((v) => v.variant === variant) : undefined;
    if (last && last.status === 'running' && last.pid !== null) return { ...last, pid: last.pid };
    await new Promise((done) => setTimeout(done, 500));
  }
  throw new Error(`${variant} did not reach running with a pid in ${timeoutMs / 1000} s; last seen: ${JSON.stringify(last)}`);
}

/** The newest bar time the host has published for a variant's first instrument. */
async function publishedLastTime(host: KestrelHost, variant: string): Promise<number> {
  const res = await host.api<Snapshot>(`/api/variants/${variant}/snapshot`);
  expect(res.status, `GET snapshot of ${variant}`).toBe(200);
  const first = res.body.instruments[0];
  if (!first) throw new Error(`${variant} publishes no instrument`);
  return first.forming?.time ?? first.bars.at(-1)?.time ?? Number.NaN;
}

test.describe('read-only host', () => {
  test('instances list the demo variants; each dashboard follows live bars', async ({ page, host }) => {
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    for (const v of DEMO) await waitRunning(host, v);
    await page.goto(host.url);
    await expect(page.getByTestId('instances-screen')).toBeVisible();
    for (const v of DEMO) await expect(row(page, v)).toBeVisible();
    await expect(page.getByTestId('simulated-badge')).toBeVisible();
    await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
    for (const v of DEMO) {
      await expect(row(page, v).getByTestId('status-badge')).toHaveAttribute('data-status', 'running');
      await expect(row(page, v).locator('[data-col="source"]')).toContainText('simulated');
    }
    await expect(page.getByTestId('last-update')).toHaveText(/updated (just now|\d+ s ago)/);
    await screenshot(page, 'instances');

    for (const v of DEMO) {
      await row(page, v).click();
      const chart = page.getByTestId('kline-chart');
      await expect(chart).toHaveAttribute('data-variant', v);
      await expect(chart.locator('canvas').first()).toBeVisible();
      await expect(page.getByTestId('simulated-badge')).toBeVisible();
      await expect.poll(() => numberAttr(chart, 'data-bar-count')).toBeGreaterThan(30);
      const count0 = await numberAttr(chart, 'data-bar-count');
      const time0 = await numberAttr(chart, 'data-last-time');
      await expect.poll(() => numberAttr(chart, 'data-bar-count'), { timeout: 30_000 }).toBeGreaterThan(count0);
      await expect.poll(() => numberAttr(chart, 'data-last-time'), { timeout: 30_000 }).toBeGreaterThan(time0);
      // It grew by series.update(): the snapshot was loaded (setData) once.
      await expect(chart).toHaveAttribute('data-load-count', '1');
      // The chart catches up with what the host has published since: live updates arrive.
      const published = await publishedLastTime(host, v);
      await expect.poll(() => numberAttr(chart, 'data-last-time'), { timeout: 15_000 }).toBeGreaterThanOrEqual(published);
      // The MACD pane has its series, and TD marks of hundreds of bars are drawn.
      await expect.poll(() => numberAttr(page.getByTestId('macd-pane'), 'data-macd-points')).toBeGreaterThan(30);
      await expect.poll(() => numberAttr(chart, 'data-marker-count')).toBeGreaterThan(0);
      await expect(page.getByTestId('signal-ema')).toContainText(/bull|bear|neutral/);
      await expect(page.getByTestId('dash-pid')).toHaveText(/^\d+$/);
      // The crosshair legend shows the hovered bar.
      const box = await chart.boundingBox();
      if (!box) throw new Error('chart has no box');
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.35);
      await expect(page.getByTestId('chart-legend')).toContainText(/O \d/);
      await expect(page.getByTestId('macd-pane')).toContainText(/DIF [+-]?\d/);
      await screenshot(page, `dashboard-${v}`);
      await page.keyboard.press('Alt+1');
      await expect(page.getByTestId('instances-screen')).toBeVisible();
    }

    // "g" then "d" reopens the dashboard on the variant last opened.
    await page.keyboard.press('g');
    await page.keyboard.press('d');
    await expect(page.getByTestId('kline-chart')).toHaveAttribute('data-variant', DEMO[1]);
    expect(pageErrors, 'errors in the page').toEqual([]);
  });

  test('a worker killed with SIGKILL comes back with a new pid, and the UI says so', async ({ page, host }) => {
    const variant = DEMO[0];
    const before = await waitRunning(host, variant);
    await page.goto(host.url);
    const pidCell = row(page, variant).locator('[data-col="pid"] .pid');
    await expect(pidCell).toHaveText(String(before.pid));

    process.kill(before.pid, 'SIGKILL');

    await expect
      .poll(
        async () => {
          const text = (await pidCell.textContent()) ?? '';
          return /^\d+$/.test(text) && text !== String(before.pid);
        },
        { timeout: 15_000, message: 'a new pid on the row' },
      )
      .toBe(true);
    await expect
      .poll(async () => Number(await row(page, variant).locator('[data-col="restarts"]').textContent()), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(before.restarts + 1);
    await expect(row(page, variant).getByTestId('restart-tag')).toBeVisible();
    const newPid = Number(await pidCell.textContent());
    // The host's word, waited for: the row may show the new pid a moment before a second read of the API.
    await expect
      .poll(async () => (await host.api<VariantSummary[]>('/api/variants')).body.find((v) => v.variant === variant)?.pid, { timeout: 15_000 })
      .toBe(newPid);
    await screenshot(page, 'instances-after-kill');

    await row(page, variant).click();
    await expect(page.getByTestId('dash-pid')).toHaveText(String(newPid));
    await expect.poll(async () => Number(await page.getByTestId('dash-restarts').textContent())).toBeGreaterThanOrEqual(1);
    await expect.poll(() => numberAttr(page.getByTestId('kline-chart'), 'data-bar-count'), { timeout: 30_000 }).toBeGreaterThan(30);
    await screenshot(page, 'dashboard-after-kill');
  });

  test('Stop on a read-only host shows the 403 refusal inline', async ({ page, host }) => {
    const variant = DEMO[1];
    await waitRunning(host, variant);
    await page.goto(host.url);
    await expect(row(page, variant).getByTestId('status-badge')).toHaveAttribute('data-status', 'running');
    await row(page, variant).getByTestId('cmd-stop').click();
    await expect(page.getByTestId('confirm-dialog')).toBeVisible();
    await page.getByTestId('confirm-ok').click();
    const note = page.locator(`[data-testid="command-note"][data-variant="${variant}"]`);
    await expect(note).toHaveAttribute('data-kind', 'error');
    await expect(note).toContainText('403');
    await expect(note).toContainText('--allow-control');
    // Refused means refused: the variant keeps running, and the page still works.
    await expect(row(page, variant).getByTestId('status-badge')).toHaveAttribute('data-status', 'running');
    await screenshot(page, 'instances-403');
  });

  test('theme choice persists across reloads', async ({ page, host }) => {
    await page.goto(host.url);
    const html = page.locator('html');
    const initial = await html.getAttribute('data-theme');
    await page.getByTestId('toggle-theme').click();
    const toggled = initial === 'light' ? 'dark' : 'light';
    await expect(html).toHaveAttribute('data-theme', toggled);
    await page.reload();
    await expect(html).toHaveAttribute('data-theme', toggled);
    await row(page, DEMO[0]).click();
    await expect.poll(() => numberAttr(page.getByTestId('kline-chart'), 'data-bar-count')).toBeGreaterThan(30);
    await screenshot(page, `dashboard-${toggled}`);
  });
});

test.describe('host with --allow-control', () => {
  test('Stop then Start changes the status badge', async ({ page, controlHost: host }) => {
    const variant = DEMO[0];
    await waitRunning(host, variant);
    await page.goto(host.url);
    const badge = row(page, variant).getByTestId('status-badge');
    await expect(badge).toHaveAttribute('data-status', 'running');

    await row(page, variant).getByTestId('cmd-stop').click();
    await page.getByTestId('confirm-ok').click();
    await expect(badge).toHaveAttribute('data-status', 'stopped', { timeout: 30_000 });
    await expect(row(page, variant).locator('[data-col="pid"] .pid')).toHaveText('—');
    const stopped = await host.api<VariantSummary[]>('/api/variants');
    expect(stopped.body.find((v) => v.variant === variant)?.status).toBe('stopped');
    await screenshot(page, 'instances-stopped');

    await row(page, variant).getByTestId('cmd-start').click();
    await expect(badge).toHaveAttribute('data-status', 'running', { timeout: 45_000 });
    await expect(row(page, variant).locator('[data-col="pid"] .pid')).toHaveText(/^\d+$/);
  });
});
