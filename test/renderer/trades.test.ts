import { describe, expect, it } from 'vitest';
import { equityLine, periodBars, withAlpha } from '../../src/renderer/chart/statsChart.js';
import { formatMoney, formatPnl, formatQuantity, formatRatio, formatSharpe, pnlTone } from '../../src/renderer/lib/tradeFormat.js';
import { csvField, csvFileName, tradesCsv } from '../../src/renderer/lib/tradesCsv.js';
import { EMPTY_FILTER, filterParams, formatViewQuery, parseViewQuery } from '../../src/renderer/stores/trades.js';
import { parseHash } from '../../src/renderer/stores/navigation.js';
import type { Trade } from '../../src/shared/contract/trades.js';

const OPEN: Trade = {
  id: 'rb-15m-T1',
  variant: 'rb-15m',
  vtSymbol: 'rb2505.SHFE',
  side: 'buy',
  offset: 'open',
  price: 3612.5,
  volume: 2,
  time: 1_736_154_000,
  datetime: '2025-01-06 09:00:00',
  commission: 1.25,
  pnl: null,
  tradingDay: '2025-01-06',
};
const CLOSE: Trade = {
  ...OPEN,
  id: 'rb-15m-T2',
  side: 'sell',
  offset: 'close',
  price: 3590,
  time: 1_736_176_200,
  datetime: '2025-01-06 21:10:00',
  commission: 1.25,
  pnl: -47.5,
  tradingDay: '2025-01-07',
};

describe('tradesCsv', () => {
  it('writes a header and one line per fill, numbers as they are, an empty field for an opening fill’s pnl', () => {
    expect(tradesCsv([OPEN, CLOSE])).toBe(
      'id,variant,vtSymbol,datetime,tradingDay,side,offset,price,volume,commission,pnl\r\n' +
        'rb-15m-T1,rb-15m,rb2505.SHFE,2025-01-06 09:00:00,2025-01-06,buy,open,3612.5,2,1.25,\r\n' +
        'rb-15m-T2,rb-15m,rb2505.SHFE,2025-01-06 21:10:00,2025-01-07,sell,close,3590,2,1.25,-47.5\r\n',
    );
  });

  it('keeps full precision and quotes only what needs quoting', () => {
    const odd: Trade = { ...CLOSE, variant: 'a,"b"', price: 0.1 + 0.2, pnl: 1234567.891 };
    const line = tradesCsv([odd]).split('\r\n')[1];
    expect(line).toBe('rb-15m-T2,"a,""b""",rb2505.SHFE,2025-01-06 21:10:00,2025-01-07,sell,close,0.30000000000000004,2,1.25,1234567.891');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(tradesCsv([])).toBe('id,variant,vtSymbol,datetime,tradingDay,side,offset,price,volume,commission,pnl\r\n');
  });

  it('names the file after the filter', () => {
    expect(csvFileName({})).toBe('kestrel-trades.csv');
    expect(csvFileName({ variant: 'rb-15m', side: 'sell', from: '2025-01-01', to: '2025-01-31' })).toBe('kestrel-trades-rb-15m-sell-2025-01-01_2025-01-31.csv');
    expect(csvFileName({ symbol: 'rb2505.SHFE', to: '2025-01-06 21:10:00' })).toBe('kestrel-trades-rb2505.SHFE-start_2025-01-06211000.csv');
  });
});

describe('the Trades view in the URL hash', () => {
  it('writes only what differs from the defaults and reads it back', () => {
    const view = { filter: { variant: 'rb-15m', symbol: null, side: 'buy' as const, from: '2025-01-01', to: '' }, period: 'week' as const, capital: 1_000_000 };
    const q = formatViewQuery(view);
    expect(q).toBe('variant=rb-15m&side=buy&from=2025-01-01&period=week&capital=1000000');
    expect(parseViewQuery(`#/trades?${q}`)).toEqual(view);
    expect(formatViewQuery({ filter: EMPTY_FILTER, period: 'day', capital: null })).toBe('');
    expect(parseHash(`#/trades?${q}`)).toEqual({ screen: 'trades', variant: null });
  });

  it('ignores what it does not understand instead of guessing', () => {
    expect(parseViewQuery('#/trades?side=long&from=2025-1-1&period=year&capital=-5&variant=')).toEqual({
      filter: EMPTY_FILTER,
      period: 'day',
      capital: null,
    });
    expect(parseViewQuery('#/trades')).toEqual({ filter: EMPTY_FILTER, period: 'day', capital: null });
  });

  it('sends only the set filter fields to the API', () => {
    expect(filterParams(EMPTY_FILTER)).toEqual({});
    expect(filterParams({ variant: null, symbol: 'i2505.DCE', side: 'sell', from: '', to: '2025-02-01' })).toEqual({
      symbol: 'i2505.DCE',
      side: 'sell',
      to: '2025-02-01',
    });
  });
});

describe('trade number formats', () => {
  it('formats money, pnl, ratios, Sharpe and quantities for a dense table', () => {
    expect(formatMoney(1234567.891)).toBe('1,234,567.89');
    expect(formatMoney(-0.001)).toBe('0.00');
    expect(formatMoney(null)).toBe('—');
    expect(formatPnl(12.5)).toBe('+12.50');
    expect(formatPnl(-1200)).toBe('-1,200.00');
    expect(formatPnl(0.001)).toBe('0.00');
    expect(formatRatio(0.53125)).toBe('53.1%');
    expect(formatRatio(null)).toBe('—');
    expect(formatSharpe(null)).toBe('—');
    expect(formatSharpe(1.23456)).toBe('1.23');
    expect(formatQuantity(3)).toBe('3');
    expect(formatQuantity(0.12345)).toBe('0.1235');
    expect([pnlTone(5), pnlTone(-5), pnlTone(0), pnlTone(null)]).toEqual(['up', 'down', '', '']);
  });
});

describe('chart data', () => {
  it('keeps one equity value per time: the last fill of a minute', () => {
    expect(
      equityLine([
        { time: 60, equity: 10 },
        { time: 120, equity: 5 },
        { time: 120, equity: 7 },
        { time: 180, equity: 9 },
      ]),
    ).toEqual([
      { time: 60, value: 10 },
      { time: 120, value: 7 },
      { time: 180, value: 9 },
    ]);
  });

  it('puts each period at its first calendar day', () => {
    const row = { trades: 1, wins: 1, losses: 0, winRate: 1, cumulativePnl: 0 };
    expect(
      periodBars([
        { ...row, period: '2025-W02', start: '2025-01-06', pnl: 10 },
        { ...row, period: '2025-W03', start: '2025-01-13', pnl: -4 },
      ]),
    ).toEqual([
      { time: Date.UTC(2025, 0, 6) / 1000, value: 10, period: '2025-W02' },
      { time: Date.UTC(2025, 0, 13) / 1000, value: -4, period: '2025-W03' },
    ]);
  });

  it('adds an alpha to theme colours', () => {
    expect(withAlpha('#e5484d', 0.25)).toBe('rgba(229, 72, 77, 0.25)');
    expect(withAlpha('rgb(38, 162, 105)', 0.5)).toBe('rgba(38, 162, 105, 0.5)');
    expect(withAlpha('red', 0.5)).toBe('red');
  });
});
