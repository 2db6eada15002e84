/**
 * The chart's colours come from the same CSS variables as the rest of the UI, so the theme
 * and the up/down convention switch everything at once.
 */
export interface ChartColors {
  background: string;
  text: string;
  grid: string;
  border: string;
  crosshair: string;
  up: string;
  down: string;
  /** The forming bar: the same direction colours, lighter, so it reads as provisional. */
  upForming: string;
  downForming: string;
  emaFast: string;
  emaSlow: string;
  dif: string;
  dea: string;
  mark9: string;
  mark13: string;
  /** Fills on the candles, apart from the TD arrows' up/down colours. */
  tradeBuy: string;
  tradeSell: string;
  /** The open position's average price line. */
  position: string;
  /** Canvas text cannot use CSS variables: the resolved font stack. */
  fontFamily: string;
}

const VARIABLES: Record<keyof ChartColors, string> = {
  background: '--chart-bg',
  text: '--fg-muted',
  grid: '--chart-grid',
  border: '--border',
  crosshair: '--chart-crosshair',
  up: '--up',
  down: '--down',
  upForming: '--up-forming',
  downForming: '--down-forming',
  emaFast: '--ema-fast',
  emaSlow: '--ema-slow',
  dif: '--dif',
  dea: '--dea',
  mark9: '--mark-9',
  mark13: '--mark-13',
  tradeBuy: '--trade-buy',
  tradeSell: '--trade-sell',
  position: '--position-line',
  fontFamily: '--font-ui',
};

const FALLBACK: ChartColors = {
  background: '#12161c',
  text: '#9aa4b2',
  grid: '#1e242d',
  border: '#2a313c',
  crosshair: '#6b7686',
  up: '#e5484d',
  down: '#2fb36b',
  upForming: 'rgba(229,72,77,0.45)',
  downForming: 'rgba(47,179,107,0.45)',
  emaFast: '#e0a526',
  emaSlow: '#5b8def',
  dif: '#d6d9de',
  dea: '#e0a526',
  mark9: '#9aa4b2',
  mark13: '#c77dff',
  tradeBuy: '#4c8df6',
  tradeSell: '#f08a3c',
  position: '#4c8df6',
  fontFamily: 'system-ui, sans-serif',
};

export function readChartColors(root: HTMLElement = document.documentElement): ChartColors {
  const style = getComputedStyle(root);
  const out = { ...FALLBACK };
  for (const key of Object.keys(VARIABLES) as (keyof ChartColors)[]) {
    const value = style.getPropertyValue(VARIABLES[key]).trim();
    if (value) out[key] = value;
  }
  return out;
}
