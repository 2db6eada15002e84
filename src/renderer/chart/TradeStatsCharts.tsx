import { useEffect, useRef, useState } from 'react';
import type { EquityPointRow, StatisticsPeriodName, TradePeriodRow } from '../../shared/contract/trades.js';
import { formatBarTime } from '../lib/format.js';
import { formatMoney, formatPnl, pnlTone } from '../lib/tradeFormat.js';
import { useTheme } from '../stores/theme.js';
import { readChartColors } from './chartTheme.js';
import { EquityCurveChart, PnlHistogramChart, type ChartPoint } from './statsChart.js';

const PERIOD_WORD: Record<StatisticsPeriodName, string> = { day: 'day', week: 'week', month: 'month' };

/** Recolours a chart when the theme or the rise/fall convention changes. */
function useRecolour(chart: { setColors(c: ReturnType<typeof readChartColors>): void } | null): void {
  const theme = useTheme((s) => s.theme);
  const upColor = useTheme((s) => s.upColor);
  useEffect(() => {
    chart?.setColors(readChartColors());
  }, [chart, theme, upColor]);
}

/** The realised equity after each closing fill; hovering shows the point, else the last one. */
export function EquityChart({ points, capital }: { points: readonly EquityPointRow[]; capital: number | null }) {
  const canvasRef = useRef<HTMLDivElement>(null);
  const [chart, setChart] = useState<EquityCurveChart | null>(null);
  const [hover, setHover] = useState<ChartPoint | null>(null);
  const [drawn, setDrawn] = useState<ChartPoint[]>([]);

  useEffect(() => {
    const el = canvasRef.current;
    if (!el) return;
    const c = new EquityCurveChart(el, readChartColors(), { onHover: setHover });
    setChart(c);
    return () => {
      c.dispose();
      setChart(null);
    };
  }, []);
  useRecolour(chart);
  useEffect(() => {
    if (chart) setDrawn(chart.setData(points, capital ?? 0));
  }, [chart, points, capital]);

  const shown = hover ?? drawn.at(-1) ?? null;
  const base = capital ?? 0;
  return (
    <div className="stats-chart" data-testid="equity-chart" data-points={drawn.length}>
      <div className="stats-chart-head">
        <span className="stats-chart-title">Equity (realised{capital === null ? ', from 0' : ''})</span>
        {shown ? (
          <span className="stats-chart-value">
            <span className="mono muted">{formatBarTime(shown.time)}</span>{' '}
            <b className={pnlTone(shown.value - base)}>{formatMoney(shown.value)}</b>
          </span>
        ) : null}
      </div>
      <div className="stats-chart-canvas" ref={canvasRef} />
      {points.length === 0 ? <div className="stats-chart-empty">No closing fill yet: the curve starts with the first closed trade.</div> : null}
    </div>
  );
}

/** PnL of each period (the statistics' period), bars coloured by sign. */
export function PnlHistogram({ periods, period }: { periods: readonly TradePeriodRow[]; period: StatisticsPeriodName }) {
  const canvasRef = useRef<HTMLDivElement>(null);
  const [chart, setChart] = useState<PnlHistogramChart | null>(null);
  const [hover, setHover] = useState<ChartPoint | null>(null);
  const [drawn, setDrawn] = useState<ChartPoint[]>([]);

  useEffect(() => {
    const el = canvasRef.current;
    if (!el) return;
    const c = new PnlHistogramChart(el, readChartColors(), { onHover: setHover });
    setChart(c);
    return () => {
      c.dispose();
      setChart(null);
    };
  }, []);
  useRecolour(chart);
  useEffect(() => {
    if (chart) setDrawn(chart.setData(periods));
  }, [chart, periods]);

  const shown = hover ?? drawn.at(-1) ?? null;
  const label = shown && chart ? chart.periodAt(shown.time) : null;
  return (
    <div className="stats-chart" data-testid="pnl-histogram" data-bars={drawn.length}>
      <div className="stats-chart-head">
        <span className="stats-chart-title">PnL per {PERIOD_WORD[period]}</span>
        {shown ? (
          <span className="stats-chart-value">
            <span className="mono muted">{label ?? ''}</span> <b className={pnlTone(shown.value)}>{formatPnl(shown.value)}</b>
          </span>
        ) : null}
      </div>
      <div className="stats-chart-canvas" ref={canvasRef} />
      {periods.length === 0 ? <div className="stats-chart-empty">No closed trade in the filter.</div> : null}
    </div>
  );
}
