/**
 * What the metrics cost. (1) A whole worker's live path with metrics on against off, in the same
 * run: 1-minute bars written to a real SQLite store one minute at a time, read by a real
 * VariantRunner (MACD-TD, every instrument of the demo market), processed, the state and fills
 * committed to the journal and the snapshot written — with the worker's metrics (bar latency per
 * bar; on each heartbeat the refusal deltas and its series collected and encoded for IPC) against
 * the same worker without them. The heartbeat is run every 250 bars in both, twenty times more
 * often than a live worker's 5 s, so the figure is an upper bound. (2) The exporter's idle memory:
 * heap and resident set added by a listening exporter and a few scrapes. (3) One scrape of a
 * fleet-sized exposition (pulled series, the fleet series and their workers' families), beside
 * prom-client's own Registry rendering the same number of series, measured in the same run.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { SimulatedMarket } from '../src/core/market/simulatedMarket.js';
import { JsonLinesLog } from '../src/io/jsonLinesLog.js';
import { SqliteBarStore } from '../src/io/sqliteBarStore.js';
import { TradingJournal } from '../src/io/tradingJournal.js';
import type { StoredBar } from '../src/shared/bar.js';
import { parseDatetime } from '../src/shared/time.js';
import { workerLaunchSchema } from '../src/shared/workerProtocol.js';
import { VariantRunner } from '../src/worker/variantRunner.js';
import type { VariantSummary } from '../src/shared/api.js';
import type { MetricFamily } from '../src/shared/workerProtocol.js';
import { MetricsExporter, type WorkerReading } from '../src/main/workstation/metricsExporter.js';
import { WorkerMetrics } from '../src/worker/workerMetrics.js';
import { bestOfAsync, type BenchFigure } from './figure.js';

/** History the variant restores from (enough window bars to trade), and the live minutes timed. */
const HISTORY_MINUTES = 2_000;
const LIVE_MINUTES = Number(process.env.KESTREL_BENCH_LIVE_MINUTES ?? 3_000);
const HEARTBEAT_EVERY_BARS = 250;

/** Every minute of the demo market (all its instruments) from a fixed start, in minutes. */
function tape(minutes: number): StoredBar[][] {
  const market = new SimulatedMarket({ seed: 7, startTime: parseDatetime('2025-01-06 09:00:00') ?? 0 });
  return Array.from({ length: minutes }, () => market.nextMinute());
}

/**
 * One worker's live path on a fresh data directory: history written and restored (not timed),
 * then each live minute written to the store and followed. Resolves the wall-clock and CPU
 * seconds (this process: user + system) the live part took.
 */
async function workerLivePath(root: string, run: string, minutes: StoredBar[][], metricsOn: boolean): Promise<{ wall: number; cpu: number }> {
  const dataDir = join(root, run);
  mkdirSync(dataDir, { recursive: true });
  const dbPath = join(dataDir, 'kestrel.db');
  const writer = SqliteBarStore.open(dbPath);
  const reader = SqliteBarStore.open(dbPath);
  const journal = TradingJournal.open(dbPath);
  const log = new JsonLinesLog(join(dataDir, 'logs', 'bench-15m', 'strategy.log'), 'bench-15m');
  const metrics = metricsOn ? new WorkerMetrics() : null;
  const vtSymbols = [...new Set(minutes[0]!.map((b) => `${b.symbol}.${b.exchange}`))];
  const runner = new VariantRunner(
    workerLaunchSchema.parse({
      variant: { name: 'bench-15m', vtSymbol: vtSymbols[0], universe: vtSymbols.slice(1), windowMinutes: 15, params: { stopLoss: { unit: 'ticks', value: 30 }, takeProfit: { unit: 'ticks', value: 60 }, maxDailyOpenPerProduct: 5 } },
      dataDir,
      barSource: { kind: 'sqlite', path: dbPath },
      sourceLabel: 'sqlite',
    }),
    { store: reader, journal, log, ...(metrics ? { onBarProcessed: (s: number) => metrics.barProcessed(s) } : {}) },
  );
  try {
    writer.writeSync(minutes.slice(0, HISTORY_MINUTES).flat());
    await runner.restore();
    // What worker/main.ts does on a heartbeat, metrics part included when on (the IPC message encoded as the channel would).
    const heartbeat = async (): Promise<void> => {
      runner.heartbeat();
      if (!metrics) return;
      metrics.feed(runner.feedStalled);
      const refusals = metrics.refusalDeltas(runner.refusalCounts());
      JSON.stringify({ type: 'metrics', families: await metrics.families(), refusals });
    };
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    for (let i = HISTORY_MINUTES; i < minutes.length; i++) {
      writer.writeSync(minutes[i]!);
      await runner.follow();
      if ((i - HISTORY_MINUTES + 1) % HEARTBEAT_EVERY_BARS === 0) await heartbeat();
    }
    const cpu = process.cpuUsage(cpu0);
    return { wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (cpu.user + cpu.system) / 1e6 };
  } finally {
    runner.stop();
    log.close();
    journal.close();
    await reader.close();
    await writer.close();
  }
}

function summary(variant: string): VariantSummary {
  return {
    variant,
    strategy: 'macd-td',
    status: 'running',
    pid: 1,
    updatedAt: new Date().toISOString(),
    lastBarAt: null,
    vtSymbol: 'rb9999.SIM',
    windowMinutes: 15,
    source: 'simulated',
    restarts: 0,
    external: false,
    halted: false,
    message: null,
  };
}

function exporterFor(dir: string, variants: string[], families: MetricFamily[]): MetricsExporter {
  const workers: WorkerReading[] = variants.map((variant) => ({ variant, up: true, families }));
  const exporter = new MetricsExporter({
    journalPath: join(dir, 'kestrel.db'),
    capital: 1_000_000,
    source: { variants: () => variants.map(summary), alerts: () => [], snapshot: () => null, workers: () => workers },
  });
  // Each worker's first report creates its refusal series (every reason, at 0).
  for (const variant of variants) exporter.fleet.riskRefused(variant, {});
  return exporter;
}

interface LiveRun {
  wall: number;
  cpu: number;
  bars: number;
}

const LIVE_CHILD_ENV = 'KESTREL_BENCH_LIVE_CHILD';
const LIVE_CHILDREN = 3;
const LIVE_ROUNDS = 3;

/** One process running the live path `LIVE_ROUNDS` times (the first a warm-up); its best timed run. */
function liveRunInChild(mode: 'on' | 'off'): LiveRun {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { env: { ...process.env, [LIVE_CHILD_ENV]: mode }, encoding: 'utf8' });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`live-path child (${mode}) failed: ${r.stderr}`);
  return JSON.parse(line) as LiveRun;
}

if (process.env[LIVE_CHILD_ENV]) {
  const on = process.env[LIVE_CHILD_ENV] === 'on';
  const root = mkdtempSync(join(tmpdir(), 'kestrel-live-path-'));
  try {
    const minutes = tape(HISTORY_MINUTES + LIVE_MINUTES);
    const bars = minutes.slice(HISTORY_MINUTES).reduce((n, m) => n + m.length, 0);
    let wall = Infinity;
    let cpu = Infinity;
    for (let round = 0; round < LIVE_ROUNDS; round++) {
      const t = await workerLivePath(root, `run-${round}`, minutes, on);
      if (round === 0) continue;
      wall = Math.min(wall, t.wall);
      cpu = Math.min(cpu, t.cpu);
    }
    process.stdout.write(`${JSON.stringify({ wall, cpu, bars })}\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-metrics-bench-'));
  try {
    // (1) a whole worker's live path, metrics on against off: each run in a process of its own
    // (as a worker is; prom-client's process collectors, once installed, stay for the process's
    // life), the two kinds alternated so that a busy moment of this shared machine costs both alike.
    const runs: Record<'on' | 'off', LiveRun[]> = { on: [], off: [] };
    for (let i = 0; i < LIVE_CHILDREN; i++) for (const mode of ['off', 'on'] as const) runs[mode].push(liveRunInChild(mode));
    const best = (mode: 'on' | 'off', k: 'cpu' | 'wall'): number => Math.min(...runs[mode].map((r) => r[k]));
    const median = (mode: 'on' | 'off', k: 'cpu' | 'wall'): number => {
      const v = runs[mode].map((r) => r[k]).sort((x, y) => x - y);
      return v[Math.floor(v.length / 2)]!;
    };
    const liveBars = runs.on[0]!.bars;
    const pct = (on: number, off: number): string => `${(((on - off) / off) * 100).toFixed(1)} %`;
    figures.push({
      name: `worker live path, metrics on (${liveBars.toLocaleString('en-US')} bars, CPU time)`,
      value: liveBars / best('on', 'cpu'),
      unit: 'bars/s',
      peer: { name: 'metrics off', value: liveBars / best('off', 'cpu') },
      note:
        `cost of metrics: ${pct(best('on', 'cpu'), best('off', 'cpu'))} on the best CPU time, ${pct(median('on', 'cpu'), median('off', 'cpu'))} on the median ` +
        `(target < 5 %; ${LIVE_CHILDREN} processes of each, ${LIVE_ROUNDS - 1} timed runs each after a warm-up; heartbeat every ${HEARTBEAT_EVERY_BARS} minutes in both, 20× a live worker's)`,
    });
    figures.push({
      name: 'worker live path, metrics on (wall clock)',
      value: liveBars / best('on', 'wall'),
      unit: 'bars/s',
      peer: { name: 'metrics off', value: liveBars / best('off', 'wall') },
      note: `wall clock on this shared machine: ${pct(best('on', 'wall'), best('off', 'wall'))} on the best, ${pct(median('on', 'wall'), median('off', 'wall'))} on the median (other engineers' load included)`,
    });
    const worker = new WorkerMetrics();
    // The heartbeat's share: families() once per 5 s, whatever the number of bars.
    const heartbeat = await bestOfAsync(20, async () => void (await worker.families()));
    const exporter = exporterFor(dir, ['bench'], await worker.families());
    const scrapeOne = await bestOfAsync(20, async () => void (await exporter.metrics()));
    await exporter.close();
    figures.push({
      name: 'worker heartbeat: collect and encode its series',
      value: heartbeat * 1000,
      unit: 'ms',
      note: `once per 5 s heartbeat: ${((heartbeat / 5) * 100).toFixed(2)} % of one core; main's scrape of one variant ${(scrapeOne * 1000).toFixed(1)} ms per scrape (15 s in the shipped config: ${((scrapeOne / 15) * 100).toFixed(2)} %)`,
    });

    // (2) idle memory of a listening exporter
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const before = process.memoryUsage();
    const idle = exporterFor(dir, ['a-15m', 'b-30m', 'c-15m'], await worker.families());
    await idle.listen('127.0.0.1', 0);
    for (let i = 0; i < 10; i++) await (await fetch(idle.served()!.url)).text();
    gc?.();
    const after = process.memoryUsage();
    await idle.close();
    figures.push({
      name: 'exporter idle memory: heap added',
      value: (after.heapUsed - before.heapUsed) / 1024 / 1024,
      unit: 'MB',
      note: `resident set added: ${((after.rss - before.rss) / 1024 / 1024).toFixed(1)} MB; process resident set ${(after.rss / 1024 / 1024).toFixed(0)} MB (target < 50 MB)${gc ? '' : ' (run with --expose-gc for steadier figures)'}`,
    });

    // (3) one scrape of a fleet-sized exposition: ~1,100 series (12 variants), and 100 variants.
    for (const count of [12, 100]) {
      const variants = Array.from({ length: count }, (_, i) => `v${String(i).padStart(3, '0')}-15m`);
      const fleet = exporterFor(dir, variants, await worker.families());
      const text = await fleet.metrics();
      const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
      const scrape = await bestOfAsync(10, async () => void (await fleet.metrics()));
      await fleet.close();
      const peerRegistry = new Registry();
      const gauge = new Gauge({ name: 'peer_series', help: 'peer', labelNames: ['variant', 'n'] as const, registers: [peerRegistry] });
      for (let i = 0; i < series; i++) gauge.set({ variant: variants[i % variants.length]!, n: String(i) }, i);
      const peer = await bestOfAsync(10, async () => void (await peerRegistry.metrics()));
      figures.push({
        name: `scrape of ${series.toLocaleString('en-US')} series (${count} variants)`,
        value: scrape * 1000,
        unit: 'ms',
        peer: { name: `prom-client Registry.metrics(), ${series} gauge series`, value: peer * 1000 },
        note: 'target < 200 ms for >= 1,000 series',
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
