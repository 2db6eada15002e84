import { useEffect } from 'react';
import { useTheme } from '../stores/theme.js';
import { readChartColors, type ChartColors } from './chartTheme.js';

/** Recolours a chart when the theme or the rise/fall convention changes (every chart of the app). */
export function useRecolour(chart: { current: { setColors(c: ChartColors): void } | null }): void {
  const theme = useTheme((s) => s.theme);
  const upColor = useTheme((s) => s.upColor);
  useEffect(() => {
    chart.current?.setColors(readChartColors());
  }, [chart, theme, upColor]);
}
