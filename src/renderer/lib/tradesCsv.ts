import type { KestrelApi } from '../../shared/api.js';
import type { Trade, TradeFilterParams } from '../../shared/contract/trades.js';

/**
 * CSV export of the Trades screen: every fill of the current filter, read page by page from
 * listTrades, written oldest first (a spreadsheet sums down the rows) with a header row.
 * Numbers are written as the API gives them, unformatted; times as exchange-time text.
 */

export const CSV_COLUMNS = [
  'id',
  'variant',
  'vtSymbol',
  'datetime',
  'tradingDay',
  'side',
  'offset',
  'price',
  'volume',
  'commission',
  'pnl',
] as const satisfies readonly (keyof Trade)[];

/** Rows per listTrades call while exporting: the contract's maximum. */
export const EXPORT_PAGE_SIZE = 1000;

/** RFC 4180: quote a field holding a comma, a quote or a line break; double its quotes. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = typeof value === 'number' ? String(value) : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The CSV text: a header row, then one line per fill in the order given; CRLF line ends. */
export function tradesCsv(rows: readonly Trade[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of rows) lines.push(CSV_COLUMNS.map((c) => csvField(row[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export type TradesListApi = Pick<KestrelApi, 'listTrades'>;

/**
 * Every fill matching `filter`, oldest first. The export is pinned to the newest fill the
 * first page shows, so fills journalled while it runs do not slip in half-way; a fill of that
 * same second arriving meanwhile shifts the later pages by one, which the id check absorbs.
 */
export async function fetchAllTrades(
  api: TradesListApi,
  filter: TradeFilterParams,
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<Trade[]> {
  const first = await api.listTrades({ ...filter, page: 1, pageSize: EXPORT_PAGE_SIZE });
  const newest = first.rows[0];
  if (!newest) return [];
  const pinned: TradeFilterParams = { ...filter, to: newest.datetime };
  const seen = new Set<string>();
  const out: Trade[] = [];
  const take = (rows: readonly Trade[]): void => {
    for (const r of rows) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      out.push(r);
    }
  };
  take(first.rows);
  let total = first.total;
  onProgress?.(out.length, total);
  let page = 1;
  let last = first.rows.length;
  while (last === EXPORT_PAGE_SIZE) {
    if (signal?.aborted) throw new Error('export cancelled');
    page += 1;
    const next = await api.listTrades({ ...pinned, page, pageSize: EXPORT_PAGE_SIZE });
    take(next.rows);
    total = next.total;
    last = next.rows.length;
    onProgress?.(out.length, total);
  }
  return out.reverse();
}

/** kestrel-trades[-variant][-symbol][-side][-from][_to].csv, safe as a file name anywhere. */
export function csvFileName(filter: TradeFilterParams): string {
  const parts = ['kestrel-trades', filter.variant, filter.symbol, filter.side];
  const compact = (d: string): string => d.replace(/[ :]/g, '');
  if (filter.from !== undefined || filter.to !== undefined) {
    parts.push(`${filter.from === undefined ? 'start' : compact(filter.from)}_${filter.to === undefined ? 'now' : compact(filter.to)}`);
  }
  return `${parts
    .filter((p): p is string => p !== undefined && p.length > 0)
    .join('-')
    .replace(/[^A-Za-z0-9._-]+/g, '_')}.csv`;
}

/** Hands text to the browser as a file download (Blob + a link); nothing is navigated. */
export function downloadText(fileName: string, text: string, type = 'text/csv;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // The download has taken its copy once click() returns; the delay is for slower engines.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
