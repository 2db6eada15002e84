import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import type { VariantSummary } from '../src/shared/api.js';
import type { Snapshot } from '../src/shared/snapshot.js';
import { formatDatetime, parseDatetime } from '../src/shared/time.js';
import { expect, test, type KestrelHost } from './host.js';

/**
 * The dashboard's book (positions, orders, PnL), history on demand, the Compare screen's linked
 * charts and the kill switch, against the real headless host and its demo market (600×).
 */
const SCREENS_DIR = resolve(import.meta.dirname, '..', 'test-results', 'screens');
const DEMO_ALL = ['demo-15m', 'demo-30m', 'demo-i-15m'] as const;

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENS_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENS_DIR, `${name}.png`) });
}

async function numberAttr(locator: Locator, name: string): Promise<number> {
  const value = await locator.getAttribute(name);
  return value === null || value === '' ? Number.NaN : Number(value);
}

async function waitStatus(host: KestrelHost, variants: readonly string[], status: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: VariantSummary[] = [];
  while (Date.now() < deadline) {
    const res = await host.api<VariantSummary[]>('/api/variants');
    last = res.status === 200 ? res.body : [];
    if (variants.every((v) => last.find((s) => s.variant === v)?.status === status)) return;
    await new Promise((done) => setTimeout(done, 400));
  }
  throw new Error(`${variants.join(', ')} did not all reach ${status} in ${timeoutMs / 1000} s: ${JSON.stringify(last.map((s) => [s.variant, s.status]))}`);
}

/** The legend's bar time ('YYYY-MM-DD HH:MM') as local-as-UTC seconds. */
async function legendTime(chart: Locator): Promise<number> {
  const text = (await chart.locator('.legend-time').textContent()) ?? '';
  return parseDatetime(`${text}:00`) ?? Number.NaN;
}

/** The book as the page shows it, in the fields that move only when something trades. */
async function shownBook(page: Page) {
  const positions = await page.getByTestId('position-row').evaluateAll((rows) =>
    rows.map((r) => {
      const cell = (c: string) => r.querySelector(`[data-col="${c}"]`);
      return {
        vtSymbol: cell('vtSymbol')?.textContent ?? '',
        direction: cell('direction')?.textContent ?? '',
        volume: Number(cell('volume')?.textContent),
        avgPrice: Number(cell('avgPrice')?.getAttribute('data-value')),
      };
    }),
  );
  const orders = await page.getByTestId('order-row').evaluateAll((rows) =>
    rows.map((r) => {
      const cell = (c: string) => r.querySelector(`[data-col="${c}"]`);
      const price = cell('price')?.getAttribute('data-value') ?? '';
      return {
        id: r.getAttribute('data-id') ?? '',
        side: cell('side')?.textContent ?? '',
        offset: cell('offset')?.textContent ?? '',
        type: cell('type')?.textContent ?? '',
        price: price === '' ? null : Number(price),
        volume: Number(cell('volume')?.textContent),
        status: cell('status')?.textContent ?? '',
        createdAt: Number(cell('createdAt')?.getAttribute('data-value')),
      };
    }),
  );
  const realized = Number(await page.getByTestId('pnl-realized').getAttribute('data-value'));
  return { positions, orders, realized };
}

async function apiBook(host: KestrelHost, variant: string) {
  const res = await host.api<Snapshot>(`/api/variants/${variant}/snapshot`);
  expect(res.status).toBe(200);
  const s = res.body;
  return {
    positions: s.positions.map((p) => ({ vtSymbol: p.vtSymbol, direction: p.direction, volume: p.volume, avgPrice: p.avgPrice })),
    orders: s.orders.map((o) => ({ id: o.id, side: o.side, offset: o.offset, type: o.type, price: o.price, volume: o.volume, status: o.status, createdAt: o.createdAt })),
    realized: s.pnl.realized,
  };
}

/** Drags the chart right by `px` (older bars come into view). */
async function dragRight(page: Page, chart: Locator, px: number): Promise<void> {
  const box = await chart.boundingBox();
  if (!box) throw new Error('chart has no box');
  const y = box.y + box.height * 0.4;
  const x0 = box.x + box.width * 0.3;
  await page.mouse.move(x0, y);
  await page.mouse.down();
  await page.mouse.move(x0 + px, y, { steps: 4 });
  await page.mouse.up();
}

test.describe('read-only host', () => {
  test('dashboard: book tables as the API has them, MACD pane, markers, older history on scroll', async ({ page, host }) => {
    // Up to 60 drags, each waiting for the chart to settle: on a busy 2-core machine this alone can pass 90 s.
    test.setTimeout(180_000);
    const variant = 'demo-15m';
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await waitStatus(host, [variant], 'running');
    await page.goto(`${host.url}#/dashboard/${variant}`);
    const chart = page.getByTestId('kline-chart');
    await expect(chart).toHaveAttribute('data-load', 'ready');
    await expect.poll(() => numberAttr(page.getByTestId('macd-pane'), 'data-macd-points')).toBeGreaterThan(100);
    await expect.poll(() => numberAttr(chart, 'data-marker-count')).toBeGreaterThan(0);
    await expect(page.getByTestId('positions-table')).toBeVisible();
    await expect(page.getByTestId('orders-table')).toBeVisible();

    // The tables carry what the host's snapshot says (polled: the demo may trade in between).
    await expect
      .poll(async () => JSON.stringify(await shownBook(page)) === JSON.stringify(await apiBook(host, variant)), {
        timeout: 20_000,
        message: 'positions, orders and realised PnL equal GET /api/variants/:v/snapshot',
      })
      .toBe(true);
    const book = await apiBook(host, variant);
    // The average price line is drawn exactly when there is a position.
    await expect(chart).toHaveAttribute('data-position-line', book.positions.length > 0 ? 'shown' : 'none');
    await expect(page.getByTestId('restore-info')).toContainText(/min bars replayed/);
    await expect(page.getByTestId('counter-opens')).toHaveText(/^\d+$/);
    await expect(page.getByTestId('pnl-today')).toHaveText(/^(0\.00|[+−][\d,]+\.\d\d)$/);

    // Scroll left until the first visible bar nears the left edge: one history load, prepended.
    const barsBefore = await numberAttr(chart, 'data-bar-count');
    const firstBefore = await numberAttr(chart, 'data-first-time');
    let lastVisibleFrom = Number.NaN;
    for (let i = 0; i < 60 && (await numberAttr(chart, 'data-history-loads')) < 1; i++) {
      await dragRight(page, chart, 90);
      lastVisibleFrom = await numberAttr(chart, 'data-visible-from');
      await page.waitForTimeout(60);
    }
    await expect.poll(() => numberAttr(chart, 'data-history-loads')).toBeGreaterThanOrEqual(1);
    // The snapshot holds 500 window bars; the demo's 30 days of backfill hold about 700.
    await expect.poll(() => numberAttr(chart, 'data-bar-count')).toBeGreaterThan(Math.max(600, barsBefore + 100));
    expect(await numberAttr(chart, 'data-first-time')).toBeLessThan(firstBefore);
    // The bars in view stayed in view: the range moved by exactly the bars prepended.
    await page.waitForTimeout(400);
    expect(await numberAttr(chart, 'data-visible-from')).toBe(lastVisibleFrom);
    // Live updates still go through series.update(): the snapshot was loaded once.
    await expect(chart).toHaveAttribute('data-load-count', '1');
    const updates = await numberAttr(chart, 'data-series-updates');
    await expect.poll(() => numberAttr(chart, 'data-series-updates'), { timeout: 15_000 }).toBeGreaterThan(updates);
    await page.mouse.move(10, 10);
    await screenshot(page, 'dashboard-full');
    expect(pageErrors).toEqual([]);
  });

  test('compare: the 15- and 30-minute variants side by side, the crosshair linked', async ({ page, host }) => {
    await waitStatus(host, ['demo-15m', 'demo-30m'], 'running');
    await page.goto(`${host.url}#/compare`);
    const charts = page.getByTestId('compare-chart');
    await expect(charts).toHaveCount(2);
    await expect(charts.nth(0)).toHaveAttribute('data-variant', 'demo-15m');
    await expect(charts.nth(1)).toHaveAttribute('data-variant', 'demo-30m');
    for (let i = 0; i < 2; i++) await expect(charts.nth(i)).toHaveAttribute('data-load', 'ready');
    const [m15, m30] = [charts.nth(0), charts.nth(1)];

    const box = await m15.boundingBox();
    if (!box) throw new Error('chart has no box');
    await page.mouse.move(box.x + box.width * 0.35, box.y + box.height * 0.3);
    await expect.poll(() => legendTime(m15)).toBeLessThan(await numberAttr(m15, 'data-last-time'));
    // The other chart's legend shows the 30-minute bar that holds the hovered 15-minute bar. The
    // demo runs at 600× and the charts scroll as bars close, so the bar under a still pointer moves:
    // the two legends are read together and compared, never against a time read earlier.
    let pair = { hovered: Number.NaN, shown: Number.NaN };
    await expect
      .poll(async () => {
        pair = { hovered: await legendTime(m15), shown: await legendTime(m30) };
        const again = await legendTime(m15);
        return again === pair.hovered && pair.shown === Math.floor(pair.hovered / 1800) * 1800;
      })
      .toBe(true);
    expect(pair.shown).toBeLessThan(await numberAttr(m30, 'data-last-time'));
    expect(formatDatetime(pair.shown).endsWith(':00:00') || formatDatetime(pair.shown).endsWith(':30:00')).toBe(true);

    // And the other way: a 30-minute bar puts the 15-minute chart on the bar it starts with.
    const box30 = await m30.boundingBox();
    if (!box30) throw new Error('chart has no box');
    await page.mouse.move(box30.x + box30.width * 0.5, box30.y + box30.height * 0.3);
    await expect.poll(async () => (await legendTime(m15)) === (await legendTime(m30))).toBe(true);

    // The time range is linked: both charts show (about) the same span of time.
    // Both scroll as bars close, the follower a frame behind the leader: read together, polled.
    await expect
      .poll(async () => Math.abs((await numberAttr(m15, 'data-visible-from')) - (await numberAttr(m30, 'data-visible-from'))))
      .toBeLessThanOrEqual(1800);
    await screenshot(page, 'compare');
  });

  test('the kill switch is refused on a read-only host: disabled, with the reason', async ({ page, host }) => {
    await page.goto(host.url);
    const kill = page.getByTestId('kill-switch');
    await expect(kill).toBeDisabled();
    await expect(kill).toHaveAttribute('title', /--allow-control/);
  });
});

test.describe('host with --allow-control', () => {
  test('the kill switch halts every variant and resume returns them to running', async ({ page, controlHost: host }) => {
    await waitStatus(host, DEMO_ALL, 'running');
    await page.goto(host.url);
    const kill = page.getByTestId('kill-switch');
    await expect(kill).toBeEnabled();
    await expect(kill).toHaveAttribute('data-state', 'off');
    await kill.click();
    await expect(page.getByTestId('confirm-dialog')).toContainText('Halt trading in every variant');
    await page.getByTestId('confirm-ok').click();
    for (const v of DEMO_ALL) {
      await expect(page.locator(`[data-testid="variant-row"][data-variant="${v}"]`).getByTestId('status-badge')).toHaveAttribute(
        'data-status',
        'halted',
        { timeout: 20_000 },
      );
    }
    await waitStatus(host, DEMO_ALL, 'halted', 5_000);
    await expect(kill).toHaveAttribute('data-state', 'on');
    await expect(page.getByTestId('kill-switch-state')).toHaveText('ALL HALTED');
    await screenshot(page, 'kill-switch-on');

    await kill.click();
    await expect(page.getByTestId('confirm-dialog')).toContainText('Resume trading');
    await page.getByTestId('confirm-ok').click();
    for (const v of DEMO_ALL) {
      await expect(page.locator(`[data-testid="variant-row"][data-variant="${v}"]`).getByTestId('status-badge')).toHaveAttribute(
        'data-status',
        'running',
        { timeout: 20_000 },
      );
    }
    await expect(kill).toHaveAttribute('data-state', 'off');

    // One variant alone, from its dashboard.
    await page.goto(`${host.url}#/dashboard/demo-30m`);
    const halt = page.getByTestId('variant-halt');
    await expect(halt).toHaveText('Halt trading');
    await halt.click();
    await expect(page.getByTestId('dash-status').getByTestId('status-badge')).toHaveAttribute('data-status', 'halted', { timeout: 20_000 });
    await expect(kill).toHaveAttribute('data-state', 'partial');
    const others = await host.api<VariantSummary[]>('/api/variants');
    expect(others.body.filter((s) => s.status === 'halted').map((s) => s.variant)).toEqual(['demo-30m']);
    await expect(halt).toHaveText('Resume trading');
    await halt.click();
    await expect(page.getByTestId('dash-status').getByTestId('status-badge')).toHaveAttribute('data-status', 'running', { timeout: 20_000 });
  });
});
