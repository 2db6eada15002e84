import {
  BaselineSeries,
  CrosshairMode,
  HistogramSeries,
  LineStyle,
  createChart,
  type AutoscaleInfo,
  type HistogramData,
  type IChartApi,
  type ISeriesApi,
  type LineData,
  type MouseEventParams,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import type { EquityPointRow, TradePeriodRow } from '../../shared/contract/trades.js';
import { parseDatetime } from '../../shared/time.js';
import { formatBarTime } from '../lib/format.js';
import { formatMoney } from '../lib/tradeFormat.js';
import type { ChartColors } from './chartTheme.js';

/**
 * The Trades screen's two small charts: the realised equity curve (a baseline series: above
 * the start in the rise colour, below it in the fall colour) and the PnL per period (a
 * histogram coloured by sign). Both draw the API's numbers; the only thing done here is what
 * a time axis needs (one value per time).
 */

export interface ChartPoint {
  time: number;
  value: number;
}

const asTime = (t: number): UTCTimestamp => t as UTCTimestamp;

/**
 * A chart time axis holds one value per time, strictly increasing; several closing fills at
 * one minute (a reversal, two variants) leave the equity where the last of them did.
 */
export function equityLine(points: readonly EquityPointRow[]): ChartPoint[] {
  const out: ChartPoint[] = [];
  for (const p of points) {
    const last = out.at(-1);
    if (last && p.time <= last.time) last.value = p.equity;
    else out.push({ time: p.time, value: p.equity });
  }
  return out;
}

/** Each period at its first calendar day (local-as-UTC midnight). */
export function periodBars(periods: readonly TradePeriodRow[]): (ChartPoint & { period: string })[] {
  const out: (ChartPoint & { period: string })[] = [];
  for (const p of periods) {
    const time = parseDatetime(`${p.start} 00:00:00`);
    if (time === null || (out.length > 0 && time <= (out.at(-1)?.time ?? 0))) continue;
    out.push({ time, value: p.pnl, period: p.period });
  }
  return out;
}

/** '#rrggbb' or 'rgb(…)' with an alpha; anything else is returned as it is. */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(color.trim());
  if (hex?.[1]) {
    const n = parseInt(hex[1], 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  const rgb = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(color.trim());
  if (rgb) return `rgba(${rgb[1]}, ${rgb[2]}, ${rgb[3]}, ${alpha})`;
  return color;
}

export interface StatsChartCallbacks {
  /** The point under the crosshair, or null when the pointer leaves. */
  onHover(point: ChartPoint | null): void;
}

abstract class StatsChartBase {
  protected readonly chart: IChartApi;
  protected colors: ChartColors;
  private readonly onCrosshair = (param: MouseEventParams<Time>): void => {
    if (param.time === undefined || param.point === undefined) {
      this.callbacks.onHover(null);
      return;
    }
    const time = Number(param.time);
    const value = this.valueAt(time);
    this.callbacks.onHover(value === null ? null : { time, value });
  };

  constructor(
    container: HTMLElement,
    colors: ChartColors,
    private readonly callbacks: StatsChartCallbacks,
    timeLabel: (time: number) => string,
    timeVisible: boolean,
  ) {
    this.colors = colors;
    this.chart = createChart(container, {
      autoSize: true,
      layout: {
        background: { color: colors.background },
        textColor: colors.text,
        fontSize: 10,
        fontFamily: colors.fontFamily,
        // As on the K-line: the logo needs an inline <style>, which the CSP forbids; attribution is in the help panel.
        attributionLogo: false,
      },
      grid: { vertLines: { visible: false }, horzLines: { color: colors.grid } },
      crosshair: {
        mode: CrosshairMode.Magnet,
        vertLine: { color: colors.crosshair, style: LineStyle.Dashed, labelBackgroundColor: colors.border },
        horzLine: { color: colors.crosshair, style: LineStyle.Dashed, labelBackgroundColor: colors.border },
      },
      rightPriceScale: { borderColor: colors.border, minimumWidth: 64, scaleMargins: { top: 0.1, bottom: 0.08 } },
      // A handful of points must not be stretched over the whole width (one day's bar a third of the chart).
      timeScale: { borderColor: colors.border, timeVisible, secondsVisible: false, rightOffset: 2, minBarSpacing: 0.2, maxBarSpacing: 24 },
      localization: {
        timeFormatter: (time: Time) => timeLabel(Number(time)),
        // Money as the tables print it; whole units once the amounts are large (a capital of 1,000,000).
        priceFormatter: (price: number) => formatMoney(price, Math.abs(price) >= 100_000 ? 0 : 2),
      },
      handleScale: { axisPressedMouseMove: false },
    });
    this.chart.subscribeCrosshairMove(this.onCrosshair);
  }

  protected abstract valueAt(time: number): number | null;

  setColors(colors: ChartColors): void {
    this.colors = colors;
    this.chart.applyOptions({
      layout: { background: { color: colors.background }, textColor: colors.text, fontFamily: colors.fontFamily },
      grid: { horzLines: { color: colors.grid } },
      rightPriceScale: { borderColor: colors.border },
      timeScale: { borderColor: colors.border },
    });
  }

  dispose(): void {
    this.chart.unsubscribeCrosshairMove(this.onCrosshair);
    this.chart.remove();
  }
}

export class EquityCurveChart extends StatsChartBase {
  private readonly series: ISeriesApi<'Baseline'>;
  private readonly values = new Map<number, number>();
  private base = 0;

  constructor(container: HTMLElement, colors: ChartColors, callbacks: StatsChartCallbacks) {
    super(container, colors, callbacks, (t) => formatBarTime(t), true);
    this.series = this.chart.addSeries(BaselineSeries, {
      lineWidth: 2,
      priceLineVisible: false,
      lastValueVisible: true,
      // The start (capital or 0) stays in view: a curve is read against where it began.
      autoscaleInfoProvider: (original: () => AutoscaleInfo | null): AutoscaleInfo | null => {
        const info = original();
        if (!info?.priceRange) return info;
        const { minValue, maxValue } = info.priceRange;
        return { ...info, priceRange: { minValue: Math.min(minValue, this.base), maxValue: Math.max(maxValue, this.base) } };
      },
    });
    this.paint();
  }

  /** `base`: where the curve starts (the capital, or 0); above it is a gain. */
  setData(points: readonly EquityPointRow[], base: number): ChartPoint[] {
    const line = equityLine(points);
    this.values.clear();
    for (const p of line) this.values.set(p.time, p.value);
    this.base = base;
    this.paint();
    // With a few points a line alone hardly shows; each closing fill gets a dot then.
    this.series.applyOptions({ pointMarkersVisible: line.length <= 60 });
    this.series.setData(line.map((p): LineData<Time> => ({ time: asTime(p.time), value: p.value })));
    this.chart.timeScale().fitContent();
    return line;
  }

  override setColors(colors: ChartColors): void {
    super.setColors(colors);
    this.paint();
  }

  protected valueAt(time: number): number | null {
    return this.values.get(time) ?? null;
  }

  private paint(): void {
    const { up, down } = this.colors;
    this.series.applyOptions({
      baseValue: { type: 'price', price: this.base },
      topLineColor: up,
      topFillColor1: withAlpha(up, 0.28),
      topFillColor2: withAlpha(up, 0.04),
      bottomLineColor: down,
      bottomFillColor1: withAlpha(down, 0.04),
      bottomFillColor2: withAlpha(down, 0.28),
    });
  }
}

export class PnlHistogramChart extends StatsChartBase {
  private readonly series: ISeriesApi<'Histogram'>;
  private readonly values = new Map<number, number>();
  private readonly labels: Map<number, string>;
  private bars: (ChartPoint & { period: string })[] = [];

  constructor(container: HTMLElement, colors: ChartColors, callbacks: StatsChartCallbacks) {
    const labels = new Map<number, string>();
    super(container, colors, callbacks, (t) => labels.get(t) ?? formatBarTime(t).slice(0, 10), false);
    this.labels = labels;
    this.series = this.chart.addSeries(HistogramSeries, { priceLineVisible: false, lastValueVisible: false, base: 0 });
  }

  setData(periods: readonly TradePeriodRow[]): ChartPoint[] {
    this.bars = periodBars(periods);
    this.values.clear();
    this.labels.clear();
    for (const b of this.bars) {
      this.values.set(b.time, b.value);
      this.labels.set(b.time, b.period);
    }
    this.draw();
    this.chart.timeScale().fitContent();
    return this.bars;
  }

  override setColors(colors: ChartColors): void {
    super.setColors(colors);
    this.draw();
  }

  protected valueAt(time: number): number | null {
    return this.values.get(time) ?? null;
  }

  private draw(): void {
    const { up, down } = this.colors;
    this.series.setData(
      this.bars.map((b): HistogramData<Time> => ({ time: asTime(b.time), value: b.value, color: b.value >= 0 ? up : down })),
    );
  }
}
