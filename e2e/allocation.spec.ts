import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AllocationStatus } from '../src/shared/allocation.js';
import { expect, startHost, test } from './host.js';

/**
 * The Allocation screen on the 24/7 crypto demo (`demo.crypto`): the demo's grid group is shown,
 * its use bars move as the simulated pairs trade, and a blocked trade appears (the demo's pot is
 * smaller than its grids want). A screenshot is saved under test-results/screens.
 */
const SCREENS_DIR = resolve(import.meta.dirname, '..', 'test-results', 'screens');

test('allocation: the crypto demo group, moving bars, a blocked trade', async ({ page }) => {
  test.setTimeout(300_000);
  const host = await startHost({ demoSpeed: 600, settings: { demo: { crypto: true } } });
  try {
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(host.url);
    await page.getByTestId('nav-allocation').click();
    await expect(page.getByTestId('allocation-screen')).toBeVisible();
    await expect(page.getByTestId('allocation-strategy')).toHaveText('EQUAL');
    const symbols = ['BTCUSDT.SIMC', 'ETHUSDT.SIMC', 'SOLUSDT.SIMC'];
    for (const s of symbols) await expect(page.getByTestId(`allocation-row-${s}`)).toBeVisible();

    // The bars move: each meter's value changes from nothing used to what the grids hold, live.
    const meters = page.locator('.allocation-symbols [role="meter"]');
    const values = async (): Promise<string> => (await meters.evaluateAll((els) => els.map((e) => e.getAttribute('aria-valuenow') ?? ''))).join(',');
    await expect.poll(values, { timeout: 180_000 }).not.toBe('0,0,0');
    const seen = await values();
    await expect.poll(values, { timeout: 120_000 }).not.toBe(seen);

    // A blocked trade: the screen's count and the API agree that at least one buy was refused.
    await expect.poll(async () => Number(await page.getByTestId('allocation-blocked').textContent()), { timeout: 120_000 }).toBeGreaterThan(0);
    const api = await host.api<AllocationStatus>('/api/allocation');
    expect(api.status).toBe(200);
    expect(api.body.blockedTrades).toBeGreaterThan(0);
    expect(api.body.symbols.some((s) => s.blockedTrades > 0)).toBe(true);

    mkdirSync(SCREENS_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENS_DIR, 'allocation.png'), fullPage: true });

    // A grid's Dashboard draws its 13 levels and its resting orders as price lines over the candles.
    await page.goto(`${host.url}#/dashboard/grid-eth`);
    const chart = page.getByTestId('kline-chart');
    await expect(chart).toHaveAttribute('data-load', 'ready');
    const snapshot = await host.api<{ orders: { type: string; price: number | null }[] }>('/api/variants/grid-eth/snapshot');
    expect(snapshot.status).toBe(200);
    await expect.poll(async () => Number(await chart.getAttribute('data-strategy-lines')), { timeout: 30_000 }).toBeGreaterThan(13);
    // A grid reads no indicator: its display lists no signal badges, and the Dashboard shows none.
    await expect(page.getByTestId('signal-badges')).toHaveAttribute('data-badges', 'none');
    await expect(page.getByTestId('signal-ema')).toHaveCount(0);
    await page.screenshot({ path: join(SCREENS_DIR, 'grid-dashboard.png') });
    expect(pageErrors).toEqual([]);
  } finally {
    await host.stop();
  }
});
