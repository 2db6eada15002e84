import { useEffect, useMemo, useRef, useState } from 'react';
import { ALERT_LEVELS } from '../../shared/alertLevels.js';
import type { Alert } from '../../shared/api.js';
import { getApi } from '../api/index.js';
import { formatAlertTime, formatContextValue } from '../lib/alertFormat.js';
import { formatAge } from '../lib/format.js';
import { dialogOpen, shortcutAllowed } from '../lib/keyboard.js';
import {
  HOST_WIDE,
  NO_FILTER,
  TOAST_MS,
  countOpenAlerts,
  filterAlerts,
  useAlerts,
  type AlertFilter,
} from '../stores/alerts.js';
import { useClock } from '../stores/clock.js';
import { useVariants } from '../stores/variants.js';
import '../styles/alerts.css';
import { LevelBadge } from './LevelBadge.js';

/** The key that opens and closes the alerts panel (listed in the help). */
export const ALERTS_KEY = 'a';

/** Select values that cannot be variant names (those start with a letter or digit). */
const ALL_VALUE = '*';
const HOST_VALUE = '-';

function BellIcon() {
  return (
    <svg className="bell-icon" width="13" height="13" viewBox="0 0 16 16" aria-hidden="true">
      <path
        fill="currentColor"
        d="M8 1.5a1 1 0 0 1 1 1v.6a4.5 4.5 0 0 1 3.5 4.4v2.8l1.3 1.7a.6.6 0 0 1-.5 1H2.7a.6.6 0 0 1-.5-1l1.3-1.7V7.5A4.5 4.5 0 0 1 7 3.1v-.6a1 1 0 0 1 1-1ZM6.3 14h3.4a1.7 1.7 0 0 1-3.4 0Z"
      />
    </svg>
  );
}

function AlertItem({
  alert,
  expanded,
  onToggle,
  now,
}: {
  alert: Alert;
  expanded: boolean;
  onToggle: (id: string) => void;
  now: number;
}) {
  const pending = useAlerts((s) => s.pending[alert.id] === true);
  const acknowledge = useAlerts((s) => s.acknowledge);
  const context = Object.entries(alert.context);
  return (
    <li
      className={['alert-item', `level-${alert.level.toLowerCase()}`, alert.acknowledged ? 'acked' : '', expanded ? 'expanded' : '']
        .filter(Boolean)
        .join(' ')}
      data-testid="alert-row"
      data-id={alert.id}
      data-level={alert.level}
      data-variant={alert.variant ?? ''}
      data-acknowledged={String(alert.acknowledged)}
    >
      <button type="button" className="alert-main" aria-expanded={expanded} onClick={() => onToggle(alert.id)}>
        <span className="alert-line">
          <span className="alert-time mono" title={`${alert.time} (${formatAge(alert.time, now)})`}>
            {formatAlertTime(alert.time, now)}
          </span>
          <LevelBadge level={alert.level} kind="alert" />
          <span className="alert-variant" data-testid="alert-variant">
            {alert.variant ?? 'host'}
          </span>
          <span className="alert-title" data-testid="alert-title">
            {alert.title}
          </span>
        </span>
        <span className="alert-message" data-testid="alert-message" title={alert.message}>
          {alert.message}
        </span>
      </button>
      <span className="alert-ack">
        {alert.acknowledged ? (
          <span className="muted" title="Acknowledged">
            ✓ seen
          </span>
        ) : (
          <button
            type="button"
            className="btn btn-small"
            disabled={pending}
            onClick={() => void acknowledge(getApi(), [alert.id])}
            data-testid="alert-ack"
          >
            {pending ? 'Acking…' : 'Acknowledge'}
          </button>
        )}
      </span>
      {expanded ? (
        <div className="alert-detail" data-testid="alert-detail">
          <p className="alert-full-message">{alert.message}</p>
          <dl>
            {context.map(([key, value]) => (
              <div key={key} className="ctx-row">
                <dt>{key}</dt>
                <dd className="mono">{formatContextValue(value)}</dd>
              </div>
            ))}
            <div className="ctx-row">
              <dt>time</dt>
              <dd className="mono">{alert.time}</dd>
            </div>
            <div className="ctx-row">
              <dt>id</dt>
              <dd className="mono">{alert.id}</dd>
            </div>
          </dl>
        </div>
      ) : null}
    </li>
  );
}

function filterValue(filter: AlertFilter): string {
  if (filter.variant === null) return ALL_VALUE;
  return filter.variant === HOST_WIDE ? HOST_VALUE : filter.variant;
}

function AlertsDrawer() {
  const alerts = useAlerts((s) => s.alerts);
  const filter = useAlerts((s) => s.filter);
  const loaded = useAlerts((s) => s.loaded);
  const loadError = useAlerts((s) => s.loadError);
  const ackError = useAlerts((s) => s.ackError);
  const anyPending = useAlerts((s) => Object.keys(s.pending).length > 0);
  const setFilter = useAlerts((s) => s.setFilter);
  const closePanel = useAlerts((s) => s.closePanel);
  const acknowledge = useAlerts((s) => s.acknowledge);
  const dismissAckError = useAlerts((s) => s.dismissAckError);
  const order = useVariants((s) => s.order);
  const now = useClock((s) => s.now);
  const [expanded, setExpanded] = useState<string | null>(null);
  const ref = useRef<HTMLElement>(null);

  useEffect(() => {
    // Keyboard users land in the panel; the page behind stays usable (not modal).
    ref.current?.focus();
  }, []);

  const shown = useMemo(() => filterAlerts(alerts, filter), [alerts, filter]);
  const open = useMemo(() => countOpenAlerts(alerts), [alerts]);
  const shownOpen = useMemo(() => shown.filter((a) => !a.acknowledged).map((a) => a.id), [shown]);
  const variants = useMemo(() => {
    const names = new Set(order);
    for (const a of alerts) if (a.variant !== null) names.add(a.variant);
    if (filter.variant !== null && filter.variant !== HOST_WIDE) names.add(filter.variant);
    return [...names].sort();
  }, [order, alerts, filter.variant]);
  const filtered = filter.minLevel !== null || filter.variant !== null;

  return (
    <aside className="alerts-drawer" role="dialog" aria-modal="false" aria-label="Alerts" tabIndex={-1} ref={ref} data-testid="alerts-panel">
      <header className="alerts-head">
        <h2>Alerts</h2>
        <span className="muted" data-testid="alerts-open-count">
          {open.total} unacknowledged
        </span>
        <span className="topbar-spacer" />
        <button type="button" className="btn-link alerts-close" aria-label="Close the alerts panel (Esc)" title="Close (Esc)" onClick={closePanel}>
          ×
        </button>
      </header>
      <div className="alerts-filters">
        <label className="alerts-filter">
          <span className="field-label">Level</span>
          <select
            value={filter.minLevel ?? ALL_VALUE}
            onChange={(e) => {
              const v = e.target.value;
              setFilter({ minLevel: ALERT_LEVELS.find((l) => l === v) ?? null });
            }}
            data-testid="alerts-filter-level"
          >
            <option value={ALL_VALUE}>All</option>
            {ALERT_LEVELS.slice(1).map((l) => (
              <option key={l} value={l}>
                {l === 'CRITICAL' ? l : `${l} and above`}
              </option>
            ))}
          </select>
        </label>
        <label className="alerts-filter">
          <span className="field-label">Variant</span>
          <select
            value={filterValue(filter)}
            onChange={(e) => {
              const v = e.target.value;
              setFilter({ variant: v === ALL_VALUE ? null : v === HOST_VALUE ? HOST_WIDE : v });
            }}
            data-testid="alerts-filter-variant"
          >
            <option value={ALL_VALUE}>All</option>
            <option value={HOST_VALUE}>host-wide</option>
            {variants.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        </label>
        {filtered ? (
          <button type="button" className="btn-link alerts-clear" onClick={() => setFilter(NO_FILTER)} data-testid="alerts-filter-clear">
            clear
          </button>
        ) : null}
        <span className="topbar-spacer" />
        <button
          type="button"
          className="btn btn-small"
          disabled={shownOpen.length === 0 || anyPending}
          onClick={() => void acknowledge(getApi(), shownOpen)}
          data-testid="alerts-ack-all"
          title="Acknowledge every unacknowledged alert the filters show"
        >
          Acknowledge shown ({shownOpen.length})
        </button>
      </div>
      {ackError ? (
        <div className="alerts-error" role="alert" data-testid="alerts-ack-error">
          <span>{ackError}</span>
          <button type="button" className="btn-link" aria-label="Dismiss" onClick={dismissAckError}>
            ×
          </button>
        </div>
      ) : null}
      {!loaded && loadError ? (
        <div className="alerts-empty error" role="alert">
          Could not list alerts: {loadError}
        </div>
      ) : !loaded ? (
        <div className="alerts-empty">Loading alerts…</div>
      ) : shown.length === 0 ? (
        <div className="alerts-empty">{alerts.length === 0 ? 'No alerts since the host started.' : 'No alert matches the filters.'}</div>
      ) : (
        <ul className="alerts-list" data-testid="alerts-list">
          {shown.map((a) => (
            <AlertItem key={a.id} alert={a} expanded={expanded === a.id} onToggle={(id) => setExpanded((e) => (e === id ? null : id))} now={now} />
          ))}
        </ul>
      )}
      <footer className="alerts-foot muted">
        {shown.length} shown of {alerts.length} · newest first · times on this machine&apos;s clock
      </footer>
    </aside>
  );
}

function Toasts() {
  const toasts = useAlerts((s) => s.toasts);
  const dismiss = useAlerts((s) => s.dismissToast);
  const openPanel = useAlerts((s) => s.openPanel);
  const panelOpen = useAlerts((s) => s.panelOpen);
  const now = useClock((s) => s.now);
  const live = toasts.filter((t) => now - t.at < TOAST_MS);
  if (live.length === 0) return null;
  return (
    // Beside the open panel, not over its list.
    <div className={panelOpen ? 'alert-toasts beside-panel' : 'alert-toasts'} aria-live="polite">
      {live.map(({ alert }) => (
        <div key={alert.id} className={`alert-toast level-${alert.level.toLowerCase()}`} role="status" data-testid="alert-toast" data-id={alert.id}>
          <button type="button" className="toast-body" onClick={() => openPanel(NO_FILTER)} title="Open the alerts panel">
            <span className="toast-head">
              <LevelBadge level={alert.level} kind="alert" />
              <span className="alert-variant">{alert.variant ?? 'host'}</span>
            </span>
            <span className="toast-title">{alert.title}</span>
            <span className="toast-message">{alert.message}</span>
          </button>
          <button type="button" className="btn-link toast-close" aria-label="Dismiss" onClick={() => dismiss(alert.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

/**
 * The top bar's bell: how many alerts are unacknowledged, coloured by the highest level among
 * them; it opens the alerts panel (also with the "a" key; Esc closes it). Live WARNING-and-above
 * alerts pop a toast for a few seconds.
 */
export function AlertBell() {
  const alerts = useAlerts((s) => s.alerts);
  const panelOpen = useAlerts((s) => s.panelOpen);
  const loaded = useAlerts((s) => s.loaded);
  const togglePanel = useAlerts((s) => s.togglePanel);
  const closePanel = useAlerts((s) => s.closePanel);
  const counts = useMemo(() => countOpenAlerts(alerts), [alerts]);
  const bellRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === 'Escape' && useAlerts.getState().panelOpen && !dialogOpen()) {
        const focused = document.activeElement;
        const inside = focused instanceof Element && focused.closest('.alerts-drawer') !== null;
        closePanel();
        if (inside) bellRef.current?.focus();
        return;
      }
      if (event.key === ALERTS_KEY && !event.altKey && shortcutAllowed(event)) {
        event.preventDefault();
        togglePanel();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [togglePanel, closePanel]);

  const level = counts.highest;
  const byLevel = ALERT_LEVELS.filter((l) => counts.byLevel[l] > 0)
    .map((l) => `${counts.byLevel[l]} ${l}`)
    .join(', ');
  return (
    <>
      <button
        type="button"
        ref={bellRef}
        className={['tool-button', 'alert-bell', level ? `bell-${level.toLowerCase()}` : 'bell-none', panelOpen ? 'active' : ''].filter(Boolean).join(' ')}
        onClick={togglePanel}
        aria-expanded={panelOpen}
        aria-label={`Alerts: ${counts.total} unacknowledged`}
        title={counts.total === 0 ? 'Alerts: none unacknowledged (a)' : `Alerts: ${byLevel} unacknowledged (a)`}
        data-testid="alerts-bell"
        data-count={counts.total}
        data-level={level ?? ''}
        data-loaded={String(loaded)}
      >
        <BellIcon />
        <span className="bell-count" data-testid="alerts-bell-count">
          {counts.total}
        </span>
      </button>
      {panelOpen ? <AlertsDrawer /> : null}
      <Toasts />
    </>
  );
}
