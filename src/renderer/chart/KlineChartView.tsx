import { useEffect, useRef, useState } from 'react';
import type { InstrumentUpdate, VariantUpdate } from '../../shared/api.js';
import type { Snapshot } from '../../shared/snapshot.js';
import { getApi } from '../api/index.js';
import { formatBarTime, formatPrice, formatSigned, formatVolume } from '../lib/format.js';
import { useConnection } from '../stores/connection.js';
import { useTheme } from '../stores/theme.js';
import type { HoverPoint } from './chartModel.js';
import { readChartColors } from './chartTheme.js';
import { KlineChart } from './klineChart.js';

/** A reload asked for while one runs is done once after it; never more often than this. */
const MIN_RELOAD_GAP_MS = 1_000;
/** While a variant has no snapshot yet (a worker still starting), ask again this often. */
const RETRY_MS = 3_000;

type LoadState = { kind: 'loading' } | { kind: 'ready' } | { kind: 'empty'; message: string } | { kind: 'error'; message: string };

function isNewer(update: VariantUpdate, snapshot: Snapshot): boolean {
  const u = update.summary.updatedAt ? Date.parse(update.summary.updatedAt) : Number.NaN;
  const s = Date.parse(snapshot.updatedAt);
  return !(Number.isFinite(u) && Number.isFinite(s)) || u > s;
}

function Legend({ point, precision }: { point: HoverPoint | null; precision: { price: number; oscillator: number } }) {
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
        EMA20 <b>{formatPrice(bar.emaFast, p + 1)}</b>
      </span>
      <span className="legend-item ema-slow">
        EMA60 <b>{formatPrice(bar.emaSlow, p + 1)}</b>
      </span>
      {(point.marks ?? []).map((m) => (
        <span key={`${m.side}-${m.kind}`} className={`legend-mark ${m.side === 'buy' ? 'up' : 'down'}`}>
          TD {m.side} {m.kind}
        </span>
      ))}
    </div>
  );
}

function MacdLegend({ point, precision }: { point: HoverPoint | null; precision: number }) {
  const bar = point?.bar;
  const macdTone = bar?.macd === null || bar?.macd === undefined ? '' : bar.macd >= 0 ? 'up' : 'down';
  return (
    <>
      <span className="legend-title">MACD 12 26 9</span>
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

/**
 * The live K-line of a variant's first instrument. Loads the snapshot once, then follows
 * `variantUpdated` events bar by bar; reloads only when the chart cannot be updated in place
 * (history rewritten, missed updates, the event stream reconnected).
 */
export function KlineChartView({ variant, onSnapshot }: { variant: string; onSnapshot: (snapshot: Snapshot) => void }) {
  const hostRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLDivElement>(null);
  const macdRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<KlineChart | null>(null);
  const onSnapshotRef = useRef(onSnapshot);
  useEffect(() => {
    onSnapshotRef.current = onSnapshot;
  }, [onSnapshot]);
  const [hover, setHover] = useState<HoverPoint | null>(null);
  const [macdTop, setMacdTop] = useState<number | null>(null);
  const [load, setLoad] = useState<LoadState>({ kind: 'loading' });
  const [precision, setPrecision] = useState({ price: 2, oscillator: 4 });
  const theme = useTheme((s) => s.theme);
  const upColor = useTheme((s) => s.upColor);

  useEffect(() => {
    chartRef.current?.setColors(readChartColors());
  }, [theme, upColor]);

  useEffect(() => {
    const host = hostRef.current;
    const canvas = canvasRef.current;
    if (!host || !canvas) return;
    const chart = new KlineChart(canvas, readChartColors(), { onHover: setHover, onLayout: setMacdTop });
    chartRef.current = chart;
    const api = getApi();
    let disposed = false;
    let loading = false;
    let reloadWanted = false;
    let lastLoadAt = 0;
    let loadCount = 0;
    let retryTimer: ReturnType<typeof setTimeout> | null = null;
    let queued: VariantUpdate[] = [];

    const publish = (): void => {
      const c = chart.counts();
      host.dataset.barCount = String(c.barCount);
      host.dataset.lastTime = c.lastTime === null ? '' : String(c.lastTime);
      host.dataset.markerCount = String(c.markerCount);
      if (macdRef.current) macdRef.current.dataset.macdPoints = String(c.macdPoints);
    };

    const apply = (instrument: InstrumentUpdate): boolean => {
      const result = chart.update({
        vtSymbol: instrument.vtSymbol,
        recent: instrument.recent,
        forming: instrument.forming,
        marks: instrument.marks,
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
        onSnapshotRef.current(snapshot);
        const first = snapshot.instruments[0];
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
          setPrecision(chart.precision);
          // Visible to tests: live updates must not reload (setData) the chart.
          loadCount += 1;
          host.dataset.loadCount = String(loadCount);
          setLoad({ kind: 'ready' });
          // Updates that arrived while the snapshot was on its way, and are newer than it.
          for (const update of queued.splice(0)) {
            const instrument = update.instruments[0];
            if (instrument && isNewer(update, snapshot) && !apply(instrument)) reloadWanted = true;
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
      const instrument = update.instruments[0];
      if (!instrument) return;
      if (loading) {
        queued.push(update);
        return;
      }
      if (!apply(instrument)) void reload();
    });
    const offReopen = useConnection.subscribe((state, prev) => {
      if (state.reopenedAt !== prev.reopenedAt) void reload();
    });

    void reload();
    return () => {
      disposed = true;
      if (retryTimer !== null) clearTimeout(retryTimer);
      offUpdate();
      offReopen();
      chart.dispose();
      chartRef.current = null;
    };
  }, [variant]);

  return (
    <div className="chart-frame">
      <div className="chart-host" ref={hostRef} data-testid="kline-chart" data-variant={variant} data-load={load.kind}>
        <div className="chart-canvas" ref={canvasRef} />
        <Legend point={hover} precision={precision} />
        <div
          className="chart-legend macd-legend"
          ref={macdRef}
          data-testid="macd-pane"
          hidden={macdTop === null}
          style={macdTop === null ? undefined : { top: `${macdTop + 4}px` }}
        >
          <MacdLegend point={hover} precision={precision.oscillator} />
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
