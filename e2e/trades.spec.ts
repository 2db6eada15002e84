import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { formatExchangeText } from '../src/renderer/lib/format.js';
import { formatCount, formatPnl, formatRatio } from '../src/renderer/lib/tradeFormat.js';
import { CSV_COLUMNS } from '../src/renderer/lib/tradesCsv.js';
import type { Status } from '../src/shared/api.js';
import type { Trade, TradePage, TradeStatisticsResult } from '../src/shared/contract/trades.js';
import { expect, test, type KestrelHost } from './host.js';

/**
 * The Trades screen on the headless host's demo (--demo-speed 600: a simulated trading day
 * passes in about 35 s). The demo variants must trade by themselves; the test waits for their
 * first fills through the API, then checks that the screen shows exactly what the API says.
 */
const SCREENS_DIR = resolve(import.meta.dirname, '..', 'test-results', 'screens');
/** How long the demo may take to produce fills (restore, then live trading at 600×). */
const FIRST_FILLS_MS = 180_000;

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENS_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENS_DIR, `${name}.png`) });
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/**
 * Polls the API until the demo has journalled at least one fill (required), then gives it up to
 * `closeGraceMs` more for a closing one (wanted, so the statistics are not all nulls).
 */
async function waitForFills(host: KestrelHost, closeGraceMs: number): Promise<{ firstFillMs: number; firstCloseMs: number | null; stats: TradeStatisticsResult }> {
  const t0 = Date.now();
  let last: TradeStatisticsResult | null = null;
  let firstFillMs: number | null = null;
  for (;;) {
    const res = await host.api<TradeStatisticsResult>('/api/trades/statistics');
    if (res.status === 200) last = res.body;
    const elapsed = Date.now() - t0;
    if (last && last.totals.fills > 0) firstFillMs ??= elapsed;
    if (last && firstFillMs !== null && last.totals.trades > 0) return { firstFillMs, firstCloseMs: elapsed, stats: last };
    if (last && firstFillMs !== null && elapsed - firstFillMs > closeGraceMs) return { firstFillMs, firstCloseMs: null, stats: last };
    if (firstFillMs === null && elapsed > FIRST_FILLS_MS) break;
    await sleep(2_000);
  }
  const status = await host.api<Status>('/api/status');
  throw new Error(
    `the demo journalled no fill in ${FIRST_FILLS_MS / 1000} s at --demo-speed 600; simulated time ${status.body.demo.simulatedTime ?? '—'}`,
  );
}

interface ShownRow {
  id: string | null;
  time: string;
  variant: string;
  symbol: string;
  side: string;
  offset: string;
  price: number;
  volume: string;
  pnl: number | null;
}

async function shownRows(page: Page, n: number): Promise<ShownRow[]> {
  const rows = page.getByTestId('trade-row');
  const count = Math.min(n, await rows.count());
  const out: ShownRow[] = [];
  for (let i = 0; i < count; i++) {
    const row = rows.nth(i);
    const cell = (col: string): Promise<string> => row.locator(`[data-col="${col}"]`).innerText();
    const pnl = (await cell('pnl')).trim();
    out.push({
      id: await row.getAttribute('data-id'),
      time: await cell('time'),
      variant: await cell('variant'),
      symbol: await cell('symbol'),
      side: await cell('side'),
      offset: await cell('offset'),
      price: Number((await cell('price')).replace(/,/g, '')),
      volume: await cell('volume'),
      pnl: pnl === '' ? null : Number(pnl.replace(/[,+]/g, '')),
    });
  }
  return out;
}

function expectedRow(t: Trade): ShownRow {
  return {
    id: t.id,
    time: formatExchangeText(t.datetime),
    variant: t.variant,
    symbol: t.vtSymbol,
    side: t.side === 'buy' ? 'Buy' : 'Sell',
    offset: t.offset === 'open' ? 'Open' : 'Close',
    price: t.price,
    volume: String(t.volume),
    pnl: t.pnl === null ? null : Math.round(t.pnl * 100) / 100,
  };
}

/** Reloads the screen's data and waits for the page answer. */
async function reload(page: Page): Promise<void> {
  const answered = page.waitForResponse((r) => r.url().includes('/api/trades/list') && r.status() === 200);
  await page.getByRole('button', { name: 'Reload' }).click();
  await answered;
  await expect(page.getByTestId('stats-panel')).toHaveAttribute('data-loading', 'false');
}

test('the Trades screen shows the journal as the API serves it; side filter; CSV export', async ({ page, host }) => {
  test.setTimeout(FIRST_FILLS_MS + 180_000 + 150_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });

  const { firstFillMs, firstCloseMs, stats: early } = await waitForFills(host, 180_000);
  const secs = (ms: number | null): string => (ms === null ? 'none within the grace period' : `${(ms / 1000).toFixed(0)} s`);
  console.log(`demo: first fill after ${secs(firstFillMs)}, first closing fill after ${secs(firstCloseMs)}; ${early.totals.fills} fills so far`);

  await page.goto(`${host.url}#/trades`);
  await expect(page.getByTestId('trades-screen')).toBeVisible();
  await expect(page.getByTestId('trade-row').first()).toBeVisible();

  // The first rows and the statistics are the API's (retried: the demo keeps trading).
  await expect(async () => {
    await reload(page);
    const api = await host.api<TradePage>('/api/trades/list');
    const stats = await host.api<TradeStatisticsResult>('/api/trades/statistics');
    expect(await shownRows(page, 15)).toEqual(api.body.rows.slice(0, 15).map(expectedRow));
    await expect(page.getByTestId('trades-total')).toHaveAttribute('data-total', String(api.body.total));
    const t = stats.body.totals;
    expect(t.fills).toBe(api.body.total);
    await expect(page.getByTestId('stat-total-pnl')).toHaveAttribute('data-value', String(t.totalPnl));
    await expect(page.getByTestId('stat-total-pnl')).toHaveText(formatPnl(t.totalPnl));
    await expect(page.getByTestId('stat-win-rate')).toHaveAttribute('data-value', t.winRate === null ? '' : String(t.winRate));
    await expect(page.getByTestId('stat-win-rate')).toHaveText(formatRatio(t.winRate));
    await expect(page.getByTestId('stat-trades')).toHaveAttribute('data-value', String(t.trades));
    await expect(page.getByTestId('stat-trades')).toHaveText(formatCount(t.trades));
    await expect(page.getByTestId('stat-sharpe')).toHaveText(t.sharpe === null ? '—' : t.sharpe.toFixed(2));
    await expect(page.getByTestId('pnl-histogram')).toHaveAttribute('data-bars', String(stats.body.periods.length));
  }).toPass({ timeout: 60_000 });
  await expect(page.getByTestId('equity-chart').locator('canvas').first()).toBeVisible();
  await screenshot(page, 'trades');

  // Side filter: the side that has fills (sells when there are any), exactly the API's rows, and the filter in the URL.
  const sells = await host.api<TradePage>('/api/trades/list?side=sell&pageSize=1');
  const side = sells.body.total > 0 ? 'sell' : 'buy';
  const sideLabel = side === 'sell' ? 'Sell' : 'Buy';
  await page.getByTestId(`trades-side-${side}`).click();
  await expect(page).toHaveURL(new RegExp(`#/trades\\?side=${side}$`));
  await expect(async () => {
    await reload(page);
    const api = await host.api<TradePage>(`/api/trades/list?side=${side}`);
    const shown = await shownRows(page, 100);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.every((r) => r.side === sideLabel)).toBe(true);
    expect(shown).toEqual(api.body.rows.slice(0, 100).map(expectedRow));
    await expect(page.getByTestId('trades-total')).toHaveAttribute('data-total', String(api.body.total));
    const stats = await host.api<TradeStatisticsResult>(`/api/trades/statistics?side=${side}`);
    await expect(page.getByTestId('stat-fills')).toHaveAttribute('data-value', String(stats.body.totals.fills));
  }).toPass({ timeout: 60_000 });

  // CSV: every fill of that side up to the newest one at export time, oldest first, with a header.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('trades-export').click()]);
  expect(download.suggestedFilename()).toBe(`kestrel-trades-${side}.csv`);
  const file = await download.path();
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\r\n').filter((l) => l.length > 0);
  expect(lines[0]).toBe(CSV_COLUMNS.join(','));
  const body = lines.slice(1).map((l) => l.split(','));
  const col = (name: (typeof CSV_COLUMNS)[number]): number => CSV_COLUMNS.indexOf(name);
  expect(body.length).toBeGreaterThan(0);
  expect(body.every((r) => r[col('side')] === side)).toBe(true);
  const newest = body.at(-1)?.[col('datetime')] ?? '';
  const pinned = await host.api<TradePage>(`/api/trades/list?side=${side}&to=${encodeURIComponent(newest)}&pageSize=1000`);
  expect(lines.length - 1).toBe(pinned.body.total);
  expect(body.map((r) => r[col('id')])).toEqual(pinned.body.rows.map((r) => r.id).reverse());
  await expect(page.getByTestId('trades-export-done')).toHaveText(`${formatCount(pinned.body.total)} ${pinned.body.total === 1 ? 'row' : 'rows'} exported`);
  await screenshot(page, 'trades-filtered');

  expect(errors).toEqual([]);
});
