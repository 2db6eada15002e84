/**
 * The MACD-TD trading path: 1-minute bars/s through the TradingEngine (AnalysisPipeline per
 * product + MACD-TD + RiskGate + PaperBroker), beside the same bars through AnalysisPipeline alone (the
 * strategy's overhead is the difference), and the size of the state a worker commits after
 * every bar. Data: 60 trading days of the simulated market's three products, 15-minute windows,
 * with stop-loss and take-profit brackets so that the broker has resting orders to match.
 */
import { AnalysisPipeline } from '../src/core/analysisPipeline.js';
import { DEMO_INSTRUMENTS, SimulatedMarket, backfillStart } from '../src/core/market/simulatedMarket.js';
import { TradingCalendar } from '../src/core/market/tradingCalendar.js';
import { TradingEngine } from '../src/core/strategy/engine.js';
import { strategyFor } from '../src/core/strategy/registry.js';
import { vtSymbolOf, type OhlcvBar } from '../src/shared/bar.js';
import type { MacdTdConfigInput } from '../src/shared/strategyConfig.js';
import { parseDatetime } from '../src/shared/time.js';
import { bestOf, type BenchFigure } from './figure.js';

const DAYS = 60;

export async function run(): Promise<BenchFigure[]> {
  const calendar = new TradingCalendar();
  const end = parseDatetime('2026-03-16 09:00:00') ?? 0;
  const market = new SimulatedMarket({ seed: 99, startTime: backfillStart(calendar, end, DAYS), calendar });
  const ticks: { vtSymbol: string; bar: OhlcvBar }[] = [];
  while (market.peekNextTime() < end) {
    for (const b of market.nextMinute()) ticks.push({ vtSymbol: vtSymbolOf(b.symbol, b.exchange), bar: b });
  }
  const config: MacdTdConfigInput = {
    contracts: Object.fromEntries(DEMO_INSTRUMENTS.map((i) => [i.symbol.replace(/\d+$/, ''), { priceTick: i.priceTick, contractMultiplier: i.contractMultiplier ?? 10 }])),
    stopLoss: { unit: 'ticks', value: 12 },
    takeProfit: { unit: 'percent', value: 0.8 },
  };

  const bound = strategyFor('macd-td', config, 'bench');
  let runner = new TradingEngine(bound, { variant: 'bench', windowMinutes: 15, calendar });
  let fills = 0;
  const withStrategy = bestOf(3, () => {
    runner = new TradingEngine(bound, { variant: 'bench', windowMinutes: 15, calendar });
    fills = 0;
    for (const t of ticks) fills += runner.onMinuteBar(t.vtSymbol, t.bar, 'live').fills.length;
  });
  const pipelineOnly = bestOf(3, () => {
    const pipelines = new Map<string, AnalysisPipeline>();
    for (const t of ticks) {
      let p = pipelines.get(t.vtSymbol);
      if (p === undefined) {
        p = new AnalysisPipeline({ windowMinutes: 15, onWindow: () => undefined });
        pipelines.set(t.vtSymbol, p);
      }
      p.pushMinute(t.bar);
    }
  });
  const strategyState = JSON.stringify(runner.strategy.toState()).length;
  const runnerState = JSON.stringify(runner.toState()).length;
  const stateEvery = bestOf(3, () => {
    for (let i = 0; i < 1000; i++) JSON.stringify(runner.toState());
  });
  return [
    {
      name: 'TradingEngine (MACD-TD + risk gate + broker), 1-minute bars',
      value: ticks.length / withStrategy,
      unit: 'bars/s',
      peer: { name: 'AnalysisPipeline alone', value: ticks.length / pipelineOnly },
      note: `${String(ticks.length)} bars (${String(DAYS)} trading days × 3 products), ${String(fills)} fills`,
    },
    { name: 'strategy state (JSON)', value: strategyState, unit: 'bytes', note: 'positions, orders, counters, contracts, signal tracking, last 20 trades' },
    { name: 'runner state incl. 3 pipeline checkpoints (JSON)', value: runnerState, unit: 'bytes' },
    { name: 'runner toState + JSON.stringify', value: stateEvery / 1000 * 1e6, unit: 'µs' },
  ];
}
