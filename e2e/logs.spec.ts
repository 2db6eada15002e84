import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import type { LogPage } from '../src/shared/contract/logs.js';
import { expect, test, type KestrelHost } from './host.js';

/**
 * The Logs screen against the headless host with its demo running: a demo variant's
 * strategy.log, paged, filtered by level, searched, and followed live.
 */
const SCREENS_DIR = resolve(import.meta.dirname, '..', 'test-results', 'screens');
const FILE = 'demo-15m/strategy.log';

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENS_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENS_DIR, `${name}.png`) });
}

/** Waits until the demo worker has logged its restore, so the file has the lines the test looks for. */
async function waitForRestoreLine(host: KestrelHost): Promise<LogPage> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await host.api<LogPage>(`/api/logs/list?file=${encodeURIComponent(FILE)}&keyword=restore`);
    if (res.status === 200 && res.body.lines.length > 0) return res.body;
    if (Date.now() > deadline) throw new Error(`no "restore" line in ${FILE} after 60 s (last answer ${res.status})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('logs: open a demo strategy.log, filter by level, search, follow live', async ({ page, host }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
  const restore = await waitForRestoreLine(host);
  const all = await host.api<LogPage>(`/api/logs/list?file=${encodeURIComponent(FILE)}&pageSize=200&fromEnd=true`);
  expect(all.status).toBe(200);

  await page.goto(host.url);
  await page.getByTestId('nav-logs').click();
  await expect(page.getByTestId('logs-screen')).toBeVisible();
  const fileRow = page.locator(`[data-testid="log-file-row"][data-file="${FILE}"]`);
  await expect(fileRow).toBeVisible();
  await fileRow.click();
  await expect(page.getByTestId('log-current-file')).toHaveText(FILE);

  // The newest page: the rows the host has, numbered, the restore line among them.
  const rows = page.locator('[data-testid="log-lines-table"] [data-testid="log-row"]');
  await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(all.body.lines.length);
  const restoreLineNo = restore.lines[0]?.lineNo;
  await expect(page.locator(`[data-testid="log-row"][data-line="${restoreLineNo}"]`)).toContainText('restore finished');
  await expect(page.getByTestId('log-page-info')).toHaveText(/page 1 of 1|last page/);

  // Level filter: WARNING and above holds exactly what the host says it holds.
  await page.getByTestId('log-level-filter').selectOption('WARNING');
  const warnings = await host.api<LogPage>(`/api/logs/list?file=${encodeURIComponent(FILE)}&level=WARNING&pageSize=200&fromEnd=true`);
  if (warnings.body.lines.length === 0) await expect(page.getByTestId('log-page')).toContainText('No lines match.');
  else await expect.poll(() => rows.count()).toBe(warnings.body.lines.length);
  for (const level of await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-level')))) {
    expect(['WARNING', 'ERROR', 'CRITICAL']).toContain(level);
  }
  await page.getByTestId('log-level-filter').selectOption('INFO');
  await expect.poll(() => rows.count()).toBeGreaterThan(0);
  for (const level of await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-level')))) {
    expect(['INFO', 'WARNING', 'ERROR', 'CRITICAL']).toContain(level);
  }
  await page.getByTestId('log-level-filter').selectOption('');

  // Keyword filter on the pages, then jump to the restore line's time.
  await page.getByTestId('log-keyword-filter').fill('RESTORE');
  await expect.poll(() => rows.count()).toBe(restore.lines.length);
  await page.getByTestId('log-keyword-filter').fill('');
  await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(all.body.lines.length);
  const restoreTime = restore.lines[0]?.time ?? '';
  await page.getByTestId('log-jump-input').fill(restoreTime.slice(0, 19).replace('T', ' '));
  await page.getByTestId('log-jump-button').click();
  await expect(page.locator('[data-testid="log-row"].focus')).toHaveCount(1);

  // Search: streamed hits, counted, each one holding the keyword.
  await page.getByTestId('log-search-input').fill('restore');
  await page.getByTestId('log-search-input').press('Enter');
  const hits = page.getByTestId('log-search-hit');
  await expect(page.getByTestId('log-search-progress')).toHaveAttribute('data-running', 'false');
  await expect.poll(() => hits.count()).toBeGreaterThanOrEqual(1);
  await expect(page.getByTestId('log-search-progress')).toHaveAttribute('data-hits', String(await hits.count()));
  for (const text of await hits.allTextContents()) expect(text.toLowerCase()).toContain('restore');
  await expect(page.getByTestId('log-results-tab')).toHaveText(/Search results \(\d+\)/);
  await screenshot(page, 'logs');

  // A bad regular expression is refused with the reason.
  await page.getByTestId('log-search-regex').check();
  await page.getByTestId('log-search-input').fill('restore (');
  await page.getByTestId('log-search-input').press('Enter');
  await expect(page.getByTestId('log-search-error')).toContainText('invalid regular expression');

  // A hit opens its page with the line highlighted.
  await page.getByTestId('log-search-regex').uncheck();
  await page.getByTestId('log-search-input').fill('restore');
  await page.getByTestId('log-search-input').press('Enter');
  await hits.first().click();
  await expect(page.locator('[data-testid="log-row"].focus')).toContainText('restore');
  await page.locator('[data-testid="log-row"].focus').click();
  await expect(page.getByTestId('log-raw')).toContainText('"message":"restore finished"');
  await screenshot(page, 'logs-lines');

  // Live tail shows the file's lines and keeps following.
  await page.getByTestId('log-tail-toggle').check();
  await expect(page.getByTestId('log-tail')).toBeVisible();
  await expect.poll(() => page.locator('[data-testid="log-tail"] [data-testid="log-row"]').count()).toBeGreaterThan(0);
  await page.getByTestId('log-tail-toggle').uncheck();
  await expect(page.getByTestId('log-page')).toBeVisible();
  expect(pageErrors, 'errors in the page').toEqual([]);
});
