import { createStore, useStore, type StoreApi } from 'zustand';
import type { KestrelApi } from '../../shared/api.js';
import type {
  StatisticsPeriodName,
  TradeFilterParams,
  TradePage,
  TradeStatisticsResult,
  TradeSymbols,
} from '../../shared/contract/trades.js';
import type { TradeSide } from '../../shared/trade.js';
import { getApi } from '../api/index.js';
import { csvFileName, downloadText, fetchAllTrades, tradesCsv } from '../lib/tradesCsv.js';

/** What the Trades screen needs from the API (the whole KestrelApi satisfies it). */
export type TradesApi = Pick<KestrelApi, 'listTrades' | 'listTradeSymbols' | 'tradeStatistics'>;

/** The filter as the screen edits it: '' / null mean "any". Dates are 'YYYY-MM-DD', inclusive. */
export interface TradesFilter {
  variant: string | null;
  symbol: string | null;
  side: TradeSide | null;
  from: string;
  to: string;
}

/** What the URL hash keeps: the filter, the statistics period and the capital. */
export interface TradesView {
  filter: TradesFilter;
  period: StatisticsPeriodName;
  capital: number | null;
}

export interface ExportState {
  running: boolean;
  done: number;
  total: number;
  error: string | null;
  /** Lines written by the last finished export (header excluded). */
  lastRows: number | null;
}

export interface TradesState extends TradesView {
  page: number;
  pageSize: number;
  tradePage: TradePage | null;
  pageLoading: boolean;
  pageError: string | null;
  statistics: TradeStatisticsResult | null;
  statsLoading: boolean;
  statsError: string | null;
  symbols: TradeSymbols | null;
  /** Wall ms of the last answer, for "updated …". */
  loadedAt: number | null;
  exporting: ExportState;

  setFilter(change: Partial<TradesFilter>): void;
  clearFilter(): void;
  setPeriod(period: StatisticsPeriodName): void;
  setCapital(capital: number | null): void;
  setPage(page: number): void;
  /** Applies a view read from the URL; does nothing when it is the current one. */
  applyView(view: TradesView): void;
  /** Reloads the page; the statistics and lists only when the fills matching the filter changed (or `all`). */
  refresh(all?: boolean): Promise<void>;
  exportCsv(): Promise<void>;
}

export const PAGE_SIZE = 100;
export const EMPTY_FILTER: TradesFilter = { variant: null, symbol: null, side: null, from: '', to: '' };
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The screen's filter as API params (unset fields left out). */
export function filterParams(filter: TradesFilter): TradeFilterParams {
  const out: TradeFilterParams = {};
  if (filter.variant) out.variant = filter.variant;
  if (filter.symbol) out.symbol = filter.symbol;
  if (filter.side) out.side = filter.side;
  if (filter.from) out.from = filter.from;
  if (filter.to) out.to = filter.to;
  return out;
}

export function isFiltered(filter: TradesFilter): boolean {
  return Object.keys(filterParams(filter)).length > 0;
}

/** The query after `#/trades?`: only what differs from the defaults. */
export function formatViewQuery(view: TradesView): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filterParams(view.filter))) q.set(k, v);
  if (view.period !== 'day') q.set('period', view.period);
  if (view.capital !== null) q.set('capital', String(view.capital));
  return q.toString();
}

/** Reads a view from a hash such as `#/trades?variant=rb-15m&side=buy`; junk is ignored, not guessed at. */
export function parseViewQuery(hash: string): TradesView {
  const at = hash.indexOf('?');
  const q = new URLSearchParams(at >= 0 ? hash.slice(at + 1) : '');
  const text = (k: string): string | null => {
    const v = q.get(k);
    return v !== null && v.length > 0 && v.length <= 128 ? v : null;
  };
  const side = q.get('side');
  const period = q.get('period');
  const capital = Number(q.get('capital'));
  const date = (k: string): string => {
    const v = q.get(k);
    return v !== null && DATE_RE.test(v) ? v : '';
  };
  return {
    filter: {
      variant: text('variant'),
      symbol: text('symbol'),
      side: side === 'buy' || side === 'sell' ? side : null,
      from: date('from'),
      to: date('to'),
    },
    period: period === 'week' || period === 'month' ? period : 'day',
    capital: q.has('capital') && Number.isFinite(capital) && capital > 0 ? capital : null,
  };
}

function sameView(a: TradesView, b: TradesView): boolean {
  return formatViewQuery(a) === formatViewQuery(b);
}

const idleExport: ExportState = { running: false, done: 0, total: 0, error: null, lastRows: null };

/**
 * The Trades screen's state. Every number it holds is an API answer; answers are matched to
 * the request that asked for them, so a slow one that arrives after a newer request is dropped.
 */
export function createTradesStore(api: () => TradesApi, now: () => number = Date.now): StoreApi<TradesState> {
  let pageSeq = 0;
  let statsSeq = 0;
  let symbolsSeq = 0;

  return createStore<TradesState>((set, get) => {
    const loadPage = async (): Promise<TradePage | null> => {
      const seq = ++pageSeq;
      const { filter, page, pageSize } = get();
      set({ pageLoading: true });
      try {
        const result = await api().listTrades({ ...filterParams(filter), page, pageSize });
        if (seq !== pageSeq) return null;
        set({ tradePage: result, pageLoading: false, pageError: null, loadedAt: now() });
        return result;
      } catch (error) {
        if (seq === pageSeq) set({ pageLoading: false, pageError: errorText(error) });
        return null;
      }
    };

    const loadStatistics = async (): Promise<void> => {
      const seq = ++statsSeq;
      const { filter, period, capital } = get();
      set({ statsLoading: true });
      try {
        const result = await api().tradeStatistics({ ...filterParams(filter), period, ...(capital === null ? {} : { capital }) });
        if (seq !== statsSeq) return;
        set({ statistics: result, statsLoading: false, statsError: null });
      } catch (error) {
        if (seq === statsSeq) set({ statsLoading: false, statsError: errorText(error) });
      }
    };

    const loadSymbols = async (): Promise<void> => {
      const seq = ++symbolsSeq;
      try {
        const result = await api().listTradeSymbols({});
        if (seq === symbolsSeq) set({ symbols: result });
      } catch {
        // The filters keep their last lists; the page and statistics report the failure.
      }
    };

    const reloadAll = async (): Promise<void> => {
      await Promise.all([loadPage(), loadStatistics(), loadSymbols()]);
    };

    return {
      filter: EMPTY_FILTER,
      period: 'day',
      capital: null,
      page: 1,
      pageSize: PAGE_SIZE,
      tradePage: null,
      pageLoading: false,
      pageError: null,
      statistics: null,
      statsLoading: false,
      statsError: null,
      symbols: null,
      loadedAt: null,
      exporting: idleExport,

      setFilter(change) {
        set({ filter: { ...get().filter, ...change }, page: 1 });
        void loadPage();
        void loadStatistics();
      },
      clearFilter() {
        set({ filter: EMPTY_FILTER, page: 1 });
        void loadPage();
        void loadStatistics();
      },
      setPeriod(period) {
        if (period === get().period) return;
        set({ period });
        void loadStatistics();
      },
      setCapital(capital) {
        if (capital === get().capital) return;
        set({ capital });
        void loadStatistics();
      },
      setPage(page) {
        const total = get().tradePage?.total ?? 0;
        const last = Math.max(1, Math.ceil(total / get().pageSize));
        const next = Math.min(Math.max(1, Math.floor(page)), last);
        if (next === get().page) return;
        set({ page: next });
        void loadPage();
      },
      applyView(view) {
        const { filter, period, capital } = get();
        if (sameView(view, { filter, period, capital })) return;
        const filterChanged = formatViewQuery({ filter, period: 'day', capital: null }) !== formatViewQuery({ filter: view.filter, period: 'day', capital: null });
        set({ filter: view.filter, period: view.period, capital: view.capital, ...(filterChanged ? { page: 1 } : {}) });
        if (filterChanged) void loadPage();
        void loadStatistics();
      },
      async refresh(all = false) {
        if (all) {
          await reloadAll();
          return;
        }
        const page = await loadPage();
        if (!page) return;
        const { statistics, statsLoading } = get();
        // Fills are only ever added: the same count under the same filter means the same fills.
        if (!statsLoading && (!statistics || statistics.totals.fills !== page.total)) await Promise.all([loadStatistics(), loadSymbols()]);
      },
      async exportCsv() {
        if (get().exporting.running) return;
        const params = filterParams(get().filter);
        set({ exporting: { ...idleExport, running: true } });
        try {
          const rows = await fetchAllTrades(api(), params, (done, total) =>
            set({ exporting: { ...get().exporting, done, total } }),
          );
          downloadText(csvFileName(params), tradesCsv(rows));
          set({ exporting: { running: false, done: rows.length, total: rows.length, error: null, lastRows: rows.length } });
        } catch (error) {
          set({ exporting: { ...get().exporting, running: false, error: errorText(error) } });
        }
      },
    };
  });
}

let defaultStore: StoreApi<TradesState> | null = null;

/** The app's Trades store, on the app's API. */
export function tradesStore(): StoreApi<TradesState> {
  defaultStore ??= createTradesStore(getApi);
  return defaultStore;
}

export function useTrades<T>(select: (state: TradesState) => T): T {
  return useStore(tradesStore(), select);
}
