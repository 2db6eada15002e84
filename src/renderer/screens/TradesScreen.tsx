import { useEffect, useMemo, useState, type ReactNode } from 'react';
import type { StatisticsPeriodName, Trade, TradeStatisticsResult } from '../../shared/contract/trades.js';
import { EquityChart, PnlHistogram } from '../chart/TradeStatsCharts.js';
import { parseDatetime } from '../../shared/time.js';
import { formatExchangeText, formatWallClock, pricePrecisionOf } from '../lib/format.js';
import { shortcutAllowed } from '../lib/keyboard.js';
import { formatCount, formatMoney, formatPnl, formatQuantity, formatRatio, formatSharpe, pnlTone } from '../lib/tradeFormat.js';
import { useConnection } from '../stores/connection.js';
import { useNavigation } from '../stores/navigation.js';
import {
  EMPTY_FILTER,
  formatViewQuery,
  isFiltered,
  parseViewQuery,
  tradesStore,
  useTrades,
  type TradesView,
} from '../stores/trades.js';
import '../styles/trades.css';

/** New fills are picked up this often while the screen is open. */
const REFRESH_MS = 10_000;
const PERIODS: readonly { id: StatisticsPeriodName; label: string }[] = [
  { id: 'day', label: 'Day' },
  { id: 'week', label: 'Week' },
  { id: 'month', label: 'Month' },
];

function currentView(): TradesView {
  const s = tradesStore().getState();
  return { filter: s.filter, period: s.period, capital: s.capital };
}

function viewHash(view: TradesView): string {
  const q = formatViewQuery(view);
  return q ? `#/trades?${q}` : '#/trades';
}

/**
 * Keeps the filter in the URL hash (`#/trades?variant=…&side=buy`): a reload, a bookmark or a
 * second window opens the same view. The hash is replaced, not pushed, so Back leaves the screen.
 */
function useHashSync(): void {
  useEffect(() => {
    const store = tradesStore();
    const fromHash = (): void => {
      const hash = window.location.hash;
      if (!/^#\/?trades(\?|$)/.test(hash)) return;
      if (hash.includes('?')) store.getState().applyView(parseViewQuery(hash));
      else writeHash();
    };
    const writeHash = (): void => {
      const next = viewHash(currentView());
      if (/^#\/?trades(\?|$)/.test(window.location.hash) && window.location.hash !== next) {
        window.history.replaceState(null, '', next);
      }
    };
    fromHash();
    const offStore = store.subscribe((s, prev) => {
      if (s.filter !== prev.filter || s.period !== prev.period || s.capital !== prev.capital) writeHash();
    });
    // Navigation pushes a bare `#/trades` when the screen is chosen again: put the view back after it.
    const offNav = useNavigation.subscribe((s) => {
      if (s.screen === 'trades') queueMicrotask(writeHash);
    });
    window.addEventListener('hashchange', fromHash);
    window.addEventListener('popstate', fromHash);
    return () => {
      offStore();
      offNav();
      window.removeEventListener('hashchange', fromHash);
      window.removeEventListener('popstate', fromHash);
    };
  }, []);
}

function FilterBar() {
  const filter = useTrades((s) => s.filter);
  const symbols = useTrades((s) => s.symbols);
  const setFilter = useTrades((s) => s.setFilter);
  const clearFilter = useTrades((s) => s.clearFilter);
  const exporting = useTrades((s) => s.exporting);
  const exportCsv = useTrades((s) => s.exportCsv);
  const total = useTrades((s) => s.tradePage?.total ?? null);
  const loadedAt = useTrades((s) => s.loadedAt);
  const refresh = useTrades((s) => s.refresh);
  // A value in the URL that the journal does not (yet) list is still offered, so it shows.
  const variants = withCurrent(symbols?.variants ?? [], filter.variant);
  const vtSymbols = withCurrent(symbols?.symbols ?? [], filter.symbol);
  return (
    <div className="trades-filters" data-testid="trades-filters">
      <label className="filter">
        <span className="field-label">Variant</span>
        <select
          value={filter.variant ?? ''}
          onChange={(e) => setFilter({ variant: e.target.value || null })}
          data-testid="trades-filter-variant"
        >
          <option value="">All</option>
          {variants.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      </label>
      <label className="filter">
        <span className="field-label">Symbol</span>
        <select value={filter.symbol ?? ''} onChange={(e) => setFilter({ symbol: e.target.value || null })} data-testid="trades-filter-symbol">
          <option value="">All</option>
          {vtSymbols.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      </label>
      <div className="filter" role="group" aria-label="Side">
        <span className="field-label">Side</span>
        <div className="segmented">
          {([null, 'buy', 'sell'] as const).map((side) => (
            <button
              key={side ?? 'all'}
              type="button"
              className={filter.side === side ? 'seg active' : 'seg'}
              aria-pressed={filter.side === side}
              onClick={() => setFilter({ side })}
              data-testid={`trades-side-${side ?? 'all'}`}
            >
              {side === null ? 'All' : side === 'buy' ? 'Buy' : 'Sell'}
            </button>
          ))}
        </div>
      </div>
      <DateInput key={`from:${filter.from}`} label="From" value={filter.from} onApply={(from) => setFilter({ from })} testId="trades-from" title="First exchange-time calendar date, inclusive" />
      <DateInput key={`to:${filter.to}`} label="To" value={filter.to} onApply={(to) => setFilter({ to })} testId="trades-to" title="Last exchange-time calendar date, inclusive (the whole day)" />
      <button type="button" className="btn btn-small" disabled={!isFiltered(filter)} onClick={() => clearFilter()} data-testid="trades-clear">
        Clear
      </button>
      <span className="trades-filters-spacer" />
      <span className="muted" data-testid="trades-updated" title="New fills are picked up every 10 s; r reloads now">
        {loadedAt === null ? '' : `updated ${formatWallClock(loadedAt)}`}
      </span>
      <button type="button" className="btn btn-small" onClick={() => void refresh(true)} title="Reload (r)">
        Reload
      </button>
      <button
        type="button"
        className="btn btn-small btn-primary"
        disabled={exporting.running || !total}
        onClick={() => void exportCsv()}
        data-testid="trades-export"
        title="Every fill of the current filter as CSV, oldest first"
      >
        {exporting.running ? `Exporting ${formatCount(exporting.done)} / ${formatCount(exporting.total)}…` : 'Export CSV'}
      </button>
      {exporting.error ? (
        <span className="trades-export-error" role="alert" data-testid="trades-export-error">
          Export failed: {exporting.error}
        </span>
      ) : exporting.lastRows !== null && !exporting.running ? (
        <span className="muted" data-testid="trades-export-done">
          {formatCount(exporting.lastRows)} {exporting.lastRows === 1 ? 'row' : 'rows'} exported
        </span>
      ) : null}
    </div>
  );
}

const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A date typed as the rest of the app prints dates (YYYY-MM-DD, exchange calendar), applied on
 * Enter or when the field is left; an empty field clears the bound. A date the host would refuse
 * is marked and not applied.
 */
function DateInput({ label, value, onApply, testId, title }: { label: string; value: string; onApply: (v: string) => void; testId: string; title: string }) {
  // Keyed by its value by the caller: a new value from outside (URL, Clear) starts a fresh field.
  const [text, setText] = useState(value);
  const valid = text === '' || (DATE_TEXT.test(text) && parseDatetime(`${text} 00:00:00`) !== null);
  const apply = (): void => {
    if (valid && text !== value) onApply(text);
  };
  return (
    <label className="filter" title={title}>
      <span className="field-label">{label}</span>
      <input
        type="text"
        className={valid ? 'date-input' : 'date-input invalid'}
        value={text}
        placeholder="YYYY-MM-DD"
        maxLength={10}
        spellCheck={false}
        aria-invalid={!valid}
        onChange={(e) => setText(e.target.value.trim())}
        onBlur={apply}
        onKeyDown={(e) => {
          if (e.key === 'Enter') apply();
          if (e.key === 'Escape') setText(value);
        }}
        data-testid={testId}
      />
    </label>
  );
}

function withCurrent(list: readonly string[], current: string | null): string[] {
  return current !== null && !list.includes(current) ? [...list, current].sort() : [...list];
}

function Tile({ label, value, testId, raw, tone, title }: { label: string; value: ReactNode; testId: string; raw: number | null; tone?: string; title?: string }) {
  return (
    <div className="stat-tile" title={title}>
      <span className="field-label">{label}</span>
      <span className={`stat-value ${tone ?? ''}`} data-testid={testId} data-value={raw === null ? '' : String(raw)}>
        {value}
      </span>
    </div>
  );
}

function CapitalInput() {
  const capital = useTrades((s) => s.capital);
  const setCapital = useTrades((s) => s.setCapital);
  // Keyed by the capital by the caller: a new value from outside (URL) starts a fresh field.
  const [text, setText] = useState(capital === null ? '' : String(capital));
  const apply = (): void => {
    const n = Number(text.replace(/[,\s_]/g, ''));
    if (text.trim() === '') setCapital(null);
    else if (Number.isFinite(n) && n > 0) setCapital(n);
    else setText(capital === null ? '' : String(capital));
  };
  return (
    <label className="filter capital" title="Starting capital: gives the drawdown in % and a Sharpe on % returns. Empty: the curve starts at 0 and Sharpe uses the PnL in money.">
      <span className="field-label">Capital</span>
      <input
        type="text"
        inputMode="decimal"
        value={text}
        placeholder="none"
        onChange={(e) => setText(e.target.value)}
        onBlur={apply}
        onKeyDown={(e) => {
          if (e.key === 'Enter') apply();
        }}
        data-testid="trades-capital"
      />
    </label>
  );
}

function StatsSummary({ stats }: { stats: TradeStatisticsResult | null }) {
  const period = useTrades((s) => s.period);
  const setPeriod = useTrades((s) => s.setPeriod);
  const loading = useTrades((s) => s.statsLoading);
  const error = useTrades((s) => s.statsError);
  const capital = useTrades((s) => s.capital);
  const t = stats?.totals ?? null;
  return (
    <div className="stats-summary" data-testid="stats-panel" data-loading={loading ? 'true' : 'false'}>
      <div className="stats-controls">
        <div className="segmented" role="group" aria-label="Statistics period">
          {PERIODS.map((p) => (
            <button
              key={p.id}
              type="button"
              className={period === p.id ? 'seg active' : 'seg'}
              aria-pressed={period === p.id}
              onClick={() => setPeriod(p.id)}
              data-testid={`stats-period-${p.id}`}
            >
              {p.label}
            </button>
          ))}
        </div>
        <CapitalInput key={capital ?? 'none'} />
        {error ? (
          <span className="trades-export-error" role="alert" data-testid="stats-error">
            {error}
          </span>
        ) : null}
      </div>
      <div className="stat-tiles">
        <Tile label="Trades" testId="stat-trades" raw={t?.trades ?? null} value={formatCount(t?.trades)} title="Closing fills (round trips); opening fills are counted in Fills" />
        <Tile label="Fills" testId="stat-fills" raw={t?.fills ?? null} value={formatCount(t?.fills)} />
        <Tile label="Win rate" testId="stat-win-rate" raw={t?.winRate ?? null} value={formatRatio(t?.winRate)} title={t ? `${t.wins} won, ${t.losses} lost, ${t.trades - t.wins - t.losses} even` : undefined} />
        <Tile label="Total PnL" testId="stat-total-pnl" raw={t?.totalPnl ?? null} value={formatPnl(t?.totalPnl)} tone={pnlTone(t?.totalPnl)} title="Net of commission" />
        <Tile label="Avg / trade" testId="stat-average-pnl" raw={t?.averagePnl ?? null} value={formatPnl(t?.averagePnl)} tone={pnlTone(t?.averagePnl)} />
        <Tile label="Commission" testId="stat-commission" raw={t?.commission ?? null} value={formatMoney(t?.commission)} />
        <Tile label="Max DD" testId="stat-max-dd" raw={t?.maxDrawdown ?? null} value={formatMoney(t?.maxDrawdown)} tone={t && t.maxDrawdown > 0 ? 'down' : ''} title="Largest fall of the realised equity from its peak" />
        <Tile
          label="Max DD %"
          testId="stat-max-dd-pct"
          raw={t?.maxDrawdownPct ?? null}
          value={formatRatio(t?.maxDrawdownPct, 2)}
          title={t?.maxDrawdownPct === null ? 'Enter a starting capital to see the drawdown in %' : 'Of the peak equity'}
        />
        <Tile
          label={`Sharpe (${period}, ann.)`}
          testId="stat-sharpe"
          raw={t?.sharpe ?? null}
          value={formatSharpe(t?.sharpe)}
          title={t?.sharpe === null ? 'Not meaningful: fewer than two periods, or returns without variance' : `Per-${period} returns × √${stats?.periodsPerYear ?? ''}`}
        />
      </div>
    </div>
  );
}

function PeriodTable({ stats }: { stats: TradeStatisticsResult }) {
  // Newest period on top, as the fills table.
  const rows = useMemo(() => [...stats.periods].reverse(), [stats.periods]);
  return (
    <div className="side-table" data-testid="stats-periods">
      <div className="side-table-head">By {stats.period}</div>
      <div className="side-table-scroll">
        <table className="grid compact">
          <thead>
            <tr>
              <th>{stats.period === 'day' ? 'Trading day' : stats.period === 'week' ? 'Week' : 'Month'}</th>
              <th className="num">Trades</th>
              <th className="num">Win</th>
              <th className="num">PnL</th>
              <th className="num">Cumulative</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={5} className="muted">
                  No closed trade in the filter yet.
                </td>
              </tr>
            ) : null}
            {rows.map((p) => (
              <tr key={p.period} data-testid="period-row" data-period={p.period} className={p.trades === 0 ? 'quiet' : undefined}>
                <td className="mono" title={`from ${p.start}`}>
                  {p.period}
                </td>
                <td className="num">{p.trades}</td>
                <td className="num">{formatRatio(p.winRate, 0)}</td>
                <td className={`num ${pnlTone(p.pnl)}`}>{formatPnl(p.pnl)}</td>
                <td className={`num ${pnlTone(p.cumulativePnl)}`}>{formatPnl(p.cumulativePnl)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function SymbolTable({ stats }: { stats: TradeStatisticsResult }) {
  return (
    <div className="side-table symbols" data-testid="stats-symbols">
      <div className="side-table-head">By symbol</div>
      <table className="grid compact">
        <thead>
          <tr>
            <th>Symbol</th>
            <th className="num">Trades</th>
            <th className="num">Win</th>
            <th className="num">PnL</th>
            <th className="num">Comm.</th>
          </tr>
        </thead>
        <tbody>
          {stats.bySymbol.map((s) => (
            <tr key={s.vtSymbol} data-testid="symbol-row" data-symbol={s.vtSymbol}>
              <td className="mono">{s.vtSymbol}</td>
              <td className="num">{s.trades}</td>
              <td className="num">{formatRatio(s.winRate, 0)}</td>
              <td className={`num ${pnlTone(s.pnl)}`}>{formatPnl(s.pnl)}</td>
              <td className="num">{formatMoney(s.commission)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TradeRow({ t, precision }: { t: Trade; precision: number }) {
  return (
    <tr data-testid="trade-row" data-id={t.id} title={`${t.id} · trading day ${t.tradingDay}`}>
      <td className="mono" data-col="time">
        {formatExchangeText(t.datetime)}
      </td>
      <td data-col="variant">{t.variant}</td>
      <td className="mono" data-col="symbol">
        {t.vtSymbol}
      </td>
      <td data-col="side" className={t.side === 'buy' ? 'side up' : 'side down'}>
        {t.side === 'buy' ? 'Buy' : 'Sell'}
      </td>
      <td data-col="offset" className={t.offset === 'close' ? '' : 'muted'}>
        {t.offset === 'open' ? 'Open' : 'Close'}
      </td>
      <td className="num" data-col="price">
        {t.price.toFixed(precision)}
      </td>
      <td className="num" data-col="volume">
        {formatQuantity(t.volume)}
      </td>
      <td className="num" data-col="commission">
        {formatMoney(t.commission)}
      </td>
      <td className={`num ${pnlTone(t.pnl)}`} data-col="pnl">
        {t.pnl === null ? '' : formatPnl(t.pnl)}
      </td>
    </tr>
  );
}

function EmptyState() {
  const filter = useTrades((s) => s.filter);
  const symbols = useTrades((s) => s.symbols);
  const pageError = useTrades((s) => s.pageError);
  const clearFilter = useTrades((s) => s.clearFilter);
  const status = useConnection((s) => s.status);
  if (pageError) {
    return (
      <div className="empty error" data-testid="trades-empty" data-reason="error">
        Could not read the trade journal: {pageError}
      </div>
    );
  }
  const journalEmpty = symbols !== null && symbols.variants.length === 0;
  if (journalEmpty || !isFiltered(filter)) {
    const demo = status?.demo.enabled ? ` The demo variants trade on the simulated market within minutes at --demo-speed ${status.demo.speed} (600 makes a trading day pass in about 35 s).` : '';
    return (
      <div className="empty" data-testid="trades-empty" data-reason="no-trades">
        No trades yet. Strategy workers journal every fill here as it happens; a variant trades once it has restored its signal state and a
        signal is confirmed.{demo}
      </div>
    );
  }
  return (
    <div className="empty" data-testid="trades-empty" data-reason="no-match">
      No fill matches this filter.{' '}
      <button type="button" className="btn-link-text" onClick={() => clearFilter()}>
        Clear the filter
      </button>{' '}
      to see all {symbols?.variants.length ?? ''} variants' fills.
    </div>
  );
}

function TradesTable() {
  const tradePage = useTrades((s) => s.tradePage);
  const page = useTrades((s) => s.page);
  const pageSize = useTrades((s) => s.pageSize);
  const setPage = useTrades((s) => s.setPage);
  const loading = useTrades((s) => s.pageLoading);
  const rows = useMemo(() => tradePage?.rows ?? [], [tradePage]);
  const total = tradePage?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / pageSize));
  // Decimals per symbol, from the prices on the page: a tick of 0.5 keeps its ".5", rb keeps none.
  const precision = useMemo(() => {
    const bySymbol = new Map<string, number[]>();
    for (const r of rows) bySymbol.set(r.vtSymbol, [...(bySymbol.get(r.vtSymbol) ?? []), r.price]);
    return new Map([...bySymbol].map(([s, prices]) => [s, pricePrecisionOf(prices)]));
  }, [rows]);
  const first = total === 0 ? 0 : (page - 1) * pageSize + 1;
  const last = Math.min(total, (page - 1) * pageSize + rows.length);
  return (
    <div className="trades-table-pane">
      <div className="trades-table-scroll">
        {tradePage === null && loading ? <div className="empty">Loading fills…</div> : null}
        {tradePage !== null && total === 0 ? <EmptyState /> : null}
        {tradePage === null && !loading ? <EmptyStateOrError /> : null}
        {rows.length > 0 ? (
          <table className="grid trades-table" data-testid="trades-table">
            <thead>
              <tr>
                <th className="w-time">Time (exchange)</th>
                <th>Variant</th>
                <th>Symbol</th>
                <th>Side</th>
                <th>Offset</th>
                <th className="num">Price</th>
                <th className="num">Volume</th>
                <th className="num">Commission</th>
                <th className="num">PnL</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <TradeRow key={t.id} t={t} precision={precision.get(t.vtSymbol) ?? 2} />
              ))}
            </tbody>
          </table>
        ) : null}
      </div>
      <div className="pager">
        <span className="muted" data-testid="trades-total" data-total={total}>
          {total === 0 ? 'no fills' : `${formatCount(first)}–${formatCount(last)} of ${formatCount(total)} fills`}
        </span>
        <span className="pager-spacer" />
        <button type="button" className="btn btn-small" disabled={page <= 1} onClick={() => setPage(1)} title="First page">
          «
        </button>
        <button type="button" className="btn btn-small" disabled={page <= 1} onClick={() => setPage(page - 1)} data-testid="trades-prev" title="Newer fills ([)">
          ‹ Newer
        </button>
        <span className="pager-label" data-testid="trades-page-label">
          page {page} of {pages}
        </span>
        <button type="button" className="btn btn-small" disabled={page >= pages} onClick={() => setPage(page + 1)} data-testid="trades-next" title="Older fills (])">
          Older ›
        </button>
        <button type="button" className="btn btn-small" disabled={page >= pages} onClick={() => setPage(pages)} title="Last page">
          »
        </button>
      </div>
    </div>
  );
}

function EmptyStateOrError() {
  const pageError = useTrades((s) => s.pageError);
  return pageError ? <EmptyState /> : null;
}

export function TradesScreen() {
  const stats = useTrades((s) => s.statistics);
  const period = useTrades((s) => s.period);
  const capital = useTrades((s) => s.capital);
  const refresh = useTrades((s) => s.refresh);
  const setPage = useTrades((s) => s.setPage);
  const filter = useTrades((s) => s.filter);
  useHashSync();

  useEffect(() => {
    void refresh(true);
    const timer = setInterval(() => void refresh(false), REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (!shortcutAllowed(event) || event.altKey) return;
      const { page } = tradesStore().getState();
      if (event.key === '[') setPage(page - 1);
      else if (event.key === ']') setPage(page + 1);
      else if (event.key === 'r') void refresh(true);
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [setPage, refresh]);

  const filtered = filter !== EMPTY_FILTER && isFiltered(filter);
  return (
    <section className="trades" data-testid="trades-screen">
      <div className="screen-header">
        <h1>Trades</h1>
        <span className="muted">{filtered ? 'filtered' : 'all variants'}</span>
        <span className="muted hint">[ ] page · r reload · numbers net of commission, times in exchange time</span>
      </div>
      <FilterBar />
      <StatsSummary stats={stats} />
      <div className="trades-charts">
        <EquityChart points={stats?.equity ?? []} capital={stats?.capital ?? capital} />
        <PnlHistogram periods={stats?.periods ?? []} period={stats?.period ?? period} />
      </div>
      <div className="trades-body">
        <TradesTable />
        <aside className="trades-side">
          {stats ? (
            <>
              <SymbolTable stats={stats} />
              <PeriodTable stats={stats} />
            </>
          ) : null}
        </aside>
      </div>
    </section>
  );
}
