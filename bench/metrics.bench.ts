/**
 * What the metrics cost. (1) The live path with metrics on against off: 20 trading days of the
 * simulated market through the TradingEngine (MACD-TD), with the worker's bar-latency observation per bar,
 * against the same bars without; and what is paid per time rather than per bar: the worker's
 * heartbeat collecting its series (every 5 s) and main's scrape. (2) The exporter's idle memory: heap and
 * resident set added by a listening exporter and a few scrapes. (3) One scrape of a fleet-sized
 * exposition (100 variants: pulled series and their workers' families), beside prom-client's
 * own Registry rendering the same number of series, measured in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { SimulatedMarket, backfillStart } from '../src/core/market/simulatedMarket.js';
import { TradingCalendar } from '../src/core/market/tradingCalendar.js';
import { TradingEngine } from '../src/core/strategy/engine.js';
import { strategyFor } from '../src/core/strategy/registry.js';
import { vtSymbolOf, type OhlcvBar } from '../src/shared/bar.js';
import { parseDatetime } from '../src/shared/time.js';
import type { VariantSummary } from '../src/shared/api.js';
import type { MetricFamily } from '../src/shared/workerProtocol.js';
import { MetricsExporter, type WorkerReading } from '../src/main/workstation/metricsExporter.js';
import { WorkerMetrics } from '../src/worker/workerMetrics.js';
import { bestOf, bestOfAsync, type BenchFigure } from './figure.js';

const DAYS = 20;

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
  return new MetricsExporter({
    journalPath: join(dir, 'kestrel.db'),
    capital: 1_000_000,
    source: { variants: () => variants.map(summary), alerts: () => [], snapshot: () => null, workers: () => workers },
  });
}

export async function run(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-metrics-bench-'));
  try {
    // (1) live path
    const calendar = new TradingCalendar();
    const end = parseDatetime('2026-03-16 09:00:00') ?? 0;
    const market = new SimulatedMarket({ seed: 7, startTime: backfillStart(calendar, end, DAYS), calendar });
    const ticks: { vtSymbol: string; bar: OhlcvBar }[] = [];
    while (market.peekNextTime() < end) for (const b of market.nextMinute()) ticks.push({ vtSymbol: vtSymbolOf(b.symbol, b.exchange), bar: b });
    const worker = new WorkerMetrics();
    const offRun = (): void => {
      const runner = new TradingEngine(strategyFor('macd-td', {}, 'bench'), { variant: 'bench', windowMinutes: 15, calendar });
      for (const t of ticks) runner.onMinuteBar(t.vtSymbol, t.bar, 'live');
    };
    const onRun = (): void => {
      const runner = new TradingEngine(strategyFor('macd-td', {}, 'bench'), { variant: 'bench', windowMinutes: 15, calendar });
      // As the worker does for a simulated feed: bars in reads of one (live), each read timed
      // before and after, and the bar's latency observed.
      for (const t of ticks) {
        const readAt = Date.now();
        runner.onMinuteBar(t.vtSymbol, t.bar, 'live');
        worker.barProcessed((Date.now() - readAt) / 1000);
      }
    };
    // Interleaved, so that a busy moment of this shared machine costs both sides alike.
    let off = Infinity;
    let on = Infinity;
    for (let round = 0; round < 7; round++) {
      off = Math.min(off, bestOf(1, offRun));
      on = Math.min(on, bestOf(1, onRun));
    }
    figures.push({
      name: `live path, metrics on (${ticks.length.toLocaleString('en-US')} bars)`,
      value: ticks.length / on,
      unit: 'bars/s',
      peer: { name: 'metrics off', value: ticks.length / off },
      note: `cost of metrics per bar: ${(((on - off) / off) * 100).toFixed(1)} % (target < 5 %)`,
    });
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
