import {
  CandlestickSeries,
  CrosshairMode,
  HistogramSeries,
  LineSeries,
  LineStyle,
  createChart,
  createSeriesMarkers,
  type CandlestickData,
  type HistogramData,
  type IChartApi,
  type IPriceLine,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type LineData,
  type LogicalRange,
  type MouseEventParams,
  type IRange,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
  type WhitespaceData,
} from 'lightweight-charts';
import type { BarPoint, TdMark } from '../../shared/snapshot.js';
import { formatBarTime, pricePrecisionOf } from '../lib/format.js';
import { ChartModel, type HoverPoint, type LiveBars, type UpdatePlan } from './chartModel.js';
import type { ChartColors } from './chartTheme.js';
import { shiftLogicalRange, type TimeRange } from './timeLink.js';
import { mergeMarkers, tradeMarkersFor, type TradeRow } from './tradeMarkers.js';

/** The MACD pane's share of the height, against 1 for the price pane. */
const MACD_STRETCH = 0.38;
/** Older history is asked for when the first visible bar comes this close to the left edge. */
export const NEAR_START_BARS = 20;

export interface ChartInstrument extends LiveBars {
  readonly vtSymbol: string;
  readonly windowMinutes: number;
  readonly marks: readonly TdMark[];
}

export interface LiveInstrument extends LiveBars {
  readonly vtSymbol: string;
  readonly marks: readonly TdMark[];
}

export interface ChartCallbacks {
  /** The bar under the crosshair, or the last bar when the pointer leaves. */
  onHover(point: HoverPoint | null): void;
  /** Pixel offset of the MACD pane from the chart's top, when panes are laid out. */
  onLayout(macdTop: number): void;
  /** The first visible bar is near the left edge: older history is wanted. */
  onNearStart?(visibleBars: number): void;
  /** The trader's crosshair moved to a bar (its time), or left the chart (null). */
  onCrosshairTime?(time: number | null): void;
  /** The visible time range changed (scroll, zoom, new data). */
  onTimeRange?(range: TimeRange | null): void;
}

export interface ChartCounts {
  barCount: number;
  lastTime: number | null;
  macdPoints: number;
  markerCount: number;
  tradeMarkerCount: number;
  /** Live candles drawn with series.update() since the chart was created. */
  seriesUpdates: number;
}

/** A horizontal line over the candles from the strategy's display: a grid level, or a resting order. */
export interface StrategyLine {
  price: number;
  title: string;
  kind: 'level' | 'buy' | 'sell';
}

export interface PositionLine {
  direction: 'long' | 'short';
  volume: number;
  avgPrice: number;
}

const asTime = (t: number): UTCTimestamp => t as UTCTimestamp;

function lineOrGap(time: number, value: number | null): LineData<Time> | WhitespaceData<Time> {
  return value === null ? { time: asTime(time) } : { time: asTime(time), value };
}

/**
 * TD marks as series markers: sell marks above the high, buy marks below the low. A setup 9
 * and a countdown 13 completing on the same bar and side share one marker ("9·13"), or their
 * texts would print over each other.
 */
export function markersFor(marks: readonly TdMark[], colors: Pick<ChartColors, 'up' | 'down' | 'mark13'>): SeriesMarker<Time>[] {
  const byBar = new Map<string, { time: number; side: TdMark['side']; kinds: Set<9 | 13> }>();
  for (const m of marks) {
    const key = `${m.time}:${m.side}`;
    const entry = byBar.get(key) ?? { time: m.time, side: m.side, kinds: new Set<9 | 13>() };
    entry.kinds.add(m.kind);
    byBar.set(key, entry);
  }
  return [...byBar.values()]
    .sort((a, b) => a.time - b.time || (a.side === b.side ? 0 : a.side === 'buy' ? -1 : 1))
    .map(({ time, side, kinds }) => {
      const sell = side === 'sell';
      const has13 = kinds.has(13);
      return {
        time: asTime(time),
        position: sell ? 'aboveBar' : 'belowBar',
        shape: sell ? 'arrowDown' : 'arrowUp',
        color: has13 ? colors.mark13 : sell ? colors.down : colors.up,
        text: kinds.has(9) && has13 ? '9·13' : has13 ? '13' : '9',
        size: has13 ? 1 : 0.6,
        id: `${side}-${time}`,
      };
    });
}

/**
 * One K-line chart: candles and EMA fast/slow on the price pane, MACD (dif, dea and the
 * signed histogram) on a second pane of the same chart, TD 9/13 as series markers. Loaded
 * once with setData; live updates go through series.update() only, as ChartModel plans.
 */
export class KlineChart {
  private readonly chart: IChartApi;
  private readonly candles: ISeriesApi<'Candlestick'>;
  private readonly emaFast: ISeriesApi<'Line'>;
  private readonly emaSlow: ISeriesApi<'Line'>;
  private readonly dif: ISeriesApi<'Line'>;
  private readonly dea: ISeriesApi<'Line'>;
  private readonly macd: ISeriesApi<'Histogram'>;
  private readonly markers: ISeriesMarkersPluginApi<Time>;
  private readonly model = new ChartModel();
  private colors: ChartColors;
  private instrument: { vtSymbol: string; windowMinutes: number } | null = null;
  private macdPoints = 0;
  private pricePrecision = 2;
  private disposed = false;
  private trades: readonly TradeRow[] = [];
  private tradeMarkerCount = 0;
  private position: PositionLine | null = null;
  private priceLine: IPriceLine | null = null;
  private strategyLines: IPriceLine[] = [];
  private strategyLinesKey = '';
  private seriesUpdates = 0;
  /** The bar the crosshair is on (the trader's, or a linked chart's); null: the legend follows the last bar. */
  private hoverTime: number | null = null;
  private readonly onCrosshair = (param: MouseEventParams<Time>): void => {
    if (param.time === undefined || param.point === undefined) {
      this.hoverTime = null;
      this.callbacks.onHover(this.model.lastPoint());
      this.callbacks.onCrosshairTime?.(null);
      return;
    }
    this.hoverTime = Number(param.time);
    const point = this.model.pointAt(Number(param.time));
    this.callbacks.onHover(point ? { ...point, marks: this.model.marksAt(point.bar.time) } : null);
    this.callbacks.onCrosshairTime?.(Number(param.time));
  };
  private readonly onLogicalRange = (range: LogicalRange | null): void => {
    if (range === null || this.model.barCount === 0) return;
    if (range.from < NEAR_START_BARS) this.callbacks.onNearStart?.(range.to - range.from);
  };
  private readonly onTimeRange = (range: IRange<Time> | null): void => {
    this.callbacks.onTimeRange?.(range === null ? null : { from: Number(range.from), to: Number(range.to) });
  };
  private readonly onResize = (): void => this.reportLayout();
  private readonly resizeObserver: ResizeObserver;

  constructor(
    private readonly container: HTMLElement,
    colors: ChartColors,
    private readonly callbacks: ChartCallbacks,
  ) {
    this.colors = colors;
    this.chart = createChart(container, {
      autoSize: true,
      layout: {
        background: { color: colors.background },
        textColor: colors.text,
        fontSize: 11,
        fontFamily: colors.fontFamily,
        // Attribution is given in the help panel instead: the logo needs an inline <style>, which our CSP forbids.
        attributionLogo: false,
        panes: { separatorColor: colors.border, separatorHoverColor: colors.grid, enableResize: true },
      },
      grid: { vertLines: { color: colors.grid }, horzLines: { color: colors.grid } },
      crosshair: {
        mode: CrosshairMode.Normal,
        vertLine: { color: colors.crosshair, style: LineStyle.Dashed, labelBackgroundColor: colors.border },
        horzLine: { color: colors.crosshair, style: LineStyle.Dashed, labelBackgroundColor: colors.border },
      },
      rightPriceScale: { borderColor: colors.border, minimumWidth: 64 },
      timeScale: {
        borderColor: colors.border,
        timeVisible: true,
        secondsVisible: false,
        rightOffset: 4,
        barSpacing: 7,
        minBarSpacing: 1,
      },
      // Bar times are exchange-local read as UTC: print them as they are.
      localization: { timeFormatter: (time: Time) => formatBarTime(Number(time)) },
    });
    this.candles = this.chart.addSeries(CandlestickSeries, {
      upColor: colors.up,
      downColor: colors.down,
      borderUpColor: colors.up,
      borderDownColor: colors.down,
      wickUpColor: colors.up,
      wickDownColor: colors.down,
      priceLineVisible: true,
    });
    const indicatorLine = { lineWidth: 1, priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false } as const;
    this.emaFast = this.chart.addSeries(LineSeries, { ...indicatorLine, color: colors.emaFast, title: '' });
    this.emaSlow = this.chart.addSeries(LineSeries, { ...indicatorLine, color: colors.emaSlow, title: '' });
    this.macd = this.chart.addSeries(HistogramSeries, { priceLineVisible: false, lastValueVisible: false }, 1);
    this.dif = this.chart.addSeries(LineSeries, { ...indicatorLine, color: colors.dif }, 1);
    this.dea = this.chart.addSeries(LineSeries, { ...indicatorLine, color: colors.dea }, 1);
    this.chart.panes()[1]?.setStretchFactor(MACD_STRETCH);
    // The default 20 % headroom wastes a fifth of the price pane; the legend needs only a line.
    this.chart.priceScale('right', 0).applyOptions({ scaleMargins: { top: 0.07, bottom: 0.05 } });
    this.chart.priceScale('right', 1).applyOptions({ scaleMargins: { top: 0.14, bottom: 0.06 } });
    this.markers = createSeriesMarkers(this.candles, [], { autoScale: true });
    this.chart.subscribeCrosshairMove(this.onCrosshair);
    this.chart.timeScale().subscribeVisibleLogicalRangeChange(this.onLogicalRange);
    this.chart.timeScale().subscribeVisibleTimeRangeChange(this.onTimeRange);
    this.resizeObserver = new ResizeObserver(this.onResize);
    this.resizeObserver.observe(container);
  }

  /** Decimals for prices and for the MACD oscillator, as the axes show them. */
  get precision(): { price: number; oscillator: number } {
    return { price: this.pricePrecision, oscillator: Math.min(this.pricePrecision + 2, 6) };
  }

  get vtSymbol(): string | null {
    return this.instrument?.vtSymbol ?? null;
  }

  get windowMinutes(): number | null {
    return this.instrument?.windowMinutes ?? null;
  }

  /** Time of the first candle: older history ends before it. */
  get firstTime(): number | null {
    return this.model.firstTime;
  }

  counts(): ChartCounts {
    return {
      // The model mirrors the series; reading series.data() would copy every point.
      barCount: this.model.barCount,
      lastTime: this.model.lastTime,
      macdPoints: this.macdPoints,
      markerCount: this.markers.markers().length,
      tradeMarkerCount: this.tradeMarkerCount,
      seriesUpdates: this.seriesUpdates,
    };
  }

  /**
   * Full (re)load from a snapshot: with `prepend`, the only places setData is called. Older
   * history loaded before is kept in front when the instrument is the same.
   */
  load(instrument: ChartInstrument): void {
    const same =
      this.instrument !== null &&
      this.instrument.vtSymbol === instrument.vtSymbol &&
      this.instrument.windowMinutes === instrument.windowMinutes;
    const firstNew = [...instrument.recent, ...(instrument.forming ? [instrument.forming] : [])].reduce(
      (min, b) => Math.min(min, b.time),
      Number.POSITIVE_INFINITY,
    );
    const kept = same ? this.model.closedBars.filter((b) => b.time < firstNew) : [];
    const keptMarks = same ? this.model.visibleMarks().filter((m) => m.time < firstNew) : [];
    this.instrument = { vtSymbol: instrument.vtSymbol, windowMinutes: instrument.windowMinutes };
    this.model.reset(instrument.recent, instrument.forming, instrument.marks);
    if (kept.length > 0) this.model.prepend(kept, keptMarks);
    this.drawAll(true);
    this.callbacks.onHover(this.legendPoint());
    this.reportLayout();
  }

  /**
   * Older bars (history on demand) in front of the series. lightweight-charts can only
   * prepend through setData, so everything is set again and the visible logical range is
   * moved by the number of bars added: the bars in view stay where they are.
   */
  prepend(older: readonly BarPoint[], marks: readonly TdMark[]): number {
    const range = this.chart.timeScale().getVisibleLogicalRange();
    const added = this.model.prepend(older, marks);
    if (added === 0) {
      this.drawMarkers();
      return 0;
    }
    this.drawAll(false);
    if (range !== null) this.chart.timeScale().setVisibleLogicalRange(shiftLogicalRange(range, added));
    return added;
  }

  /** Fills to mark on the candles (the variant's recent trades). */
  setTrades(trades: readonly TradeRow[]): void {
    if (trades === this.trades) return;
    this.trades = trades;
    this.drawMarkers();
  }

  /**
   * The strategy's own lines (a grid's levels, its resting orders), redrawn only when they change.
   * Levels are thin and unlabelled on the axis; orders are dashed, coloured by side, with their label.
   */
  setStrategyLines(lines: readonly StrategyLine[]): void {
    const key = lines.map((l) => `${l.kind}:${String(l.price)}:${l.title}`).join('|');
    if (key === this.strategyLinesKey) return;
    this.strategyLinesKey = key;
    for (const line of this.strategyLines) this.candles.removePriceLine(line);
    this.strategyLines = lines.map((l) =>
      this.candles.createPriceLine({
        price: l.price,
        color: l.kind === 'level' ? this.colors.grid : l.kind === 'buy' ? this.colors.up : this.colors.down,
        lineWidth: 1,
        lineStyle: l.kind === 'level' ? LineStyle.Solid : LineStyle.Dashed,
        axisLabelVisible: l.kind !== 'level',
        title: l.title,
      }),
    );
  }

  get strategyLineCount(): number {
    return this.strategyLines.length;
  }

  /** The open position's average price as a line on the candles; null (flat) removes it. */
  setPosition(position: PositionLine | null): void {
    const p = this.position;
    if (p === position || (p && position && p.direction === position.direction && p.volume === position.volume && p.avgPrice === position.avgPrice)) return;
    this.position = position;
    this.drawPriceLine();
  }

  /** Crosshair on the bar holding `time` (from a linked chart, maybe of another window), legend with it. */
  showCrosshairAt(time: number | null): void {
    const windowMinutes = this.instrument?.windowMinutes;
    const point = time === null || windowMinutes === undefined ? null : this.model.pointContaining(time, windowMinutes);
    if (!point) {
      this.hoverTime = null;
      this.chart.clearCrosshairPosition();
      this.callbacks.onHover(this.model.lastPoint());
      return;
    }
    this.hoverTime = point.bar.time;
    this.chart.setCrosshairPosition(point.bar.close, asTime(point.bar.time), this.candles);
    this.callbacks.onHover({ ...point, marks: this.model.marksAt(point.bar.time) });
  }

  showTimeRange(range: TimeRange): void {
    if (this.model.barCount === 0 || !(range.to > range.from)) return;
    this.chart.timeScale().setVisibleRange({ from: asTime(range.from), to: asTime(range.to) });
  }

  hasBars(): boolean {
    return this.model.barCount > 0;
  }

  /** Whether the first visible bar is near the left edge (older history would show). */
  nearStart(): boolean {
    const range = this.chart.timeScale().getVisibleLogicalRange();
    return range !== null && this.model.barCount > 0 && range.from < NEAR_START_BARS;
  }

  get positionLineShown(): boolean {
    return this.priceLine !== null;
  }

  /** Bars in view, for sizing a history request. */
  visibleBarCount(): number {
    const range = this.chart.timeScale().getVisibleLogicalRange();
    return range === null ? 0 : Math.max(0, range.to - range.from);
  }

  /** Applies a live update; 'reload' means the caller must fetch the snapshot and load() it. */
  update(live: LiveInstrument): 'applied' | 'reload' {
    if (!this.instrument || live.vtSymbol !== this.instrument.vtSymbol) return 'reload';
    const plan: UpdatePlan = this.model.plan(live);
    if (plan.kind === 'reload') return 'reload';
    for (const bar of plan.closed) this.drawBar(bar, false);
    if (plan.forming) this.drawBar(plan.forming, true);
    this.model.commit(plan);
    if (this.model.addMarks(live.marks) || plan.closed.length > 0) this.drawMarkers();
    // A live bar must not pull the legend off the bar the crosshair is on.
    if (plan.closed.length > 0 || plan.forming) this.callbacks.onHover(this.legendPoint());
    return 'applied';
  }

  setColors(colors: ChartColors): void {
    this.colors = colors;
    this.chart.applyOptions({
      layout: {
        background: { color: colors.background },
        textColor: colors.text,
        panes: { separatorColor: colors.border, separatorHoverColor: colors.grid },
      },
      grid: { vertLines: { color: colors.grid }, horzLines: { color: colors.grid } },
      crosshair: {
        vertLine: { color: colors.crosshair, labelBackgroundColor: colors.border },
        horzLine: { color: colors.crosshair, labelBackgroundColor: colors.border },
      },
      rightPriceScale: { borderColor: colors.border },
      timeScale: { borderColor: colors.border },
    });
    this.candles.applyOptions({
      upColor: colors.up,
      downColor: colors.down,
      borderUpColor: colors.up,
      borderDownColor: colors.down,
      wickUpColor: colors.up,
      wickDownColor: colors.down,
    });
    this.emaFast.applyOptions({ color: colors.emaFast });
    this.emaSlow.applyOptions({ color: colors.emaSlow });
    this.dif.applyOptions({ color: colors.dif });
    this.dea.applyOptions({ color: colors.dea });
    // Per-point colours (forming candle, histogram sign) are baked into the data: redraw them.
    const points = this.model.points();
    this.candles.setData(points.map((p) => this.candle(p.bar, p.forming)));
    this.macd.setData(points.map((p) => this.histogram(p.bar)));
    this.drawMarkers();
    this.drawPriceLine();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.resizeObserver.disconnect();
    this.chart.unsubscribeCrosshairMove(this.onCrosshair);
    this.chart.timeScale().unsubscribeVisibleLogicalRangeChange(this.onLogicalRange);
    this.chart.timeScale().unsubscribeVisibleTimeRangeChange(this.onTimeRange);
    this.markers.detach();
    this.chart.remove();
  }

  /** What the legend shows: the bar under the crosshair, else the last one. */
  private legendPoint(): HoverPoint | null {
    const hovered = this.hoverTime === null ? null : this.model.pointAt(this.hoverTime);
    return hovered ? { ...hovered, marks: this.model.marksAt(hovered.bar.time) } : this.model.lastPoint();
  }

  private drawAll(priceFormat: boolean): void {
    const points = this.model.points();
    if (priceFormat) this.applyPriceFormat(points.slice(-200).map((p) => p.bar.close));
    this.candles.setData(points.map((p) => this.candle(p.bar, p.forming)));
    this.emaFast.setData(points.map((p) => lineOrGap(p.bar.time, p.bar.emaFast)));
    this.emaSlow.setData(points.map((p) => lineOrGap(p.bar.time, p.bar.emaSlow)));
    this.dif.setData(points.map((p) => lineOrGap(p.bar.time, p.bar.dif)));
    this.dea.setData(points.map((p) => lineOrGap(p.bar.time, p.bar.dea)));
    this.macd.setData(points.map((p) => this.histogram(p.bar)));
    this.macdPoints = points.filter((p) => p.bar.macd !== null).length;
    this.drawMarkers();
  }

  private drawBar(bar: BarPoint, forming: boolean): void {
    this.seriesUpdates += 1;
    this.candles.update(this.candle(bar, forming));
    this.emaFast.update(lineOrGap(bar.time, bar.emaFast));
    this.emaSlow.update(lineOrGap(bar.time, bar.emaSlow));
    this.dif.update(lineOrGap(bar.time, bar.dif));
    this.dea.update(lineOrGap(bar.time, bar.dea));
    const hadMacd = this.model.pointAt(bar.time)?.bar.macd ?? null;
    this.macd.update(this.histogram(bar));
    if (hadMacd === null && bar.macd !== null) this.macdPoints += 1;
    if (hadMacd !== null && bar.macd === null) this.macdPoints -= 1;
  }

  private candle(bar: BarPoint, forming: boolean): CandlestickData<Time> {
    const base: CandlestickData<Time> = {
      time: asTime(bar.time),
      open: bar.open,
      high: bar.high,
      low: bar.low,
      close: bar.close,
    };
    if (!forming) return base;
    const c = bar.close >= bar.open ? this.colors.upForming : this.colors.downForming;
    return { ...base, color: c, borderColor: c, wickColor: c };
  }

  private histogram(bar: BarPoint): HistogramData<Time> | WhitespaceData<Time> {
    if (bar.macd === null) return { time: asTime(bar.time) };
    return { time: asTime(bar.time), value: bar.macd, color: bar.macd >= 0 ? this.colors.up : this.colors.down };
  }

  private drawMarkers(): void {
    const td: SeriesMarker<Time>[] = markersFor(this.model.visibleMarks(), this.colors);
    const instrument = this.instrument;
    const fills =
      instrument === null || this.trades.length === 0
        ? []
        : tradeMarkersFor(this.trades, instrument, (t) => this.model.pointAt(t) !== null, this.colors);
    this.tradeMarkerCount = fills.length;
    this.markers.setMarkers(fills.length === 0 ? td : mergeMarkers(td, fills));
  }

  private drawPriceLine(): void {
    if (this.priceLine) {
      this.candles.removePriceLine(this.priceLine);
      this.priceLine = null;
    }
    const p = this.position;
    if (!p || p.volume === 0) return;
    this.priceLine = this.candles.createPriceLine({
      price: p.avgPrice,
      color: this.colors.position,
      lineWidth: 1,
      lineStyle: LineStyle.Dashed,
      axisLabelVisible: true,
      title: `${p.direction === 'long' ? 'Long' : 'Short'} ${p.volume} avg`,
    });
  }

  private applyPriceFormat(closes: readonly number[]): void {
    const precision = pricePrecisionOf(closes.slice(-200));
    this.pricePrecision = precision;
    const minMove = 10 ** -precision;
    this.candles.applyOptions({ priceFormat: { type: 'price', precision, minMove } });
    this.emaFast.applyOptions({ priceFormat: { type: 'price', precision, minMove } });
    this.emaSlow.applyOptions({ priceFormat: { type: 'price', precision, minMove } });
    const oscPrecision = Math.min(precision + 2, 6);
    const oscMove = 10 ** -oscPrecision;
    for (const s of [this.dif, this.dea]) s.applyOptions({ priceFormat: { type: 'price', precision: oscPrecision, minMove: oscMove } });
    this.macd.applyOptions({ priceFormat: { type: 'price', precision: oscPrecision, minMove: oscMove } });
  }

  private reportLayout(): void {
    const main = this.chart.panes()[0];
    if (!main) return;
    // The pane separator is 1 px.
    this.callbacks.onLayout(main.getHeight() + 1);
  }
}
