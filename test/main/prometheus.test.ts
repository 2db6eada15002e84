import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../cli/cliHarness.js';
import { freshDir, waitFor } from '../helpers.js';
import { startHarness, type Harness } from './workstationHarness.js';
import { backtestJobSchema } from '../../src/shared/backtest.js';
import { RISK_REFUSAL_REASONS } from '../../src/shared/risk.js';

/**
 * The shipped monitoring files against a real Prometheus (Debian's `prometheus` package, which
 * .ci/run installs): it scrapes a demo run, answers every dashboard panel's PromQL and every
 * rule's expression, and fires KestrelWorkerDown when a worker is SIGKILLed with restarts off.
 */

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const MONITORING = join(PROJECT_ROOT, 'resources', 'monitoring');
const installed = existsSync(PROMETHEUS) && existsSync(PROMTOOL);
if (!installed) console.warn(`prometheus.test.ts skipped: ${PROMETHEUS} and ${PROMTOOL} are not installed (apt-get install prometheus; .ci/run does)`);

interface Panel {
  title: string;
  expr: string;
}

function dashboardPanels(): Panel[] {
  const dashboard = JSON.parse(readFileSync(join(MONITORING, 'kestrel-dashboard.json'), 'utf8')) as {
    panels: { type: string; title: string; targets?: { expr: string }[] }[];
  };
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
}

/** Every `expr:` of the rule file (each on one line) with its alert name. */
function ruleExpressions(text: string): { alert: string; expr: string }[] {
  const rules: { alert: string; expr: string }[] = [];
  let alert = '';
  for (const line of text.split('\n')) {
    const a = /^\s*- alert: (\S+)/.exec(line);
    if (a) alert = a[1]!;
    const e = /^\s*expr: (.+)$/.exec(line);
    if (e) rules.push({ alert, expr: e[1]! });
  }
  return rules;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, args, { input, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

interface QueryAnswer {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string> }[] };
}

describe.skipIf(!installed)('monitoring files against a real Prometheus', () => {
  let harness: Harness;
  let prometheus: ChildProcess;
  let promUrl = '';
  let promLog = '';
  const cleanups: (() => void | Promise<void>)[] = [];

  const query = async (expr: string): Promise<QueryAnswer> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await res.json()) as QueryAnswer;
  };

  beforeAll(async () => {
    const tmp = freshDir('prometheus');
    cleanups.push(tmp.remove);
    harness = await startHarness({
      dataDir: join(tmp.dir, 'kestrel'),
      controlEnabled: true,
      settings: {
        demo: { enabled: true, speed: 600, seed: 5 },
        variants: [
          { name: 'demo-15m', vtSymbol: 'rb9999.SIM', windowMinutes: 15, pollMs: 250 },
          { name: 'demo-30m', vtSymbol: 'rb9999.SIM', windowMinutes: 30, pollMs: 250 },
        ],
        // Restarts off: the first crash leaves the worker down.
        supervisor: { maxCrashes: 1 },
        metrics: { port: 0 },
        // An allocation group, so that the allocator's panels have a group to show.
        // Two allocation groups: one for the allocator's panels, one that the rules' scenario fills past 90 %.
        allocation: {
          groups: [
            { name: 'demo-pot', totalFunds: 1_000_000, symbols: [{ symbol: 'rb9999.SIM' }, { symbol: 'i9999.SIM' }] },
            { name: 'demo-full', totalFunds: 10_000, globalMaxUsage: 0.8, symbols: [{ symbol: 'm9999.SIM', maxUsagePct: 1 }] },
          ],
        },
      },
    });
    cleanups.push(() => harness.stop());
    const exporter = harness.workstation.metricsAddress();
    if (!exporter) throw new Error('the exporter is not serving');
    await waitFor('both demo variants running', () => ['demo-15m', 'demo-30m'].every((v) => harness.workstation.summaryOf(v).status === 'running'), 60_000);
    // A backtest over the demo's bars, so that the backtest panels show a real job.
    const ctx = { origin: 'rest', controlAllowed: true } as const;
    const api = harness.workstation.handlers;
    const job = backtestJobSchema.parse({ strategy: 'macd-td', symbols: ['rb9999.SIM'], from: '2000-01-01', to: '2100-12-31', windowMinutes: 15 });
    const { id } = await api.startBacktest(job, ctx);
    await waitFor('the backtest completed', async () => (await api.getBacktest({ id }, ctx)).status === 'completed', 120_000, 200);

    // A test copy of the shipped rules with a short `for:`, and a config scraping this run each second.
    const dir = join(tmp.dir, 'prometheus');
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'kestrel.rules.yml'), readFileSync(join(MONITORING, 'kestrel.rules.yml'), 'utf8').replace(/^(\s*for: )\S+$/gm, '$11s'));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 2s',
        '  scrape_timeout: 2s',
        '  evaluation_interval: 1s',
        'rule_files:',
        '  - kestrel.rules.yml',
        'scrape_configs:',
        '  - job_name: kestrel',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${exporter.port}']`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    prometheus.stderr?.on('data', (d: Buffer) => (promLog = (promLog + d.toString()).slice(-4000)));
    const exited = new Promise<void>((resolve) => prometheus.once('exit', () => resolve()));
    cleanups.push(async () => {
      if (prometheus.exitCode === null) prometheus.kill('SIGTERM');
      await exited;
    });
    await waitFor('Prometheus ready', async () => (await fetch(`${promUrl}/-/ready`).catch(() => null))?.ok === true, 60_000, 200).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${promLog}`);
    });
    // Enough scrapes for rate() over the panels' windows, and the workers' first heartbeats.
    await waitFor(
      'ten scrapes of the worker series',
      async () => {
        const a = await query('min(count_over_time(kestrel_bar_latency_seconds_count[1m])) >= 10');
        return (a.data?.result.length ?? 0) > 0;
      },
      90_000,
      500,
    );
  }, 240_000);

  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('promtool accepts the shipped rules and config, and a live scrape of the demo run', { timeout: 60_000 }, async () => {
    const rules = promtool(['check', 'rules', join(MONITORING, 'kestrel.rules.yml')]);
    expect(rules.output).toMatch(/SUCCESS: 6 rules found/);
    expect(rules.status).toBe(0);
    const config = promtool(['check', 'config', join(MONITORING, 'prometheus.yml')]);
    expect(config.status, config.output).toBe(0);
    const text = await (await fetch(harness.workstation.metricsAddress()!.url)).text();
    const metrics = promtool(['check', 'metrics'], text);
    expect(metrics.status, metrics.output).toBe(0);
    expect(metrics.output.trim()).toBe('');
    // The workers' own series are in it, labelled with their variant.
    expect(text).toMatch(/^process_resident_memory_bytes\{process="worker",variant="demo-15m"\} \d+/m);
    expect(text).toMatch(/^process_resident_memory_bytes\{process="main"\} \d+/m);
    expect(text).toMatch(/^kestrel_bar_latency_seconds_count\{variant="demo-30m"\} [1-9]/m);
  });

  it('every dashboard panel parses and returns series', { timeout: 300_000 }, async () => {
    const panels = dashboardPanels();
    expect(panels.length).toBeGreaterThanOrEqual(25);
    for (const panel of panels) {
      const expr = panel.expr.replaceAll('$variant', '.*');
      let answer = await query(expr);
      expect({ panel: panel.title, expr, status: answer.status, error: answer.error }).toEqual({ panel: panel.title, expr, status: 'success', error: undefined });
      // A scrape that failed on this busy machine leaves its series stale until the next one: poll.
      answer = await waitFor(`series for "${panel.title}"`, async () => {
        const a = await query(expr);
        return (a.data?.result.length ?? 0) > 0 ? a : undefined;
      }, 30_000, 500).catch(() => answer);
      expect({ panel: panel.title, expr, series: (answer.data?.result.length ?? 0) > 0 }).toEqual({ panel: panel.title, expr, series: true });
    }
    // The pushed series carry what happened: the demo's refusal reasons per variant, the group, the backtest.
    const values = async (expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> =>
      ((await query(expr)).data?.result ?? []) as unknown as { metric: Record<string, string>; value: [number, string] }[];
    expect((await values('count by (variant) (kestrel_risk_refused_total)')).map((r) => [r.metric['variant'], r.value[1]]).sort()).toEqual([
      ['demo-15m', String(RISK_REFUSAL_REASONS.length)],
      ['demo-30m', String(RISK_REFUSAL_REASONS.length)],
    ]);
    expect((await values('kestrel_allocator_usage_ratio{group="demo-pot"}')).map((r) => r.metric['symbol']).sort()).toEqual(['*', 'i9999.SIM', 'rb9999.SIM']);
    expect(Number((await values('kestrel_backtest_jobs{state="completed"}'))[0]?.value[1])).toBe(1);
    expect(Number((await values('kestrel_backtest_bars_per_second{kind="backtest"}'))[0]?.value[1])).toBeGreaterThan(0);
  });

  it('every rule expression parses; KestrelAllocatorHigh fires for a group past 90 %, KestrelWorkerDown for a SIGKILLed worker', { timeout: 180_000 }, async () => {
    const rules = ruleExpressions(readFileSync(join(MONITORING, 'kestrel.rules.yml'), 'utf8'));
    expect(rules.map((r) => r.alert).sort()).toEqual(['KestrelAllocatorHigh', 'KestrelDrawdownHigh', 'KestrelFeedStalled', 'KestrelRestartsRising', 'KestrelSnapshotStale', 'KestrelWorkerDown']);
    for (const rule of rules) expect({ rule: rule.alert, status: (await query(rule.expr)).status }).toEqual({ rule: rule.alert, status: 'success' });

    const alertsNamed = async (name: string): Promise<{ labels: Record<string, string>; state: string }[]> => {
      const res = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
      return res.data.alerts.filter((a) => a.labels['alertname'] === name);
    };
    const firing = (): Promise<{ labels: Record<string, string>; state: string }[]> => alertsNamed('KestrelWorkerDown');
    expect(await firing()).toEqual([]);

    // The allocator past 90 %: a buy of 95 % of the group's usable funds, granted by its real authority
    // (through the entry the supervisor routes a worker's request to), fires KestrelAllocatorHigh for that group only.
    expect(await alertsNamed('KestrelAllocatorHigh')).toEqual([]);
    const decisions: unknown[] = [];
    harness.workstation.allocation.handleWorkerMessage('demo-15m', { type: 'allocationRequest', requestId: 'r1', group: 'demo-full', symbol: 'm9999.SIM', amount: 7_600 }, (m) => decisions.push(m));
    expect(decisions).toEqual([{ type: 'allocationDecision', requestId: 'r1', granted: true, reason: null }]);
    const high = await waitFor('KestrelAllocatorHigh firing', async () => {
      const a = await alertsNamed('KestrelAllocatorHigh');
      return a.some((x) => x.state === 'firing') ? a : undefined;
    }, 60_000, 250);
    expect(high.map((a) => [a.labels['group'], a.state])).toEqual([['demo-full', 'firing']]);
    const pid = harness.workstation.summaryOf('demo-15m').pid;
    expect(pid).not.toBeNull();
    process.kill(pid!, 'SIGKILL');
    await waitFor('demo-15m crashed', () => harness.workstation.summaryOf('demo-15m').status === 'crashed', 30_000);
    const alerts = await waitFor('KestrelWorkerDown firing', async () => {
      const a = await firing();
      return a.some((x) => x.state === 'firing') ? a : undefined;
    }, 60_000, 250);
    expect(alerts.map((a) => [a.labels['variant'], a.state])).toEqual([['demo-15m', 'firing']]);
    expect(alerts[0]!.labels['severity']).toBe('critical');
  });
});
