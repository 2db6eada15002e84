import { useCallback, useEffect, useState, type ReactNode } from 'react';
import type { Snapshot } from '../../shared/snapshot.js';
import { KlineChartView } from '../chart/KlineChartView.js';
import { BookStrip } from '../components/BookStrip.js';
import { FillsTable, OrdersTable, PositionsTable } from '../components/BookTables.js';
import { RestartTag } from '../components/RestartTag.js';
import { SignalBadges } from '../components/SignalBadges.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { formatAge, formatExchangeText } from '../lib/format.js';
import { pickInstrument } from '../lib/instruments.js';
import { shortcutAllowed } from '../lib/keyboard.js';
import { useClock } from '../stores/clock.js';
import { useNavigation } from '../stores/navigation.js';
import { useTrading } from '../stores/trading.js';
import { sourceOf, useVariants, type InstrumentSignals } from '../stores/variants.js';
import '../styles/dashboard.css';

function Field({ label, children, testId, title }: { label: string; children: ReactNode; testId?: string; title?: string }) {
  return (
    <span className="field" title={title}>
      <span className="field-label">{label}</span>
      <span className="field-value" data-testid={testId}>
        {children}
      </span>
    </span>
  );
}

/** "EMA 20/60" from the strategy's display lines (the variant's own periods). */
function emaBadgeLabel(snapshot: Snapshot | null): string {
  const lines = snapshot?.display?.lines ?? [];
  const periods = lines.map((l) => l.label.replace(/^EMA/, ''));
  return periods.length > 0 ? `EMA ${periods.join('/')}` : 'EMA';
}

function Header({ variant, snapshot, vtSymbol: shownSymbol }: { variant: string; snapshot: Snapshot | null; vtSymbol: string | null }) {
  const summary = useVariants((s) => s.summaries[variant]);
  const order = useVariants((s) => s.order);
  const note = useVariants((s) => s.restartNotes[variant]);
  const source = useVariants((s) => sourceOf(s, variant));
  const go = useNavigation((s) => s.go);
  const now = useClock((s) => s.now);
  const instrument = snapshot?.instruments[0];
  const vtSymbol = shownSymbol ?? summary?.vtSymbol ?? instrument?.vtSymbol ?? null;
  const windowMinutes = summary?.windowMinutes ?? instrument?.windowMinutes ?? null;
  const status = summary?.status ?? snapshot?.status ?? null;
  const pid = summary ? summary.pid : (snapshot?.pid ?? null);
  const options = order.includes(variant) ? order : [variant, ...order];
  return (
    <div className="dash-header" data-testid="dashboard-header" data-variant={variant}>
      <select
        className="variant-select"
        value={variant}
        onChange={(e) => go('dashboard', e.target.value)}
        aria-label="Variant"
        data-testid="dash-variant"
        title="Switch variant ([ and ] step through them)"
      >
        {options.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
      {status ? (
        <span data-testid="dash-status">
          <StatusBadge status={status} />
        </span>
      ) : null}
      <Field label="Symbol" testId="dash-symbol">
        <span className="mono">{vtSymbol ?? '—'}</span>
      </Field>
      <Field label="Int.">{windowMinutes === null ? '—' : `${windowMinutes}m`}</Field>
      <Field label="Strategy">{summary?.strategy ?? snapshot?.strategy ?? '—'}</Field>
      <Field label="PID" testId="dash-pid">
        <span className="mono">{pid ?? '—'}</span>
      </Field>
      <RestartTag note={note} />
      <Field label="Restarts" testId="dash-restarts">
        {summary?.restarts ?? 0}
      </Field>
      <Field label="Source">
        <span className={source === 'simulated' ? 'source source-simulated' : 'source'}>{source ?? '—'}</span>
      </Field>
      <Field label="Last bar" title="Start of the last 1-minute bar processed, exchange time">
        <span className="mono">{formatExchangeText(summary?.lastBarAt ?? instrument?.lastBarAt ?? null)}</span>
      </Field>
      <Field label="Updated" title={summary?.updatedAt ?? snapshot?.updatedAt ?? ''}>
        {formatAge(summary?.updatedAt ?? snapshot?.updatedAt ?? null, now)}
      </Field>
      {summary?.message ? (
        <span className="dash-message muted" title={summary.message}>
          {summary.message}
        </span>
      ) : null}
    </div>
  );
}

/**
 * One tab per instrument of a variant's universe (shown only when it has several): the chart and
 * the signal badges below follow the chosen one. Tabs are the contracts traded now; after a roll
 * a tab keeps its product and moves to the new contract.
 */
function InstrumentTabs({
  variant,
  instruments,
  shown,
}: {
  variant: string;
  instruments: readonly InstrumentSignals[];
  shown: string | null;
}) {
  const choose = useVariants((s) => s.chooseInstrument);
  if (instruments.length < 2) return null;
  return (
    <div className="instrument-tabs" role="tablist" aria-label="Instrument" data-testid="instrument-tabs">
      {instruments.map((i) => (
        <button
          key={i.vtSymbol}
          type="button"
          role="tab"
          className={i.vtSymbol === shown ? 'instrument-tab active' : 'instrument-tab'}
          aria-selected={i.vtSymbol === shown}
          data-testid="instrument-tab"
          data-vt-symbol={i.vtSymbol}
          title={`Show ${i.vtSymbol}: its chart and signals`}
          onClick={() => choose(variant, i.vtSymbol)}
        >
          <span className="mono">{i.vtSymbol}</span>
          <span className={`tab-ema tab-ema-${i.signals.emaState}`} aria-hidden="true" />
        </button>
      ))}
    </div>
  );
}

export function DashboardScreen() {
  const routeVariant = useNavigation((s) => s.variant);
  const lastVariant = useNavigation((s) => s.lastVariant);
  const go = useNavigation((s) => s.go);
  const order = useVariants((s) => s.order);
  const loaded = useVariants((s) => s.loaded);
  const variant = routeVariant ?? lastVariant ?? order[0] ?? null;
  const liveInstruments = useVariants((s) => (variant ? s.instruments[variant] : undefined));
  const chosen = useVariants((s) => (variant ? s.chosenInstruments[variant] : undefined));
  const setSnapshotSource = useVariants((s) => s.setSnapshotSource);
  const seedInstruments = useVariants((s) => s.seedInstruments);
  const summary = useVariants((s) => (variant ? s.summaries[variant] : undefined));
  const book = useTrading((s) => (variant ? s.books[variant] : undefined));
  const [loadedSnapshot, setSnapshot] = useState<Snapshot | null>(null);
  // Until the new variant's snapshot arrives, the previous one's must not be shown.
  const snapshot = loadedSnapshot?.variant === variant ? loadedSnapshot : null;

  // Put the chosen variant into the URL so that back/forward and reloads keep it.
  useEffect(() => {
    if (routeVariant === null && variant !== null) go('dashboard', variant);
  }, [routeVariant, variant, go]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (!shortcutAllowed(event) || event.altKey || !variant || order.length < 2) return;
      if (event.key !== '[' && event.key !== ']') return;
      event.preventDefault();
      const i = order.indexOf(variant);
      const next = event.key === ']' ? (i + 1) % order.length : (i - 1 + order.length) % order.length;
      const target = order[next];
      if (target) go('dashboard', target);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [order, variant, go]);

  const onSnapshot = useCallback(
    (s: Snapshot) => {
      setSnapshot(s);
      setSnapshotSource(s.variant, s.source);
      seedInstruments(s);
    },
    [setSnapshotSource, seedInstruments],
  );

  if (!variant) {
    return (
      <section className="dashboard">
        <div className="empty">{loaded ? 'No variant to show: none is configured or publishing.' : 'Loading variants…'}</div>
      </section>
    );
  }
  const instruments = liveInstruments ?? snapshot?.instruments ?? [];
  const shown = pickInstrument(instruments, chosen) ?? null;
  return (
    <section className="dashboard" data-testid="dashboard-screen">
      <Header variant={variant} snapshot={snapshot} vtSymbol={shown?.vtSymbol ?? null} />
      <BookStrip variant={variant} summary={summary} book={book} />
      <InstrumentTabs variant={variant} instruments={instruments} shown={shown?.vtSymbol ?? null} />
      <SignalBadges signals={shown?.signals ?? null} emaLabel={emaBadgeLabel(snapshot)} vtSymbol={shown?.vtSymbol ?? null} {...(snapshot?.display ? { badges: snapshot.display.badges } : {})} />
      {/* Only the trader's choice goes to the chart: its default is the same first instrument, so no reload when the list arrives. */}
      <KlineChartView key={variant} variant={variant} instrument={chosen ?? null} onSnapshot={onSnapshot} />
      <div className="book-panels" data-testid="book-panels">
        <PositionsTable positions={book?.positions ?? []} />
        <OrdersTable orders={book?.orders ?? []} />
        <FillsTable fills={book?.recentTrades ?? []} />
      </div>
    </section>
  );
}
