import { useEffect, useRef } from 'react';
import { createChart, LineSeries, type IChartApi, type ISeriesApi, type Time, type UTCTimestamp } from 'lightweight-charts';
import type { UsageSample } from '../../shared/allocation.js';
import { readChartColors } from './chartTheme.js';

const PALETTE = ['#4e9af1', '#f1a84e', '#6cc070', '#c06cc0', '#e06060', '#60c0c0'];

/** The group's use over time: the total and each symbol, one line each (lightweight-charts). */
export function AllocationUsageChart({ usage, symbols }: { usage: readonly UsageSample[]; symbols: readonly string[] }) {
  const container = useRef<HTMLDivElement | null>(null);
  const chart = useRef<IChartApi | null>(null);
  const lines = useRef(new Map<string, ISeriesApi<'Line'>>());

  useEffect(() => {
    const el = container.current;
    if (!el) return;
    const colors = readChartColors();
    const c = createChart(el, {
      autoSize: true,
      layout: { background: { color: colors.background }, textColor: colors.text, fontFamily: colors.fontFamily, fontSize: 10, attributionLogo: false },
      grid: { vertLines: { visible: false }, horzLines: { color: colors.grid } },
      rightPriceScale: { borderColor: colors.border },
      timeScale: { borderColor: colors.border, timeVisible: true, secondsVisible: true },
    });
    chart.current = c;
    const series = lines.current;
    return () => {
      series.clear();
      c.remove();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    const names = ['total', ...symbols];
    names.forEach((name, i) => {
      let s = lines.current.get(name);
      if (!s) {
        s = c.addSeries(LineSeries, { color: name === 'total' ? readChartColors().text : (PALETTE[(i - 1) % PALETTE.length] as string), lineWidth: name === 'total' ? 2 : 1, title: name, priceLineVisible: false });
        lines.current.set(name, s);
      }
      s.setData(usage.map((u) => ({ time: u.time as UTCTimestamp as Time, value: name === 'total' ? u.globalUsed : (u.used[name] ?? 0) })));
    });
  }, [usage, symbols]);

  return <div className="allocation-chart" ref={container} data-testid="allocation-chart" />;
}
