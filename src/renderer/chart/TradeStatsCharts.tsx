import { useEffect, useMemo, useRef, useState } from 'react';
import type { EquityPointRow, StatisticsPeriodName, TradePeriodRow } from '../../shared/contract/trades.js';
import { formatBarTime } from '../lib/format.js';
import { formatMoney, formatPnl, pnlTone } from '../lib/tradeFormat.js';
import { readChartColors } from './chartTheme.js';
import { useRecolour } from './useRecolour.js';
import { EquityCurveChart, PnlHistogramChart, equityLine, periodBars, type ChartPoint } from './statsChart.js';

const PERIOD_WORD: Record<StatisticsPeriodName, string> = { day: 'day', week: 'week', month: 'month' };

/** The realised equity after each closing fill; hovering shows the point, else the last one. */
export function EquityChart({ points, capital }: { points: readonly EquityPointRow[]; capital: number | null }) {
  const canvasRef = useRef<HTMLDivElement>(null);
  const chart = useRef<EquityCurveChart | null>(null);
  const [hover, setHover] = useState<ChartPoint | null>(null);
  const line = useMemo(() => equityLine(points), [points]);
  const base = capital ?? 0;

  useEffect(() => {
    const el = canvasRef.current;
    if (!el) return;
    chart.current = new EquityCurveChart(el, readChartColors(), { onHover: setHover });
    return () => {
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);
  useRecolour(chart);
  // Declared after the chart's creation: on mount it runs after it, with the chart there.
  useEffect(() => {
    chart.current?.setData(points, base);
  }, [points, base]);

  const shown = hover ?? line.at(-1) ?? null;
  return (
    <div className="stats-chart" data-testid="equity-chart" data-points={line.length}>
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
  const chart = useRef<PnlHistogramChart | null>(null);
  const [hover, setHover] = useState<ChartPoint | null>(null);
  const bars = useMemo(() => periodBars(periods), [periods]);

  useEffect(() => {
    const el = canvasRef.current;
    if (!el) return;
    chart.current = new PnlHistogramChart(el, readChartColors(), { onHover: setHover });
    return () => {
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);
  useRecolour(chart);
  useEffect(() => {
    chart.current?.setData(periods);
  }, [periods]);

  const last = bars.at(-1);
  const shown = hover ? { ...hover, period: bars.find((b) => b.time === hover.time)?.period ?? '' } : last ?? null;
  return (
    <div className="stats-chart" data-testid="pnl-histogram" data-bars={bars.length}>
      <div className="stats-chart-head">
        <span className="stats-chart-title">PnL per {PERIOD_WORD[period]}</span>
        {shown ? (
          <span className="stats-chart-value">
            <span className="mono muted">{shown.period}</span> <b className={pnlTone(shown.value)}>{formatPnl(shown.value)}</b>
          </span>
        ) : null}
      </div>
      <div className="stats-chart-canvas" ref={canvasRef} />
      {periods.length === 0 ? <div className="stats-chart-empty">No closed trade in the filter.</div> : null}
    </div>
  );
}
