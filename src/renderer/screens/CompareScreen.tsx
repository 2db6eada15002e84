import { useMemo } from 'react';
import { KlineChartView } from '../chart/KlineChartView.js';
import { ChartLinker } from '../chart/timeLink.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { formatExchangeText, formatPrice } from '../lib/format.js';
import { formatMoney, moneyTone } from '../lib/money.js';
import { defaultComparison, useCompare } from '../stores/compare.js';
import { useNavigation } from '../stores/navigation.js';
import { useTrading } from '../stores/trading.js';
import { useVariants } from '../stores/variants.js';
import '../styles/dashboard.css';

function ComparePane({ variant, linker }: { variant: string; linker: ChartLinker }) {
  const summary = useVariants((s) => s.summaries[variant]);
  const book = useTrading((s) => s.books[variant]);
  const go = useNavigation((s) => s.go);
  const position = book?.positions.find((p) => p.volume !== 0);
  return (
    <div className="compare-pane" data-testid="compare-pane" data-variant={variant}>
      <div className="compare-pane-header">
        <button type="button" className="btn-link compare-name" title={`Open ${variant} on the dashboard`} onClick={() => go('dashboard', variant)}>
          {variant}
        </button>
        {summary ? <StatusBadge status={summary.status} /> : null}
        <span className="mono">{summary?.vtSymbol ?? '—'}</span>
        <span className="compare-window">{summary?.windowMinutes ? `${summary.windowMinutes}m` : '—'}</span>
        <span className="field" title="Open position">
          <span className="field-label">Pos</span>
          <span className="field-value">{position ? `${position.direction === 'long' ? 'L' : 'S'} ${position.volume} @ ${formatPrice(position.avgPrice, 2)}` : 'flat'}</span>
        </span>
        <span className="field" title="Equity change since the current trading day began">
          <span className="field-label">Today</span>
          <span className={`field-value num ${moneyTone(book?.pnl.today)}`}>{formatMoney(book?.pnl.today)}</span>
        </span>
        <span className="field muted" title="Start of the last 1-minute bar processed, exchange time">
          <span className="mono">{formatExchangeText(summary?.lastBarAt ?? null)}</span>
        </span>
      </div>
      <KlineChartView variant={variant} linker={linker} testId="compare-chart" />
    </div>
  );
}

/**
 * Variants side by side (the 15- and 30-minute variants of one product, say): one live chart
 * each, the crosshair and the visible time range linked, so a signal on one window can be
 * read against the other at the same moment.
 */
export function CompareScreen() {
  const order = useVariants((s) => s.order);
  const summaries = useVariants((s) => s.summaries);
  const loaded = useVariants((s) => s.loaded);
  const chosen = useCompare((s) => s.chosen);
  const toggle = useCompare((s) => s.toggle);
  const reset = useCompare((s) => s.reset);
  const fallback = useMemo(() => defaultComparison(order, summaries), [order, summaries]);
  const shown = chosen ?? fallback;
  // One linker for the screen's life: charts join and leave it as the selection changes.
  const linker = useMemo(() => new ChartLinker(), []);
  if (order.length === 0) {
    return (
      <section className="compare">
        <div className="empty">{loaded ? 'No variant to compare: none is configured or publishing.' : 'Loading variants…'}</div>
      </section>
    );
  }
  return (
    <section className="compare" data-testid="compare-screen">
      <div className="compare-bar">
        <span className="field-label">Compare</span>
        {order.map((v) => {
          const s = summaries[v];
          const on = shown.includes(v);
          return (
            <label key={v} className={on ? 'compare-chip on' : 'compare-chip'} data-testid="compare-pick" data-variant={v}>
              <input type="checkbox" checked={on} onChange={() => toggle(v, order, shown)} />
              <span className="compare-chip-name">{v}</span>
              <span className="muted">
                {s?.vtSymbol ?? ''} {s?.windowMinutes ? `${s.windowMinutes}m` : ''}
              </span>
            </label>
          );
        })}
        <button type="button" className="btn btn-small" onClick={reset} disabled={chosen === null} title="The variants trading the first variant's instrument">
          Same instrument
        </button>
        <span className="hint muted">Crosshair and time range follow the chart under the pointer</span>
      </div>
      <div className="compare-grid" style={{ gridTemplateColumns: `repeat(${Math.min(shown.length, 3)}, minmax(0, 1fr))` }}>
        {shown.map((v) => (
          <ComparePane key={v} variant={v} linker={linker} />
        ))}
      </div>
    </section>
  );
}
