/**
 * A backtest's trades and whole equity curve as CSV (a header row, exchange-time text, numbers
 * unformatted) or as Arrow IPC (for pandas/polars), from the records of shared/backtest.ts.
 */
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import type { BacktestEquityPoint, BacktestTrade } from '../../shared/backtest.js';
import { formatDatetime } from '../../shared/time.js';

export type ExportFormat = 'csv' | 'arrow';

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function tradesCsv(trades: readonly BacktestTrade[]): string {
  const lines = ['id,vtSymbol,datetime,side,offset,price,volume,commission,pnl'];
  for (const t of trades) {
    lines.push([t.id, t.vtSymbol, formatDatetime(t.time), t.side, t.offset, t.price, t.volume, t.commission, t.pnl].map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}

export function equityCsv(points: readonly BacktestEquityPoint[]): string {
  const lines = ['datetime,equity,drawdown'];
  for (const p of points) lines.push(`${formatDatetime(p.time)},${p.equity},${p.drawdown}`);
  return `${lines.join('\n')}\n`;
}

export function tradesArrow(trades: readonly BacktestTrade[]): Uint8Array {
  return tableToIPC(
    tableFromArrays({
      id: trades.map((t) => t.id),
      vtSymbol: trades.map((t) => t.vtSymbol),
      time: Float64Array.from(trades, (t) => t.time),
      side: trades.map((t) => t.side),
      offset: trades.map((t) => t.offset),
      price: Float64Array.from(trades, (t) => t.price),
      volume: Float64Array.from(trades, (t) => t.volume),
      commission: Float64Array.from(trades, (t) => t.commission),
      // NaN marks an opening fill (no realised pnl) in a float column.
      pnl: Float64Array.from(trades, (t) => t.pnl ?? Number.NaN),
    }),
    'file',
  );
}

export function equityArrow(points: readonly BacktestEquityPoint[]): Uint8Array {
  return tableToIPC(
    tableFromArrays({
      time: Float64Array.from(points, (p) => p.time),
      equity: Float64Array.from(points, (p) => p.equity),
      drawdown: Float64Array.from(points, (p) => p.drawdown),
    }),
    'file',
  );
}
