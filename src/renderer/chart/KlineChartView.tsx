import { useEffect, useMemo, useRef, useState } from 'react';
import type { InstrumentUpdate, VariantUpdate } from '../../shared/api.js';
import type { Snapshot } from '../../shared/snapshot.js';
import type { StrategyDisplay } from '../../shared/strategyDisplay.js';
import { getApi } from '../api/index.js';
import { formatBarTime, formatPrice, formatSigned, formatVolume } from '../lib/format.js';
import { pickInstrument } from '../lib/instruments.js';
import { useConnection } from '../stores/connection.js';
import { useTrading, type VariantBook } from '../stores/trading.js';
import type { HoverPoint } from './chartModel.js';
import { readChartColors } from './chartTheme.js';
import { useRecolour } from './useRecolour.js';
import { KlineChart, type PositionLine } from './klineChart.js';
import { strategyLinesOf } from './strategyLines.js';
import { historyPageSize, type ChartLinker } from './timeLink.js';

/** A reload asked for while one runs is done once after it; never more often than this. */
const MIN_RELOAD_GAP_MS = 1_000;
/** While a variant has no snapshot yet (a worker still starting), ask again this often. */
const RETRY_MS = 3_000;
/** Scroll events come in bursts: ask for older history once the burst settles. */
const HISTORY_DEBOUNCE_MS = 150;
/** After a failed history request, the next scroll may ask again only after this. */
const HISTORY_RETRY_MS = 5_000;
const NO_TRADES: VariantBook['recentTrades'] = [];

/** The position drawn as a price line: the one in the chart's instrument, if any. */
function positionOf(book: VariantBook | undefined, vtSymbol: string | null): PositionLine | null {
  const p = book?.positions.find((x) => x.volume !== 0 && (vtSymbol === null || x.vtSymbol === vtSymbol));
  return p ? { direction: p.direction, volume: p.volume, avgPrice: p.avgPrice } : null;
}

type LoadState = { kind: 'loading' } | { kind: 'ready' } | { kind: 'empty'; message: string } | { kind: 'error'; message: string };

function isNewer(update: VariantUpdate, snapshot: Snapshot): boolean {
  const u = update.summary.updatedAt ? Date.parse(update.summary.updatedAt) : Number.NaN;
  const s = Date.parse(snapshot.updatedAt);
  return !(Number.isFinite(u) && Number.isFinite(s)) || u > s;
}

/** The chart's labels from the strategy's display (made from the variant's own periods); generic for a publisher that gives none. */
export function chartLabels(display: StrategyDisplay | null): { emaFast: string; emaSlow: string; macd: string } {
  return {
    emaFast: display?.lines.find((l) => l.field === 'emaFast')?.label ?? 'EMA fast',
    emaSlow: display?.lines.find((l) => l.field === 'emaSlow')?.label ?? 'EMA slow',
    macd: display?.panes.find((p) => p.kind === 'macd')?.label ?? 'MACD',
  };
}

function Legend({ point, precision, labels }: { point: HoverPoint | null; precision: { price: number; oscillator: number }; labels: ReturnType<typeof chartLabels> }) {
  if (!point) return null;
  const { bar } = point;
  const change = bar.open !== 0 ? ((bar.close - bar.open) / bar.open) * 100 : null;
  const tone = bar.close >= bar.open ? 'up' : 'down';
  const p = precision.price;
  return (
    <div className="chart-legend" data-testid="chart-legend">
      <span className="legend-time">{formatBarTime(bar.time)}</span>
      {point.forming ? <span className="legend-forming">forming</span> : null}
      <span className="legend-item">
        O <b className={tone}>{formatPrice(bar.open, p)}</b>
      </span>
      <span className="legend-item">
        H <b className={tone}>{formatPrice(bar.high, p)}</b>
      </span>
      <span className="legend-item">
        L <b className={tone}>{formatPrice(bar.low, p)}</b>
      </span>
      <span className="legend-item">
        C <b className={tone}>{formatPrice(bar.close, p)}</b>
      </span>
      <span className={`legend-item ${tone}`}>{change === null ? '' : `${formatSigned(change, 2)}%`}</span>
      <span className="legend-item">
        V <b>{formatVolume(bar.volume)}</b>
      </span>
      <span className="legend-item ema-fast">
        {labels.emaFast} <b>{formatPrice(bar.emaFast, p + 1)}</b>
      </span>
      <span className="legend-item ema-slow">
        {labels.emaSlow} <b>{formatPrice(bar.emaSlow, p + 1)}</b>
      </span>
      {(point.marks ?? []).map((m) => (
        <span key={`${m.side}-${m.kind}`} className={`legend-mark ${m.side === 'buy' ? 'up' : 'down'}`}>
          TD {m.side} {m.kind}
        </span>
      ))}
    </div>
  );
}

function MacdLegend({ point, precision, label }: { point: HoverPoint | null; precision: number; label: string }) {
  const bar = point?.bar;
  const macdTone = bar?.macd === null || bar?.macd === undefined ? '' : bar.macd >= 0 ? 'up' : 'down';
  return (
    <>
      <span className="legend-title">{label}</span>
      <span className="legend-item dif">
        DIF <b>{formatSigned(bar?.dif, precision)}</b>
      </span>
      <span className="legend-item dea">
        DEA <b>{formatSigned(bar?.dea, precision)}</b>
      </span>
      <span className="legend-item">
        MACD <b className={macdTone}>{formatSigned(bar?.macd, precision)}</b>
      </span>
    </>
  );
}

export interface KlineChartViewProps {
  variant: string;
  /** Which of the variant's instruments (a vtSymbol; a rolled one finds its product's new contract); the first when absent. */
  instrument?: string | null;
  onSnapshot?: (snapshot: Snapshot) => void;
  /** Charts side by side (Compare): crosshair and visible time range follow the leader. */
  linker?: ChartLinker;
  testId?: string;
}

/**
 * The live K-line of one instrument of a variant (the first unless one is chosen). Loads the
 * snapshot once, then follows
 * `variantUpdated` events bar by bar; reloads only when the chart cannot be updated in place
 * (history rewritten, missed updates, the event stream reconnected). Scrolled to its left
 * edge it loads older history from the API and prepends it. The variant's fills are marked on
 * the candles and its open position's average price drawn as a line.
 */
export function KlineChartView({ variant, instrument = null, onSnapshot, linker, testId = 'kline-chart' }: KlineChartViewProps) {
  const hostRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLDivElement>(null);
  const macdRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<KlineChart | null>(null);
  const onSnapshotRef = useRef(onSnapshot);
  const [display, setDisplay] = useState<StrategyDisplay | null>(null);
  const labels = chartLabels(display);
  useEffect(() => {
    onSnapshotRef.current = onSnapshot;
  }, [onSnapshot]);
  const book = useTrading((s) => s.books[variant]);
  const trades = book?.recentTrades ?? NO_TRADES;
  const bookRef = useRef(book);
  useEffect(() => {
    bookRef.current = book;
  }, [book]);
  // A fill or a position changes the markers' and the price line's data attributes too.
  const publishRef = useRef<(() => void) | null>(null);
  useEffect(() => {
    chartRef.current?.setTrades(trades);
    publishRef.current?.();
  }, [trades]);
  // A strategy that draws lines (a grid): its levels, and its resting orders when it asks for them.
  const strategyLines = useMemo(() => strategyLinesOf(display, book?.orders ?? []), [display, book?.orders]);
  useEffect(() => {
    chartRef.current?.setStrategyLines(strategyLines);
    publishRef.current?.();
  }, [strategyLines]);
  const positionKey = (book?.positions ?? []).map((p) => `${p.vtSymbol}:${p.direction}:${p.volume}:${p.avgPrice}`).join('|');
  useEffect(() => {
    const chart = chartRef.current;
    chart?.setPosition(positionOf(bookRef.current, chart.vtSymbol));
    publishRef.current?.();
  }, [positionKey]);
  const [hover, setHover] = useState<HoverPoint | null>(null);
  const [macdTop, setMacdTop] = useState<number | null>(null);
  const [load, setLoad] = useState<LoadState>({ kind: 'loading' });
  const [precision, setPrecision] = useState({ price: 2, oscillator: 4 });
  useRecolour(chartRef);

  useEffect(() => {
    const host = hostRef.current;
    const canvas = canvasRef.current;
    if (!host || !canvas) return;
    const api = getApi();
    let disposed = false;
    let loading = false;
    let reloadWanted = false;
    let lastLoadAt = 0;
    let loadCount = 0;
    let retryTimer: ReturnType<typeof setTimeout> | null = null;
    let queued: VariantUpdate[] = [];
    // History on demand: one request in flight, asked for once a scroll burst settles.
    let historyTimer: ReturnType<typeof setTimeout> | null = null;
    let historyBusy = false;
    let historyHasMore = true;
    let historyLoads = 0;
    let historyRetryAt = 0;
    let instrumentKey = '';
    let updatesHandled = 0;

    const requestHistory = (): void => {
      if (disposed || loading || historyBusy || historyTimer !== null || !historyHasMore || Date.now() < historyRetryAt) return;
      historyTimer = setTimeout(() => {
        historyTimer = null;
        void loadOlder();
      }, HISTORY_DEBOUNCE_MS);
    };

    const chart = new KlineChart(canvas, readChartColors(), {
      onHover: setHover,
      onLayout: setMacdTop,
      onNearStart: requestHistory,
      onCrosshairTime: (time) => linker?.crosshairMoved(variant, time),
      onTimeRange: (range) => {
        // For tests and the benchmark: which bars are in view.
        host.dataset.visibleFrom = range === null ? '' : String(range.from);
        host.dataset.visibleTo = range === null ? '' : String(range.to);
        host.dataset.visibleBars = String(Math.round(chartRef.current?.visibleBarCount() ?? 0));
        linker?.rangeChanged(variant, range);
      },
    });
    chartRef.current = chart;
    chart.setTrades(bookRef.current?.recentTrades ?? NO_TRADES);
    const unlink = linker?.add({
      id: variant,
      showCrosshairAt: (time) => chart.showCrosshairAt(time),
      showTimeRange: (range) => chart.showTimeRange(range),
      hasBars: () => chart.hasBars(),
    });
    // The chart the trader points at or scrolls leads the others.
    const lead = (): void => linker?.lead(variant);
    host.addEventListener('pointerenter', lead);
    host.addEventListener('pointerdown', lead);
    host.addEventListener('wheel', lead, { passive: true });

    const publish = (): void => {
      const c = chart.counts();
      host.dataset.barCount = String(c.barCount);
      host.dataset.lastTime = c.lastTime === null ? '' : String(c.lastTime);
      host.dataset.firstTime = chart.firstTime === null ? '' : String(chart.firstTime);
      host.dataset.markerCount = String(c.markerCount);
      host.dataset.tradeMarkers = String(c.tradeMarkerCount);
      host.dataset.seriesUpdates = String(c.seriesUpdates);
      host.dataset.updatesHandled = String(updatesHandled);
      host.dataset.historyLoads = String(historyLoads);
      host.dataset.hasMore = String(historyHasMore);
      host.dataset.positionLine = chart.positionLineShown ? 'shown' : 'none';
      host.dataset.vtSymbol = chart.vtSymbol ?? '';
      host.dataset.strategyLines = String(chart.strategyLineCount);
      if (macdRef.current) macdRef.current.dataset.macdPoints = String(c.macdPoints);
    };
    publishRef.current = publish;

    const loadOlder = async (): Promise<void> => {
      const before = chart.firstTime;
      const vtSymbol = chart.vtSymbol;
      const windowMinutes = chart.windowMinutes;
      if (disposed || before === null || vtSymbol === null || windowMinutes === null) return;
      historyBusy = true;
      host.dataset.historyState = 'loading';
      try {
        const older = await api.getBarHistory({
          vtSymbol,
          windowMinutes,
          before,
          count: historyPageSize(chart.visibleBarCount()),
          variant,
        });
        if (disposed) return;
        // A reload meanwhile may have moved the first bar: prepend keeps only what is older.
        chart.prepend(older.bars, older.marks);
        // A follower that lacked the history the leader shows can now show it.
        linker?.loaded(variant);
        historyHasMore = older.hasMore;
        historyLoads += 1;
        delete host.dataset.historyError;
      } catch (error) {
        if (disposed) return;
        historyRetryAt = Date.now() + HISTORY_RETRY_MS;
        host.dataset.historyError = error instanceof Error ? error.message : String(error);
      } finally {
        historyBusy = false;
        if (!disposed) {
          host.dataset.historyState = historyHasMore ? 'idle' : 'complete';
          publish();
          // Zoomed out further than one page reaches: keep going.
          if (chart.nearStart()) requestHistory();
        }
      }
    };

    const apply = (live: InstrumentUpdate): boolean => {
      const result = chart.update({
        vtSymbol: live.vtSymbol,
        recent: live.recent,
        forming: live.forming,
        marks: live.marks,
      });
      publish();
      return result === 'applied';
    };

    const scheduleRetry = (): void => {
      if (retryTimer === null && !disposed) {
        retryTimer = setTimeout(() => {
          retryTimer = null;
          void reload();
        }, RETRY_MS);
      }
    };

    const reload = async (): Promise<void> => {
      if (disposed) return;
      if (loading) {
        reloadWanted = true;
        return;
      }
      const wait = lastLoadAt + MIN_RELOAD_GAP_MS - Date.now();
      if (wait > 0) {
        reloadWanted = true;
        setTimeout(() => {
          if (reloadWanted && !loading) {
            reloadWanted = false;
            void reload();
          }
        }, wait);
        return;
      }
      loading = true;
      lastLoadAt = Date.now();
      try {
        const snapshot = await api.getSnapshot({ variant });
        if (disposed) return;
        useTrading.getState().applySnapshot(snapshot);
        onSnapshotRef.current?.(snapshot);
        setDisplay(snapshot.display);
        const first = pickInstrument(snapshot.instruments, instrument);
        if (!first) {
          setLoad({ kind: 'empty', message: `${variant} publishes no instrument yet.` });
        } else {
          chart.load({
            vtSymbol: first.vtSymbol,
            windowMinutes: first.windowMinutes,
            recent: first.bars,
            forming: first.forming,
            marks: first.marks,
          });
          const key = `${first.vtSymbol}:${first.windowMinutes}`;
          // Another contract (a roll) or window: its history starts anew.
          if (key !== instrumentKey) historyHasMore = true;
          instrumentKey = key;
          chart.setTrades(useTrading.getState().books[variant]?.recentTrades ?? NO_TRADES);
          chart.setPosition(positionOf(useTrading.getState().books[variant], first.vtSymbol));
          linker?.loaded(variant);
          setPrecision(chart.precision);
          // Visible to tests: live updates must not reload (setData) the chart.
          loadCount += 1;
          host.dataset.loadCount = String(loadCount);
          setLoad({ kind: 'ready' });
          // Updates that arrived while the snapshot was on its way, and are newer than it.
          for (const update of queued.splice(0)) {
            const shown = pickInstrument(update.instruments, instrument);
            if (shown && isNewer(update, snapshot) && !apply(shown)) reloadWanted = true;
          }
        }
        publish();
      } catch (error) {
        if (disposed) return;
        const message = error instanceof Error ? error.message : String(error);
        setLoad({ kind: 'error', message });
        scheduleRetry();
      } finally {
        loading = false;
        queued = [];
        if (reloadWanted && !disposed) {
          reloadWanted = false;
          void reload();
        }
      }
    };

    const offUpdate = api.events.variantUpdated((update) => {
      if (update.summary.variant !== variant) return;
      const shown = pickInstrument(update.instruments, instrument);
      if (!shown) return;
      updatesHandled += 1;
      if (loading) {
        queued.push(update);
        return;
      }
      if (!apply(shown)) void reload();
    });
    const offReopen = useConnection.subscribe((state, prev) => {
      if (state.reopenedAt !== prev.reopenedAt) void reload();
    });

    void reload();
    return () => {
      disposed = true;
      if (retryTimer !== null) clearTimeout(retryTimer);
      if (historyTimer !== null) clearTimeout(historyTimer);
      offUpdate();
      offReopen();
      unlink?.();
      host.removeEventListener('pointerenter', lead);
      host.removeEventListener('pointerdown', lead);
      host.removeEventListener('wheel', lead);
      publishRef.current = null;
      chart.dispose();
      chartRef.current = null;
    };
  }, [variant, instrument, linker]);

  return (
    <div className="chart-frame">
      <div className="chart-host" ref={hostRef} data-testid={testId} data-variant={variant} data-load={load.kind}>
        <div className="chart-canvas" ref={canvasRef} />
        <Legend point={hover} precision={precision} labels={labels} />
        <div
          className="chart-legend macd-legend"
          ref={macdRef}
          data-testid="macd-pane"
          hidden={macdTop === null}
          style={macdTop === null ? undefined : { top: `${macdTop + 4}px` }}
        >
          <MacdLegend point={hover} precision={precision.oscillator} label={labels.macd} />
        </div>
        {load.kind !== 'ready' ? (
          <div className={load.kind === 'error' ? 'chart-overlay error' : 'chart-overlay'} data-testid="chart-overlay">
            {load.kind === 'loading'
              ? 'Loading snapshot…'
              : load.kind === 'empty'
                ? load.message
                : `No snapshot: ${load.message} (retrying)`}
          </div>
        ) : null}
      </div>
    </div>
  );
}
