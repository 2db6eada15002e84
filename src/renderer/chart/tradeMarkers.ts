import type { SeriesMarker, Time, UTCTimestamp } from 'lightweight-charts';
import type { Snapshot } from '../../shared/snapshot.js';
import { windowStartOf } from './timeLink.js';

export type TradeRow = Snapshot['recentTrades'][number];

export interface TradeMarkerColors {
  tradeBuy: string;
  tradeSell: string;
}

function trimPrice(price: number): string {
  // Prices arrive as floats; a tick of 0.2 must not print as 3601.2000000001.
  return String(Number(price.toFixed(6)));
}

/**
 * Fills as markers on the candle of the window they happened in: buys ▲ under the bar, sells ▼
 * over it, the text saying whether it opened or closed a position. Fills of one side and
 * offset on the same bar share a marker (volume summed, prices listed once each), or their
 * texts would print over each other. Fills on a bar the chart does not hold, and fills of the
 * variant's other instruments, are left out.
 */
export function tradeMarkersFor(
  trades: readonly TradeRow[],
  chart: { vtSymbol: string; windowMinutes: number },
  hasBar: (time: number) => boolean,
  colors: TradeMarkerColors,
): SeriesMarker<Time>[] {
  const { vtSymbol, windowMinutes } = chart;
  const groups = new Map<string, { time: number; side: TradeRow['side']; offset: TradeRow['offset']; volume: number; prices: number[]; ids: string[] }>();
  for (const t of trades) {
    if (t.vtSymbol !== vtSymbol) continue;
    const time = windowStartOf(t.time, windowMinutes);
    if (!hasBar(time)) continue;
    const key = `${time}:${t.side}:${t.offset}`;
    const g = groups.get(key) ?? { time, side: t.side, offset: t.offset, volume: 0, prices: [], ids: [] };
    g.volume += t.volume;
    if (!g.prices.includes(t.price)) g.prices.push(t.price);
    g.ids.push(t.id);
    groups.set(key, g);
  }
  return [...groups.values()]
    .sort((a, b) => a.time - b.time || (a.offset === b.offset ? 0 : a.offset === 'close' ? -1 : 1))
    .map((g) => {
      const buy = g.side === 'buy';
      return {
        time: g.time as UTCTimestamp,
        position: buy ? 'belowBar' : 'aboveBar',
        shape: buy ? 'arrowUp' : 'arrowDown',
        color: buy ? colors.tradeBuy : colors.tradeSell,
        text: `${g.offset === 'open' ? 'Open' : 'Close'} ${trimPrice(g.volume)}@${g.prices.map(trimPrice).join('/')}`,
        size: 1,
        id: `trade-${g.ids.join('+')}`,
      };
    });
}

/**
 * One list for the one markers plugin: ascending time, as lightweight-charts requires. On a
 * shared bar the TD marks come first (nearest the candle), then the fills.
 */
export function mergeMarkers(td: readonly SeriesMarker<Time>[], trades: readonly SeriesMarker<Time>[]): SeriesMarker<Time>[] {
  const out: SeriesMarker<Time>[] = [];
  let i = 0;
  let j = 0;
  while (i < td.length || j < trades.length) {
    const a = td[i];
    const b = trades[j];
    if (b === undefined || (a !== undefined && Number(a.time) <= Number(b.time))) {
      out.push(a as SeriesMarker<Time>);
      i += 1;
    } else {
      out.push(b);
      j += 1;
    }
  }
  return out;
}
