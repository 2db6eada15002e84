import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import type { VariantSummary } from '../src/shared/api.js';
import { productOf } from '../src/shared/bar.js';
import type { TradePage } from '../src/shared/contract/trades.js';
import type { Snapshot } from '../src/shared/snapshot.js';
import { parseDatetime } from '../src/shared/time.js';
import { expect, test, type KestrelHost } from './host.js';

/**
 * Issue 8's screens against the real headless host and its demo market (600×): a variant trading
 * two products (demo-multi-15m: rb.SIM and m.SIM, each resolved to its contract) shown per
 * instrument on the Dashboard and with its products and contracts on Instances; Flatten from an
 * Instances row and from the kill-switch menu.
 */
const SCREENS_DIR = resolve(import.meta.dirname, '..', 'test-results', 'screens');
const MULTI = 'demo-multi-15m';
const DEMO_ALL = ['demo-15m', 'demo-30m', 'demo-i-15m', MULTI] as const;

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENS_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENS_DIR, `${name}.png`) });
}

function row(page: Page, variant: string): Locator {
  return page.locator(`[data-testid="variant-row"][data-variant="${variant}"]`);
}

async function waitStatus(host: KestrelHost, variants: readonly string[], status: string, timeoutMs = 90_000): Promise<void> {
  let last: VariantSummary[] = [];
  await expect
    .poll(
      async () => {
        const res = await host.api<VariantSummary[]>('/api/variants');
        last = res.status === 200 ? res.body : [];
        return variants.every((v) => last.find((s) => s.variant === v)?.status === status);
      },
      { timeout: timeoutMs, intervals: [400], message: `${variants.join(', ')} reach ${status}` },
    )
    .toBe(true);
}

async function snapshotOf(host: KestrelHost, variant: string): Promise<Snapshot> {
  const res = await host.api<Snapshot>(`/api/variants/${variant}/snapshot`);
  expect(res.status).toBe(200);
  return res.body;
}

/** The hovered bar as the legend shows it: its time (local-as-UTC seconds) and close. */
async function legendBar(chart: Locator): Promise<{ time: number; close: number }> {
  const time = parseDatetime(`${(await chart.locator('.legend-time').textContent()) ?? ''}:00`) ?? Number.NaN;
  const items = await chart.locator('.chart-legend .legend-item').allTextContents();
  const close = items.find((t) => t.startsWith('C '));
  return { time, close: close === undefined ? Number.NaN : Number(close.slice(2)) };
}

test.describe('read-only host', () => {
  test('a two-product variant: tabs switch the chart and the badges; Instances lists products and contracts; Flatten refused with the reason', async ({
    page,
    host,
  }) => {
    test.setTimeout(240_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await waitStatus(host, [MULTI], 'running');
    // Each product named alone resolved to its contract in the store.
    const snapshot = await snapshotOf(host, MULTI);
    const symbols = snapshot.instruments.map((i) => i.vtSymbol);
    expect([...symbols].sort()).toEqual(['m9999.SIM', 'rb9999.SIM']);
    expect(snapshot.source).toBe('simulated');

    // Instances: the products, each with the contract it trades now, as the snapshot has them.
    await page.goto(host.url);
    const products = row(page, MULTI).getByTestId('product-contract');
    await expect(products).toHaveCount(2);
    expect(await products.evaluateAll((els) => els.map((e) => [e.getAttribute('data-product'), e.getAttribute('data-contract')]))).toEqual(
      symbols.map((s) => [productOf(s), s]),
    );
    await expect(row(page, 'demo-i-15m').getByTestId('product-contract')).toHaveCount(1);
    await expect(row(page, 'demo-i-15m').getByTestId('product-contract')).toHaveAttribute('data-contract', 'i9999.SIM');
    await expect(row(page, 'demo-i-15m').getByTestId('product-contract')).toHaveAttribute('data-product', 'i');

    // Flatten is refused before it is clicked, saying why: on the row and in the kill-switch menu.
    const flatten = row(page, MULTI).getByTestId('cmd-flatten');
    await expect(flatten).toBeDisabled();
    await expect(flatten).toHaveAttribute('title', /--allow-control/);
    await page.getByTestId('kill-switch-menu').click();
    await expect(page.getByTestId('flatten-all')).toBeDisabled();
    await expect(page.getByTestId('flatten-all')).toHaveAttribute('title', /--allow-control/);
    await expect(page.getByTestId('flatten-all-reason')).toContainText('--allow-control');
    await screenshot(page, 'instances-products-flatten-refused');
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('flatten-all')).toHaveCount(0);

    // Dashboard: one tab per instrument; the chart, its badges and the header follow the tab.
    await page.goto(`${host.url}#/dashboard/${MULTI}`);
    const tabs = page.getByTestId('instrument-tab');
    await expect(tabs).toHaveCount(2);
    expect(await tabs.evaluateAll((els) => els.map((e) => e.getAttribute('data-vt-symbol')))).toEqual(symbols);
    const chart = page.getByTestId('kline-chart');
    await expect(chart).toHaveAttribute('data-load', 'ready');
    await expect(chart).toHaveAttribute('data-vt-symbol', symbols[0] ?? '');
    await expect(tabs.nth(0)).toHaveAttribute('aria-selected', 'true');

    for (const [index, vtSymbol] of [1, 0].map((i) => [i, symbols[i] ?? ''] as const)) {
      await tabs.nth(index).click();
      await expect(tabs.nth(index)).toHaveAttribute('aria-selected', 'true');
      await expect(chart).toHaveAttribute('data-vt-symbol', vtSymbol);
      await expect(chart).toHaveAttribute('data-load', 'ready');
      await expect(page.getByTestId('signal-badges')).toHaveAttribute('data-vt-symbol', vtSymbol);
      await expect(page.getByTestId('dash-symbol')).toHaveText(vtSymbol);
      await expect.poll(async () => Number(await chart.getAttribute('data-bar-count'))).toBeGreaterThan(100);
      // The candles are this instrument's: a closed bar under the pointer is the snapshot's bar of
      // that instrument. At 600× the chart scrolls under a still pointer, so the legend is read
      // first and the snapshot after it (a closed bar never changes).
      const box = await chart.boundingBox();
      if (!box) throw new Error('chart has no box');
      await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.3);
      await expect
        .poll(
          async () => {
            const shown = await legendBar(chart);
            const bars = (await snapshotOf(host, MULTI)).instruments.find((i) => i.vtSymbol === vtSymbol)?.bars ?? [];
            const bar = bars.find((b) => b.time === shown.time);
            return bar !== undefined && Math.abs(bar.close - shown.close) < 1e-6;
          },
          { message: `the hovered candle is ${vtSymbol}'s bar in the snapshot` },
        )
        .toBe(true);
      await screenshot(page, `dashboard-instrument-${vtSymbol}`);
      await page.mouse.move(5, 5);
    }
    expect(pageErrors).toEqual([]);
  });
});

test.describe('host with --allow-control', () => {
  test('flatten one variant from its Instances row: halted, flat after the next open, audited', async ({ page, controlHost: host }) => {
    // The demo trades at 600×: a position may take a few simulated sessions to open.
    test.setTimeout(480_000);
    await waitStatus(host, DEMO_ALL, 'running');
    let target: string | null = null;
    let held: Snapshot['positions'] = [];
    let heldAt = Number.NaN;
    await expect
      .poll(
        async () => {
          for (const v of DEMO_ALL) {
            const s = await snapshotOf(host, v);
            if (s.positions.some((p) => p.volume !== 0)) {
              target = v;
              held = s.positions;
              heldAt = Math.max(...s.instruments.map((i) => parseDatetime(i.lastBarAt ?? '') ?? Number.NaN));
              return true;
            }
          }
          return false;
        },
        { timeout: 360_000, intervals: [500], message: 'a demo variant holds a position' },
      )
      .toBe(true);
    const variant = target as unknown as string;

    await page.goto(host.url);
    await row(page, variant).getByTestId('cmd-flatten').click();
    await expect(page.getByTestId('confirm-dialog')).toContainText(`Flatten ${variant}?`);
    await expect(page.getByTestId('confirm-dialog')).toContainText('next bar');
    await screenshot(page, 'flatten-confirm');
    await page.getByTestId('confirm-ok').click();

    await expect(row(page, variant).getByTestId('status-badge')).toHaveAttribute('data-status', 'halted', { timeout: 20_000 });
    await expect(page.locator(`[data-testid="flatten-note"][data-variant="${variant}"]`)).toContainText('flattening');
    // Flat after the next open: no position, no resting order; the row shows it.
    await expect
      .poll(
        async () => {
          const s = await snapshotOf(host, variant);
          return s.positions.length === 0 && s.orders.length === 0;
        },
        { timeout: 60_000, message: `${variant} flat` },
      )
      .toBe(true);
    await expect(row(page, variant).locator('[data-col="position"]')).toHaveText('—', { timeout: 15_000 });
    // Each position held was closed by a fill after it was seen.
    const trades = await host.api<TradePage>(`/api/trades/list?variant=${variant}&pageSize=200`);
    expect(trades.status).toBe(200);
    for (const p of held) {
      const closes = trades.body.rows.filter((t) => t.vtSymbol === p.vtSymbol && t.offset === 'close' && t.time > heldAt);
      expect(closes.reduce((sum, t) => sum + t.volume, 0), `${p.vtSymbol} closed`).toBeGreaterThanOrEqual(p.volume);
    }
    // Still halted, and the other variants were not touched.
    const summaries = (await host.api<VariantSummary[]>('/api/variants')).body;
    expect(summaries.filter((s) => s.status === 'halted').map((s) => s.variant)).toEqual([variant]);

    // The audit entry: who asked (the page over REST), what, for which variant, with what outcome.
    const db = new Database(join(host.dataDir, 'kestrel.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare("SELECT origin, target, params, outcome FROM audit WHERE action = 'flattenVariant' ORDER BY id").all();
      expect(rows).toEqual([{ origin: 'rest', target: variant, params: JSON.stringify({ variant }), outcome: 'ok' }]);
    } finally {
      db.close();
    }
    await page.mouse.move(5, 5);
    await screenshot(page, 'flatten-done');
  });

  test('flatten every variant from the kill-switch menu, after a confirmation', async ({ page, controlHost: host }) => {
    await waitStatus(host, DEMO_ALL, 'running');
    await page.goto(host.url);
    await page.getByTestId('kill-switch-menu').click();
    const item = page.getByTestId('flatten-all');
    await expect(item).toBeEnabled();
    await item.click();
    await expect(page.getByTestId('confirm-dialog')).toContainText('Flatten every variant?');
    await screenshot(page, 'flatten-all-confirm');
    await page.getByTestId('confirm-ok').click();
    for (const v of DEMO_ALL) await expect(row(page, v).getByTestId('status-badge')).toHaveAttribute('data-status', 'halted', { timeout: 20_000 });
    await expect(page.getByTestId('kill-switch')).toHaveAttribute('data-state', 'on');
    await expect
      .poll(async () => (await Promise.all(DEMO_ALL.map((v) => snapshotOf(host, v)))).every((s) => s.positions.length === 0 && s.orders.length === 0), {
        timeout: 60_000,
        message: 'every variant flat',
      })
      .toBe(true);
    const db = new Database(join(host.dataDir, 'kestrel.db'), { readonly: true, fileMustExist: true });
    try {
      expect(db.prepare("SELECT target, params, outcome FROM audit WHERE action = 'flattenVariant'").all()).toEqual([
        { target: '*', params: JSON.stringify({ variant: null }), outcome: 'ok' },
      ]);
    } finally {
      db.close();
    }
  });
});
