import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import type { BarGapsResult, BarOverviewResult } from '../src/shared/contract/data.js';
import type { SettingsView } from '../src/shared/contract/settings.js';
import { expect, test } from './host.js';

/**
 * The Data and Settings screens against the headless host: the demo's SIM bars as the API
 * reports them, their gaps, an import through the browser's file input, and the settings form
 * with the host's field errors shown next to their fields.
 */
const SCREENS_DIR = resolve(import.meta.dirname, '..', 'test-results', 'screens');

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENS_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENS_DIR, `${name}.png`) });
}

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    // A refused request (an expected 400 or 403) is logged by the browser itself; it is not a page error.
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) errors.push(msg.text());
  });
  return errors;
}

/** The overview the page itself last received, so that the table is compared with exactly that answer. */
function latestOverview(page: Page): () => BarOverviewResult | null {
  let latest: BarOverviewResult | null = null;
  page.on('response', (res) => {
    if (new URL(res.url()).pathname !== '/api/data/overview' || res.status() !== 200) return;
    void res.json().then(
      (body: BarOverviewResult) => {
        latest = body;
      },
      () => undefined,
    );
  });
  return () => latest;
}

async function shownCounts(page: Page): Promise<Record<string, number>> {
  const rows = await page.getByTestId('data-row').evaluateAll((els) =>
    els.map((e) => [`${e.getAttribute('data-vt-symbol')}|${e.getAttribute('data-interval')}`, e.querySelector('[data-testid="data-row-bars"]')?.textContent ?? '']),
  );
  return Object.fromEntries(rows.map(([k, text]) => [k, Number((text ?? '').replace(/,/g, ''))]));
}

// A 1-minute CSV with 09:04 and 09:05 missing: one gap of two minutes inside SHFE's 09:00–10:15 session.
const CSV = [
  'datetime,open,high,low,close,volume',
  ...['09:00', '09:01', '09:02', '09:03', '09:06', '09:07', '09:08', '09:09'].map((hm, i) => `2024-03-07 ${hm}:00,${3500 + i},${3503 + i},${3499 + i},${3501 + i},${10 + i}`),
].join('\n');

test('data: the demo’s SIM bars as the API counts them, and their gaps', async ({ page, host }) => {
  const errors = watchErrors(page);
  const latest = latestOverview(page);
  await page.goto(host.url);
  await page.getByTestId('nav-data').click();
  await expect(page.getByTestId('data-screen')).toBeVisible();
  await expect(page.locator('[data-testid="data-row"][data-vt-symbol="rb9999.SIM"]')).toBeVisible();

  // Every row the page shows is the row of the API answer it got, count for count.
  await expect
    .poll(async () => {
      const answer = latest();
      if (!answer) return 'no answer yet';
      const expected = Object.fromEntries(answer.rows.map((r) => [`${r.vtSymbol}|${r.interval}`, r.count]));
      const shown = await shownCounts(page);
      return JSON.stringify(shown) === JSON.stringify(expected) ? 'equal' : JSON.stringify({ shown, expected });
    })
    .toBe('equal');
  const sim = latest()?.rows.filter((r) => r.exchange === 'SIM') ?? [];
  expect(sim.map((r) => r.vtSymbol).sort()).toEqual(['i9999.SIM', 'm9999.SIM', 'rb9999.SIM']);
  for (const r of sim) expect(r.count).toBeGreaterThan(1000);
  await expect(page.getByTestId('data-store')).toContainText(join(host.dataDir, 'kestrel.db'));

  // The gaps of the selected series, as the API finds them (the simulated market skips no open minute).
  await page.locator('[data-testid="data-row"][data-vt-symbol="rb9999.SIM"]').click();
  await expect(page.getByTestId('gaps-summary')).toBeVisible();
  const gaps = await host.api<BarGapsResult>('/api/data/gaps?vtSymbol=rb9999.SIM');
  expect(gaps.status).toBe(200);
  await expect(page.getByTestId('gaps-total')).toHaveText(gaps.body.totalGaps.toLocaleString('en-US'));
  await expect(page.getByTestId('gaps-summary')).toContainText('China futures sessions 09:00–10:15');
  if (gaps.body.totalGaps === 0) await expect(page.getByTestId('gaps-none')).toBeVisible();
  // Arrow keys move the selection.
  await page.locator('[data-testid="data-row"][data-vt-symbol="rb9999.SIM"]').press('ArrowUp');
  await expect(page.locator('[data-testid="data-row"].selected')).toHaveAttribute('data-vt-symbol', 'm9999.SIM');

  // A read-only host does not offer the import.
  await expect(page.getByTestId('import-run')).toBeDisabled();
  expect(errors).toEqual([]);
});

test('data: import a CSV through the file input, see the new row and its gap', async ({ page, controlHost: host }) => {
  const errors = watchErrors(page);
  await page.goto(host.url);
  await page.getByTestId('nav-data').click();
  await expect(page.locator('[data-testid="data-row"][data-vt-symbol="rb9999.SIM"]')).toBeVisible();

  // A bad row first: the problem is listed with its line and field, and nothing appears.
  await page.getByTestId('import-file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV.replace('3503,', 'x,')) });
  await page.getByTestId('import-symbol').fill('e2e2405');
  await page.getByTestId('import-exchange').fill('SHFE');
  await page.getByTestId('import-run').click();
  await expect(page.getByTestId('import-problems')).toContainText('bad.csv:2: field "high": "x" is not a number');
  await expect(page.getByTestId('import-error')).toContainText('nothing was stored');
  await expect(page.locator('[data-testid="data-row"][data-vt-symbol="e2e2405.SHFE"]')).toHaveCount(0);
  await screenshot(page, 'data-import-error');

  await page.getByTestId('import-file').setInputFiles({ name: 'e2e.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
  await expect(page.getByTestId('import-file-info')).toHaveAttribute('title', 'e2e.csv');
  await expect(page.getByTestId('import-file-info')).toHaveText(`${Buffer.byteLength(CSV)} bytes`);
  await page.getByTestId('import-run').click();
  await expect(page.getByTestId('import-result')).toContainText('8 bars of e2e2405.SHFE 1m stored from e2e.csv');
  const row = page.locator('[data-testid="data-row"][data-vt-symbol="e2e2405.SHFE"]');
  await expect(row).toHaveAttribute('data-count', '8');
  await expect(row).toContainText('2024-03-07 09:00:00');
  await expect(row).toContainText('2024-03-07 09:09:00');
  const api = await host.api<BarOverviewResult>('/api/data/overview');
  expect(api.body.rows.find((r) => r.vtSymbol === 'e2e2405.SHFE')).toMatchObject({ count: 8, start: '2024-03-07 09:00:00', end: '2024-03-07 09:09:00' });

  await row.click();
  const gapRows = page.getByTestId('gap-row');
  await expect(gapRows).toHaveCount(1);
  await expect(gapRows.first()).toContainText('2024-03-07 09:04');
  await expect(gapRows.first()).toContainText('2024-03-07 09:05');
  await expect(gapRows.first()).toContainText('2 min');
  await expect(page.getByTestId('gaps-total')).toHaveText('1');

  // The presets fill the mapping of the documented formats.
  await page.getByTestId('import-preset-backtrader').click();
  await expect(page.getByTestId('import-columns')).toHaveValue('date=0,time=1,open=2,high=3,low=4,close=5,volume=6,openInterest=7');
  await expect(page.getByTestId('import-header')).toHaveValue('skip');
  await page.getByTestId('import-preset-vnpy').click();
  await expect(page.getByTestId('import-columns')).toHaveValue('');
  await screenshot(page, 'data');
  expect(errors).toEqual([]);
});

test('settings: the bar source, a field error next to its field, test connection, save', async ({ page, controlHost: host }) => {
  const errors = watchErrors(page);
  await page.goto(host.url);
  await page.getByTestId('nav-settings').click();
  await expect(page.getByTestId('settings-screen')).toBeVisible();
  await expect(page.getByTestId('settings-data-dir-value')).toHaveText(host.dataDir);
  await expect(page.getByTestId('settings-stored-at')).toHaveText(join(host.dataDir, 'settings.json'));
  await expect(page.getByTestId('bar-source-sqlite')).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByTestId('input-barSource.path')).toHaveAttribute('placeholder', join(host.dataDir, 'kestrel.db'));
  // --demo-speed 600 on the command line; the file says 60.
  await expect(page.getByTestId('settings-demo-running')).toContainText('600×');

  await page.getByTestId('bar-source-test').click();
  await expect(page.getByTestId('bar-source-test-result')).toHaveAttribute('data-ok', 'true');
  await expect(page.getByTestId('bar-source-test-result')).toContainText(`SQLite ${join(host.dataDir, 'kestrel.db')} (read-only): a vnpy bar database, 3 rows in dbbaroverview`);

  // A MySQL URL without a database: the host's message, under the URL field.
  await page.getByTestId('bar-source-mysql').click();
  await page.getByTestId('input-barSource.url').fill('mysql://root@127.0.0.1:3306');
  await page.getByTestId('settings-save').click();
  const urlError = page.getByTestId('error-barSource.url');
  await expect(urlError).toContainText('the database name is missing');
  await expect(page.getByTestId('input-barSource.url')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('settings-save-error')).toContainText('correct the fields marked below');
  // Not a MySQL URL at all: the shared schema says so before anything is sent.
  await page.getByTestId('input-barSource.url').fill('postgres://root@127.0.0.1/vnpy');
  await page.getByTestId('settings-save').click();
  await expect(urlError).toHaveText('a MySQL URL starts with mysql://');
  // A variant with a 7-minute window: the message next to that cell.
  await page.getByTestId('add-variant').click();
  await page.getByTestId('input-variants.0.windowMinutes').fill('7');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('error-variants.0.windowMinutes')).toContainText('windowMinutes must divide 60');
  // The metrics port, off by default: a port beyond 65535 is named next to the field.
  await expect(page.getByTestId('settings-metrics')).toBeVisible();
  await expect(page.getByTestId('input-metrics.port')).toHaveValue('');
  await expect(page.getByTestId('input-metrics.host')).toHaveValue('127.0.0.1');
  await page.getByTestId('input-metrics.port').fill('70000');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('error-metrics.port')).toHaveText('the metrics port is at most 65535');
  await expect(page.getByTestId('input-metrics.port')).toHaveAttribute('aria-invalid', 'true');
  // A bind address beyond loopback: refused until its checkbox confirms it.
  await page.getByTestId('input-metrics.port').fill('9464');
  await page.getByTestId('input-metrics.host').fill('0.0.0.0');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('error-metrics.host')).toContainText('to confirm, set metrics.allowNonLoopback (Settings: "Serve beyond this machine")');
  await expect(page.getByTestId('input-metrics.allowNonLoopback')).not.toBeChecked();
  await page.getByTestId('input-metrics.port').fill('70000');
  await page.getByTestId('input-metrics.host').fill('127.0.0.1');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('error-metrics.port')).toHaveText('the metrics port is at most 65535');
  await screenshot(page, 'settings');
  // Nothing of it was saved.
  const unchanged = await host.api<SettingsView>('/api/settings');
  expect(unchanged.body.settings.barSource).toEqual({ kind: 'sqlite', path: null });
  expect(unchanged.body.settings.variants).toEqual([]);
  expect(unchanged.body.settings.metrics).toEqual({ port: null, host: '127.0.0.1', allowNonLoopback: false, capital: 1_000_000 });

  // Discard, change the demo speed, save: saved, and the screen says what waits for a restart.
  await page.getByTestId('settings-discard').click();
  await expect(page.getByTestId('bar-source-sqlite')).toHaveAttribute('aria-checked', 'true');
  await page.getByTestId('input-demo.speed').fill('120');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('settings-saved')).toBeVisible();
  await expect(page.getByTestId('settings-restart-needed')).toHaveText('restart needed for: demo');
  const saved = await host.api<SettingsView>('/api/settings');
  expect(saved.body.settings.demo.speed).toBe(120);
  expect(saved.body.restartNeeded).toEqual(['demo']);
  // A metrics port saved: the address it will serve, and a restart waits for it too.
  await page.getByTestId('input-metrics.port').fill('9464');
  await expect(page.getByTestId('settings-metrics-url')).toContainText('http://127.0.0.1:9464/metrics');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('settings-restart-needed')).toHaveText('restart needed for: demo, metrics');
  await expect(page.getByTestId('settings-metrics-running')).toContainText('Running now: off');
  await screenshot(page, 'settings-metrics');
  expect(errors).toEqual([]);
});

test('settings: alert channels — a bad webhook URL named next to its field, then saved with a hidden bot token', async ({ page, controlHost: host }) => {
  const errors = watchErrors(page);
  await page.goto(host.url);
  await page.getByTestId('nav-settings').click();
  const card = page.getByTestId('settings-alerts');
  await expect(card).toBeVisible();
  await expect(page.getByTestId('input-alerts.quietSeconds')).toHaveValue('60');
  await expect(page.getByTestId('input-alerts.webhook.enabled')).not.toBeChecked();
  await page.getByTestId('input-alerts.webhook.enabled').check();
  await page.getByTestId('input-alerts.webhook.url').fill('hooks.example.com/kestrel');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('error-alerts.webhook.url')).toHaveText('the webhook is an http:// or https:// URL, e.g. https://hooks.example.com/kestrel');
  await expect(page.getByTestId('input-alerts.webhook.url')).toHaveAttribute('aria-invalid', 'true');
  await page.getByTestId('input-alerts.webhook.url').fill('https://hooks.example.com/kestrel');
  // A host beyond this machine: the message names the checkbox that confirms it.
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('error-alerts.webhook.url')).toContainText('to confirm, set alerts.webhook.allowNonLoopback (Settings: "Post beyond this machine")');
  await page.getByTestId('input-alerts.webhook.allowNonLoopback').check();
  await page.getByTestId('input-alerts.telegram.enabled').check();
  await page.getByTestId('input-alerts.telegram.botToken').fill('123456:secret-token');
  await page.getByTestId('input-alerts.telegram.chatId').fill('-100123');
  await page.getByTestId('input-alerts.telegram.minLevel').selectOption('CRITICAL');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('settings-saved')).toBeVisible();
  await expect(page.getByTestId('settings-restart-needed')).toContainText('alert channels');
  // The token comes back hidden, in the field and in the API.
  await expect(page.getByTestId('input-alerts.telegram.botToken')).toHaveValue('***');
  const saved = await host.api<SettingsView>('/api/settings');
  expect(saved.body.settings.alerts.webhook).toEqual({ url: 'https://hooks.example.com/kestrel', minLevel: 'WARNING', enabled: true, allowNonLoopback: true });
  expect(saved.body.settings.alerts.telegram).toMatchObject({ botToken: '***', chatId: '-100123', minLevel: 'CRITICAL', enabled: true });
  await card.scrollIntoViewIfNeeded();
  await screenshot(page, 'settings-alerts');
  expect(errors).toEqual([]);
});
