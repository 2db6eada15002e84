import { useEffect, useRef, useState } from 'react';
import type { BacktestResultView } from '../../shared/backtest.js';
import type { BacktestBars } from '../../shared/contract/backtests.js';
import { getApi } from '../api/index.js';
import { readChartColors } from './chartTheme.js';
import { useRecolour } from './useRecolour.js';
import { KlineChart } from './klineChart.js';

/** Window bars asked for per page (the contract's bound is larger; a page this size draws at once). */
const PAGE_BARS = 1000;

type LoadState = { kind: 'loading' } | { kind: 'ready' } | { kind: 'empty' } | { kind: 'error'; message: string };

/**
 * A backtest's K-line: one instrument of its universe over the job's range, the job's fills as
 * markers on their windows (as on the live chart) and the strategy's own marks (from its
 * display: MACD-TD's TD 9/13), drawn by the live chart's KlineChart. The newest page of the range
 * first; scrolled to its left edge, older pages within the range are prepended.
 */
export function BacktestKline({ result }: { result: BacktestResultView }) {
  const symbols = result.job.symbols;
  const [vtSymbol, setVtSymbol] = useState(symbols[0] ?? '');
  const hostRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<KlineChart | null>(null);
  const [load, setLoad] = useState<LoadState>({ kind: 'loading' });
  useRecolour(chartRef);

  useEffect(() => {
    const host = hostRef.current;
    const canvas = canvasRef.current;
    if (!host || !canvas) return;
    const api = getApi();
    let disposed = false;
    let busy = false;
    let hasMore = false;
    let pages = 0;
    const trades = result.trades.filter((t) => t.vtSymbol === vtSymbol);

    const publish = (): void => {
      const c = chart.counts();
      host.dataset.barCount = String(c.barCount);
      host.dataset.firstTime = chart.firstTime === null ? '' : String(chart.firstTime);
      host.dataset.lastTime = c.lastTime === null ? '' : String(c.lastTime);
      host.dataset.markerCount = String(c.markerCount);
      host.dataset.tradeMarkers = String(c.tradeMarkerCount);
      host.dataset.hasMore = String(hasMore);
      host.dataset.pages = String(pages);
    };

    const page = (before?: number): Promise<BacktestBars> =>
      api.getBacktestBars({ id: result.id, vtSymbol, count: PAGE_BARS, ...(before === undefined ? {} : { before }) });

    const older = async (): Promise<void> => {
      const before = chart.firstTime;
      if (disposed || busy || !hasMore || before === null) return;
      busy = true;
      try {
        const p = await page(before);
        if (disposed) return;
        hasMore = p.hasMore;
        pages += 1;
        chart.prepend(p.bars, p.marks);
        publish();
      } catch {
        // The next scroll asks again.
      } finally {
        busy = false;
      }
    };

    const chart = new KlineChart(canvas, readChartColors(), { onHover: () => undefined, onLayout: () => undefined, onNearStart: () => void older() });
    chartRef.current = chart;
    setLoad({ kind: 'loading' });
    page()
      .then((p) => {
        if (disposed) return;
        hasMore = p.hasMore;
        pages = 1;
        chart.load({ vtSymbol, windowMinutes: p.windowMinutes, recent: p.bars, forming: null, marks: p.marks });
        chart.setTrades(trades);
        publish();
        setLoad(p.bars.length === 0 ? { kind: 'empty' } : { kind: 'ready' });
      })
      .catch((err: unknown) => {
        if (!disposed) setLoad({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
      });
    return () => {
      disposed = true;
      chart.dispose();
      chartRef.current = null;
    };
  }, [result.id, result.trades, vtSymbol]);

  return (
    <div className="bt-kline">
      {symbols.length > 1 ? (
        <div className="bt-kline-symbols" role="tablist">
          {symbols.map((s) => (
            <button key={s} type="button" role="tab" aria-selected={s === vtSymbol} className={s === vtSymbol ? 'btn btn-small active' : 'btn btn-small'} onClick={() => setVtSymbol(s)} data-testid="bt-kline-symbol">
              {s}
            </button>
          ))}
        </div>
      ) : null}
      <div className="chart-frame bt-kline-frame">
        <div className="chart-host" ref={hostRef} data-testid="bt-kline" data-vt-symbol={vtSymbol} data-load={load.kind}>
          <div className="chart-canvas" ref={canvasRef} />
          {load.kind !== 'ready' ? (
            <div className={load.kind === 'error' ? 'chart-overlay error' : 'chart-overlay'}>
              {load.kind === 'loading' ? 'Loading bars…' : load.kind === 'empty' ? `No bars of ${vtSymbol} in this range` : load.message}
            </div>
          ) : null}
        </div>
      </div>
    </div>
  );
}
