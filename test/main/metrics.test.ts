import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { TradingJournal } from '../../src/io/tradingJournal.js';
import type { JournalTrade } from '../../src/shared/trade.js';
import { serveCommand } from '../../src/main/cli/serve.js';
import type { CallContext } from '../../src/shared/api.js';
import { parseDatetime } from '../../src/shared/time.js';
import { PROJECT_ROOT, runCommand } from '../cli/cliHarness.js';
import { freshDir, waitFor } from '../helpers.js';
import { find, one, parseExposition, type Sample } from './exposition.js';
import { startHarness, type Harness } from './workstationHarness.js';

/** GET /metrics through the real stack: Workstation + real worker processes + the exporter's own HTTP server. */

const CONTROL: CallContext = { origin: 'rest', controlAllowed: true };

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function harness(prefix: string, settings: Parameters<typeof startHarness>[0]['settings']): Promise<Harness> {
  const tmp = freshDir(prefix);
  cleanups.push(tmp.remove);
  const h = await startHarness({ dataDir: tmp.dir, controlEnabled: true, settings });
  let stopped: Promise<void> | null = null;
  const stopOnce = (): Promise<void> => (stopped ??= h.stop());
  cleanups.push(stopOnce);
  return { ...h, stop: stopOnce };
}

async function scrape(h: Harness): Promise<{ samples: Sample[]; types: Map<string, string>; text: string; contentType: string | null }> {
  const address = h.workstation.metricsAddress();
  if (!address) throw new Error('no metrics endpoint');
  const res = await fetch(address.url);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { ...parseExposition(text), text, contentType: res.headers.get('content-type') };
}

/** Fills per variant, counted with plain SQL on the file the workers write. */
function journalCounts(dataDir: string): Map<string, number> {
  const db = new Database(join(dataDir, 'kestrel.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT variant, COUNT(*) AS n FROM trades GROUP BY variant').all() as { variant: string; n: number }[];
    return new Map(rows.map((r) => [r.variant, r.n]));
  } finally {
    db.close();
  }
}

const unacknowledged = (h: Harness, level: string): number => h.workstation.alerts.list().filter((a) => a.level === level && !a.acknowledged).length;

describe('metrics endpoint on the running workstation', () => {
  it('reports status, restarts, the kill switch, alerts and trades as they change', async () => {
    const h = await harness('metrics', {
      demo: { enabled: true, speed: 600, seed: 11 },
      supervisor: { backoffInitialMs: 200, backoffMaxMs: 2_000, maxCrashes: 5, crashWindowMs: 60_000 },
      metrics: { port: 0 },
    });
    const ws = h.workstation;
    const address = ws.metricsAddress();
    expect(address).not.toBeNull();
    expect(address!.host).toBe('127.0.0.1');
    expect(address!.port).toBeGreaterThan(0);
    expect(address!.url).toBe(`http://127.0.0.1:${address!.port}/metrics`);

    const demo = ['demo-15m', 'demo-30m', 'demo-i-15m'];
    await waitFor('every demo variant running', () => demo.every((v) => ws.summaryOf(v).status === 'running'), 45_000);

    const tradesBefore = journalCounts(ws.dataDir);
    const first = await scrape(h);
    const tradesAfter = journalCounts(ws.dataDir);
    expect(first.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(first.types.get('kestrel_variant_up')).toBe('gauge');
    expect(first.types.get('kestrel_variant_restarts_total')).toBe('counter');
    expect(first.types.get('kestrel_trades_total')).toBe('counter');
    // The process metrics ride along.
    expect(find(first.samples, 'process_cpu_user_seconds_total', { process: 'main' })).toHaveLength(1);
    expect(find(first.samples, 'nodejs_heap_size_used_bytes', { process: 'main' })).toHaveLength(1);

    // The configured symbol and window of each demo variant (defaultVariants.ts), and up = 1.
    expect(one(first.samples, 'kestrel_variant_up', { variant: 'demo-15m' })).toBe(1);
    expect(find(first.samples, 'kestrel_variant_up', { variant: 'demo-15m', vt_symbol: 'rb9999.SIM', window: '15m' })).toHaveLength(1);
    expect(find(first.samples, 'kestrel_variant_up', { variant: 'demo-30m', vt_symbol: 'rb9999.SIM', window: '30m' })).toHaveLength(1);
    expect(find(first.samples, 'kestrel_variant_up', { variant: 'demo-i-15m', vt_symbol: 'i9999.SIM', window: '15m' })).toHaveLength(1);
    expect(first.text).toMatch(/^kestrel_variant_up\{[^}]*variant="demo-15m"[^}]*\} 1$/m);
    for (const variant of demo) {
      const statuses = find(first.samples, 'kestrel_variant_status', { variant });
      expect(statuses.map((s) => s.labels['status']).sort()).toEqual(['crashed', 'degraded', 'halted', 'restoring', 'running', 'stale', 'starting', 'stopped']);
      expect(statuses.filter((s) => s.value === 1).map((s) => s.labels['status'])).toEqual(['running']);
      expect(one(first.samples, 'kestrel_variant_restarts_total', { variant })).toBe(0);
      expect(one(first.samples, 'kestrel_variant_halted', { variant })).toBe(0);
      // Workers rewrite their snapshot on every bar (a bar each 0.1 s at 600×) and every 5 s heartbeat.
      const age = one(first.samples, 'kestrel_variant_snapshot_age_seconds', { variant });
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThan(30);
      // The journal, counted with SQL before and after the scrape, brackets the exported count.
      const trades = one(first.samples, 'kestrel_trades_total', { variant });
      expect(trades).toBeGreaterThanOrEqual(tradesBefore.get(variant) ?? 0);
      expect(trades).toBeLessThanOrEqual(tradesAfter.get(variant) ?? 0);
    }
    expect(find(first.samples, 'kestrel_alerts_open').map((s) => s.labels['level']).sort()).toEqual(['CRITICAL', 'ERROR', 'INFO', 'WARNING']);
    const minutesFirst = one(first.samples, 'kestrel_demo_simulated_seconds_total');
    expect(minutesFirst).toBeGreaterThan(0);

    // Other paths and methods.
    expect((await fetch(address!.url.replace('/metrics', '/'))).status).toBe(404);
    expect((await fetch(`${address!.url}x`)).status).toBe(404);
    expect((await fetch(address!.url, { method: 'POST' })).status).toBe(405);

    // A worker killed with SIGKILL: restarted by the supervisor, counted, and a WARNING raised.
    const warningsBefore = one(first.samples, 'kestrel_alerts_open', { level: 'WARNING' });
    const oldPid = ws.summaryOf('demo-15m').pid;
    expect(oldPid).not.toBeNull();
    process.kill(oldPid!, 'SIGKILL');
    await waitFor('demo-15m restarted', () => {
      const s = ws.summaryOf('demo-15m');
      return s.status === 'running' && s.pid !== null && s.pid !== oldPid;
    }, 30_000);
    const afterKill = await scrape(h);
    expect(one(afterKill.samples, 'kestrel_variant_restarts_total', { variant: 'demo-15m' })).toBe(1);
    expect(one(afterKill.samples, 'kestrel_variant_restarts_total', { variant: 'demo-30m' })).toBe(0);
    const crash = ws.alerts.list().find((a) => a.variant === 'demo-15m' && a.level === 'WARNING' && /SIGKILL/.test(a.message));
    expect(crash).toBeDefined();
    const warnings = one(afterKill.samples, 'kestrel_alerts_open', { level: 'WARNING' });
    expect(warnings).toBe(unacknowledged(h, 'WARNING'));
    expect(warnings).toBeGreaterThanOrEqual(warningsBefore + 1);
    // Acknowledged, it is no longer counted.
    await ws.handlers.acknowledgeAlert({ id: crash!.id }, CONTROL);
    const acknowledged = await scrape(h);
    expect(one(acknowledged.samples, 'kestrel_alerts_open', { level: 'WARNING' })).toBe(unacknowledged(h, 'WARNING'));
    expect(unacknowledged(h, 'WARNING')).toBe(warnings - 1);

    // The kill switch on demo-15m: halted at once; its status (and so up) follows the worker's word.
    await ws.handlers.setTradingHalted({ variant: 'demo-15m', halted: true }, CONTROL);
    const halted = await scrape(h);
    expect(one(halted.samples, 'kestrel_variant_halted', { variant: 'demo-15m' })).toBe(1);
    expect(one(halted.samples, 'kestrel_variant_halted', { variant: 'demo-30m' })).toBe(0);
    const settled = await waitFor('demo-15m reported halted', async () => {
      const s = await scrape(h);
      return one(s.samples, 'kestrel_variant_status', { variant: 'demo-15m', status: 'halted' }) === 1 ? s : undefined;
    }, 20_000, 200);
    expect(one(settled.samples, 'kestrel_variant_up', { variant: 'demo-15m' })).toBe(0);
    expect(one(settled.samples, 'kestrel_variant_up', { variant: 'demo-30m' })).toBe(1);
    // The demo went on meanwhile.
    expect(one(settled.samples, 'kestrel_demo_simulated_seconds_total')).toBeGreaterThan(minutesFirst);

    // Stopped: the port is released.
    await h.stop();
    expect(ws.metricsAddress()).toBeNull();
    await expect(fetch(address!.url)).rejects.toThrow();
  });
});

function trade(variant: string, n: number): JournalTrade {
  return {
    id: `${variant}-${n}`,
    variant,
    vtSymbol: 'rb2505.SHFE',
    side: n % 2 === 0 ? 'buy' : 'sell',
    offset: n % 2 === 0 ? 'open' : 'close',
    price: 3500 + n,
    volume: 1,
    time: (parseDatetime('2025-03-03 09:00:00') ?? 0) + 60 * n,
    commission: 1.5,
    pnl: n % 2 === 0 ? null : 10,
    tradingDay: '2025-03-03',
  };
}

describe('metrics endpoint: settings and isolation', () => {
  it('keeps workstations in one process apart, and serves nothing when the port is null', async () => {
    const alpha = await harness('metrics-a', {
      demo: { enabled: false },
      variants: [{ name: 'alpha-15m', vtSymbol: 'rb2505.SHFE', windowMinutes: 15, enabled: false }],
      metrics: { port: 0 },
    });
    const beta = await harness('metrics-b', {
      demo: { enabled: false },
      variants: [{ name: 'beta-5m', vtSymbol: 'i2509.DCE', windowMinutes: 5, enabled: false }],
      metrics: { port: 0 },
    });
    const off = await harness('metrics-off', { demo: { enabled: false }, variants: [{ name: 'gamma-15m', vtSymbol: 'rb2505.SHFE', windowMinutes: 15, enabled: false }] });
    expect(off.workstation.metricsAddress()).toBeNull();
    expect(off.alerts.filter((a) => a.title === 'Metrics not served')).toEqual([]);

    // Three fills of alpha-15m and two of a variant no longer configured, journalled as workers do.
    const journal = TradingJournal.open(join(alpha.workstation.dataDir, 'kestrel.db'));
    journal.commit('alpha-15m', { version: 2, state: {}, trades: [0, 1, 2].map((n) => trade('alpha-15m', n)), savedAt: new Date().toISOString() });
    journal.commit('retired-30m', { version: 2, state: {}, trades: [0, 1].map((n) => trade('retired-30m', n)), savedAt: new Date().toISOString() });
    journal.close();

    const a = await scrape(alpha);
    const b = await scrape(beta);
    expect(alpha.workstation.metricsAddress()!.port).not.toBe(beta.workstation.metricsAddress()!.port);
    expect(find(a.samples, 'kestrel_variant_up').map((s) => s.labels)).toEqual([{ variant: 'alpha-15m', vt_symbol: 'rb2505.SHFE', window: '15m' }]);
    expect(find(b.samples, 'kestrel_variant_up').map((s) => s.labels)).toEqual([{ variant: 'beta-5m', vt_symbol: 'i2509.DCE', window: '5m' }]);
    expect(one(a.samples, 'kestrel_variant_up', { variant: 'alpha-15m' })).toBe(0);
    expect(one(a.samples, 'kestrel_variant_status', { variant: 'alpha-15m', status: 'stopped' })).toBe(1);
    // Before any snapshot there is no age to tell.
    expect(find(a.samples, 'kestrel_variant_snapshot_age_seconds')).toEqual([]);
    expect(one(a.samples, 'kestrel_trades_total', { variant: 'alpha-15m' })).toBe(3);
    expect(one(a.samples, 'kestrel_trades_total', { variant: 'retired-30m' })).toBe(2);
    expect(find(b.samples, 'kestrel_trades_total').map((s) => [s.labels['variant'], s.value])).toEqual([['beta-5m', 0]]);
    // No demo, no demo series.
    expect(find(a.samples, 'kestrel_demo_simulated_seconds_total')).toEqual([]);
    // Process metrics in both, once each.
    expect(find(a.samples, 'process_start_time_seconds', { process: 'main' })).toHaveLength(1);
    expect(find(b.samples, 'process_start_time_seconds', { process: 'main' })).toHaveLength(1);

    // A saved metrics change waits for a restart, like the other sections.
    const view = await off.workstation.handlers.getSettings({}, CONTROL);
    const saved = await off.workstation.handlers.updateSettings({ settings: { ...view.settings, metrics: { port: 9464, host: '127.0.0.1' } } }, CONTROL);
    expect(saved.restartNeeded).toEqual(['metrics']);
    expect(saved.changed).toEqual(['metrics']);
    expect(off.workstation.metricsAddress()).toBeNull();
    await expect(off.workstation.handlers.updateSettings({ settings: { ...view.settings, metrics: { port: 70_000, host: '' } } }, CONTROL)).rejects.toMatchObject({
      status: 400,
      fields: [
        { path: 'metrics.port', message: 'the metrics port is at most 65535' },
        { path: 'metrics.host', message: 'the metrics host is an address to bind, e.g. 127.0.0.1' },
      ],
    });
    // An address beyond loopback needs its confirmation; the message names it.
    await expect(off.workstation.handlers.updateSettings({ settings: { ...view.settings, metrics: { port: 9464, host: '0.0.0.0' } } }, CONTROL)).rejects.toMatchObject({
      status: 400,
      fields: [
        {
          path: 'metrics.host',
          message:
            'the metrics host 0.0.0.0 is not loopback: GET /metrics (no token) would be open to the network; to confirm, set metrics.allowNonLoopback (Settings: "Serve beyond this machine")',
        },
      ],
    });
    const confirmed = await off.workstation.handlers.updateSettings({ settings: { ...view.settings, metrics: { port: 9464, host: '0.0.0.0', allowNonLoopback: true } } }, CONTROL);
    expect(confirmed.settings.metrics).toEqual({ port: 9464, host: '0.0.0.0', allowNonLoopback: true, capital: 1_000_000 });
  });

  it('a port already taken costs the metrics, with a WARNING, not the start', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const port = (taken.address() as { port: number }).port;
    const h = await harness('metrics-taken', {
      demo: { enabled: false },
      variants: [{ name: 'alpha-15m', vtSymbol: 'rb2505.SHFE', windowMinutes: 15, enabled: false }],
      metrics: { port },
    });
    expect(h.workstation.metricsAddress()).toBeNull();
    const alert = h.alerts.find((a) => a.title === 'Metrics not served');
    expect(alert?.level).toBe('WARNING');
    expect(alert?.message).toContain(`127.0.0.1:${port}`);
    expect(alert?.message).toMatch(/EADDRINUSE/);
    expect((await h.workstation.handlers.listVariants({}, CONTROL)).map((v) => v.variant)).toEqual(['alpha-15m']);
  });
});

describe('metrics beyond loopback at start', () => {
  it('settings that got past the schema with 0.0.0.0 and no confirmation: not bound, one WARNING naming the setting', async () => {
    const tmp = freshDir('metrics-far');
    cleanups.push(tmp.remove);
    const h = await startHarness({
      dataDir: tmp.dir,
      controlEnabled: true,
      settings: { demo: { enabled: false } },
      pastSchema: (s) => ({ ...s, metrics: { ...s.metrics, port: 0, host: '0.0.0.0', allowNonLoopback: false } }),
    });
    cleanups.push(() => h.stop());
    expect(h.workstation.metricsAddress()).toBeNull();
    const refused = h.alerts.filter((a) => a.title === 'Metrics not served');
    expect(refused).toHaveLength(1);
    expect(refused[0]!.level).toBe('WARNING');
    expect(refused[0]!.message).toBe(
      'GET /metrics not served: the metrics host 0.0.0.0 is not loopback: GET /metrics (no token) would be open to the network; to confirm, set metrics.allowNonLoopback (Settings: "Serve beyond this machine")',
    );
  });
});

describe('kestrel serve --metrics-port', () => {
  it('rejects a value that is not a port', async () => {
    const tmp = freshDir('metrics-flag');
    cleanups.push(tmp.remove);
    for (const bad of ['x', '-1', '70000', '1.5']) {
      await expect(runCommand(serveCommand, ['--data-dir', tmp.dir, '--no-demo', `--metrics-port=${bad}`])).rejects.toThrow(`--metrics-port: "${bad}" is not a port number`);
    }
  });

  it('overrides the settings for one run and prints the URL after the listening line', async () => {
    const tmp = freshDir('metrics-serve');
    cleanups.push(tmp.remove);
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/main/cli/main.ts'), 'serve', '--data-dir', tmp.dir, '--port', '0', '--no-demo', '--metrics-port', '0'], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const url = await waitFor('the metrics line', () => /^Metrics on (\S+)$/m.exec(out)?.[1], 60_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\nstdout: ${out}\nstderr: ${err}`);
    });
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^Kestrel listening on http:\/\/127\.0\.0\.1:\d+\//);
    expect(lines[1]).toMatch(/^Metrics on http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(parseExposition(await res.text()).samples.some((s) => s.name === 'kestrel_alerts_open')).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
