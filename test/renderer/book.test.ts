import { beforeEach, describe, expect, it } from 'vitest';
import { restoreText } from '../../src/renderer/components/BookStrip.js';
import { markersFor } from '../../src/renderer/chart/klineChart.js';
import { mergeMarkers, tradeMarkersFor, type TradeRow } from '../../src/renderer/chart/tradeMarkers.js';
import { formatMoney, moneyTone } from '../../src/renderer/lib/money.js';
import { defaultComparison, toggleVariant } from '../../src/renderer/stores/compare.js';
import { killSwitchState } from '../../src/renderer/stores/halt.js';
import { mergeTrades, useTrading } from '../../src/renderer/stores/trading.js';
import type { VariantSummary, VariantUpdate } from '../../src/shared/api.js';
import { parseDatetime } from '../../src/shared/time.js';

const t = (text: string): number => parseDatetime(text) as number;
const colors = { tradeBuy: 'B', tradeSell: 'S', up: 'UP', down: 'DOWN', mark13: 'M13' };

function fill(id: string, time: string, side: 'buy' | 'sell', offset: 'open' | 'close', price: number, volume = 1): TradeRow {
  return { id, vtSymbol: 'rb9999.SIM', side, offset, price, volume, time: t(time), pnl: offset === 'close' ? 12.5 : null, commission: 0 };
}

const RB15 = { vtSymbol: 'rb9999.SIM', windowMinutes: 15 };

describe('trade markers', () => {
  it('marks each fill on the window it happened in: buys under, sells over, opens and closes told apart', () => {
    const bars = new Set([t('2026-01-05 09:00:00'), t('2026-01-05 09:15:00'), t('2026-01-05 09:30:00')]);
    const markers = tradeMarkersFor(
      [
        fill('t1', '2026-01-05 09:03:00', 'buy', 'open', 3601),
        fill('t2', '2026-01-05 09:16:00', 'sell', 'close', 3620.5),
        // Two fills of one side and offset on one bar share a marker.
        fill('t3', '2026-01-05 09:31:00', 'sell', 'open', 3610),
        fill('t4', '2026-01-05 09:44:00', 'sell', 'open', 3612, 2),
        // No bar for it on this chart (before its history): left out.
        fill('t0', '2026-01-05 08:59:00', 'buy', 'open', 3590),
        // Another instrument of the variant: on its own chart, not this one.
        { ...fill('m1', '2026-01-05 09:17:00', 'buy', 'open', 3105), vtSymbol: 'm9999.SIM' },
      ],
      RB15,
      (time) => bars.has(time),
      colors,
    );
    expect(markers.map((m) => [m.time, m.position, m.shape, m.color, m.text])).toEqual([
      [t('2026-01-05 09:00:00'), 'belowBar', 'arrowUp', 'B', 'Open 1@3601'],
      [t('2026-01-05 09:15:00'), 'aboveBar', 'arrowDown', 'S', 'Close 1@3620.5'],
      [t('2026-01-05 09:30:00'), 'aboveBar', 'arrowDown', 'S', 'Open 3@3610/3612'],
    ]);
    // On a 30-minute chart the first two fills fall in one window, on different sides.
    const thirty = tradeMarkersFor([fill('t1', '2026-01-05 09:03:00', 'buy', 'open', 3601), fill('t2', '2026-01-05 09:16:00', 'sell', 'close', 3620)], { ...RB15, windowMinutes: 30 }, () => true, colors);
    expect(thirty.map((m) => [m.time, m.position])).toEqual([
      [t('2026-01-05 09:00:00'), 'aboveBar'],
      [t('2026-01-05 09:00:00'), 'belowBar'],
    ]);
  });

  it('merges TD and trade markers into one list in time order, TD marks first on a shared bar', () => {
    const td = markersFor(
      [
        { time: 120, side: 'buy', kind: 9, price: 1 },
        { time: 360, side: 'sell', kind: 13, price: 1 },
      ],
      colors,
    );
    const fills = tradeMarkersFor([fill('a', '1970-01-01 00:02:30', 'buy', 'open', 5), fill('b', '1970-01-01 00:04:00', 'sell', 'close', 6)], { ...RB15, windowMinutes: 1 }, () => true, colors);
    const merged = mergeMarkers(td, fills);
    expect(merged.map((m) => [m.time, m.text])).toEqual([
      [120, '9'],
      [120, 'Open 1@5'],
      [240, 'Close 1@6'],
      [360, '13'],
    ]);
  });
});

describe('trading book store', () => {
  beforeEach(() => useTrading.setState({ books: {} }));

  const summary = (updatedAt: string): VariantSummary => ({
    variant: 'v',
    strategy: 'macd-td',
    status: 'running',
    pid: 1,
    updatedAt,
    lastBarAt: null,
    vtSymbol: 'rb9999.SIM',
    windowMinutes: 15,
    source: 'simulated',
    restarts: 0,
    external: false,
    halted: false,
    message: null,
  });
  const update = (updatedAt: string, trades: TradeRow[], unrealized: number): VariantUpdate => ({
    summary: summary(updatedAt),
    instruments: [],
    trading: {
      positions: [{ vtSymbol: 'rb9999.SIM', direction: 'long', volume: 1, avgPrice: 3600, unrealizedPnl: unrealized }],
      orders: [],
      pnl: { realized: 0, unrealized, today: unrealized },
      counters: { opensToday: 1 },
      recentTrades: trades,
      restore: null,
    },
  });

  it('merges the few fills each update carries into the ones known, by id, oldest first, bounded', () => {
    const a = fill('a', '2026-01-05 09:03:00', 'buy', 'open', 1);
    const b = fill('b', '2026-01-05 09:05:00', 'sell', 'close', 2);
    const c = fill('c', '2026-01-05 09:07:00', 'buy', 'open', 3);
    expect(mergeTrades([a, b], [b, c]).map((x) => x.id)).toEqual(['a', 'b', 'c']);
    expect(mergeTrades([c], [a, b], 2).map((x) => x.id)).toEqual(['b', 'c']);
  });

  it('keeps the newest book: an update older than what is shown is ignored', () => {
    const s = useTrading.getState();
    s.applyUpdate(update('2026-01-05T01:00:02.000Z', [fill('a', '2026-01-05 09:03:00', 'buy', 'open', 1)], -5));
    s.applyUpdate(update('2026-01-05T01:00:01.000Z', [], 99));
    const book = useTrading.getState().books.v;
    expect(book?.pnl.unrealized).toBe(-5);
    const trades = book?.recentTrades;
    useTrading.getState().applyUpdate(update('2026-01-05T01:00:03.000Z', [fill('a', '2026-01-05 09:03:00', 'buy', 'open', 1)], -7));
    // Same fills: the same array, so the chart does not redraw its markers.
    expect(useTrading.getState().books.v?.recentTrades).toBe(trades);
    expect(useTrading.getState().books.v?.pnl.unrealized).toBe(-7);
  });
});

describe('kill switch state and the comparison picker', () => {
  const s = (variant: string, status: VariantSummary['status'], vtSymbol: string, external = false): VariantSummary => ({
    variant,
    strategy: 'macd-td',
    status,
    pid: null,
    updatedAt: null,
    lastBarAt: null,
    vtSymbol,
    windowMinutes: 15,
    source: null,
    restarts: 0,
    external,
    // The status says halted for a halted running worker; a degraded one keeps its status.
    halted: status === 'halted',
    message: null,
  });

  it('counts halted variants among the live supervised ones', () => {
    expect(killSwitchState([s('a', 'running', 'x'), s('b', 'halted', 'x'), s('c', 'stopped', 'x')])).toEqual({ live: 2, halted: 1, state: 'partial' });
    expect(killSwitchState([s('a', 'halted', 'x'), s('b', 'halted', 'x'), s('e', 'running', 'x', true)])).toEqual({ live: 2, halted: 2, state: 'on' });
    expect(killSwitchState([s('a', 'crashed', 'x')])).toEqual({ live: 0, halted: 0, state: 'off' });
    // A degraded variant under the kill switch counts as halted although its status says degraded.
    expect(killSwitchState([{ ...s('a', 'degraded', 'x'), halted: true }, s('b', 'halted', 'x')])).toEqual({ live: 2, halted: 2, state: 'on' });
  });

  it('compares the variants of the first variant\u2019s instrument by default; toggling keeps the list order', () => {
    const summaries = { a15: s('a15', 'running', 'rb.SIM'), i15: s('i15', 'running', 'i.SIM'), a30: s('a30', 'running', 'rb.SIM') };
    const order = ['a15', 'i15', 'a30'];
    expect(defaultComparison(order, summaries)).toEqual(['a15', 'a30']);
    expect(defaultComparison(['i15', 'a15'], summaries)).toEqual(['i15', 'a15']);
    expect(defaultComparison([], summaries)).toEqual([]);
    expect(toggleVariant(['a15', 'a30'], 'i15', order)).toEqual(['a15', 'i15', 'a30']);
    expect(toggleVariant(['a15', 'a30'], 'a15', order)).toEqual(['a30']);
    expect(toggleVariant(['a30'], 'a30', order)).toEqual(['a30']);
  });
});

describe('book formatting', () => {
  it('prints money signed, grouped, two decimals, and never "-0.00"', () => {
    expect(formatMoney(12345.6)).toBe('+12,345.60');
    expect(formatMoney(-80)).toBe('\u221280.00');
    expect(formatMoney(-0.004)).toBe('0.00');
    expect(formatMoney(null)).toBe('\u2014');
    expect([moneyTone(1), moneyTone(-1), moneyTone(0.001)]).toEqual(['up', 'down', '']);
  });

  it('says how the worker restored in one line', () => {
    expect(
      restoreText({
        phase: 'done',
        minuteBarsReplayed: 9000,
        windowBarsRestored: 600,
        message: null,
        finishedAt: null,
        suppressedDecisions: 3,
        from: 'state',
      }),
    ).toBe('Restored from saved state \u00b7 9,000 min bars replayed \u00b7 600 window bars \u00b7 3 suppressed');
    expect(restoreText(null)).toBe('Restore: \u2014');
  });
});
