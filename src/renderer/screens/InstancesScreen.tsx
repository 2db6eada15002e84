import { useCallback, useEffect, useState } from 'react';
import type { VariantSummary } from '../../shared/api.js';
import { getApi } from '../api/index.js';
import { ConfirmDialog, type ConfirmRequest } from '../components/ConfirmDialog.js';
import { RestartTag } from '../components/RestartTag.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { formatAge, formatExchangeText } from '../lib/format.js';
import { shortcutAllowed } from '../lib/keyboard.js';
import { useClock } from '../stores/clock.js';
import { useCommands, type CommandKind } from '../stores/commands.js';
import { useNavigation } from '../stores/navigation.js';
import { sourceOf, useVariants } from '../stores/variants.js';

/** Which commands make sense in a status; the host still has the last word. */
const LIVE_STATUSES: ReadonlySet<VariantSummary['status']> = new Set(['starting', 'restoring', 'running', 'degraded', 'halted']);

/** How long a successful command's note stays. */
const OK_NOTE_MS = 10_000;

const PENDING_TEXT: Record<CommandKind, string> = { start: 'starting…', stop: 'stopping…', restart: 'restarting…' };

function confirmFor(kind: 'stop' | 'restart', s: VariantSummary): ConfirmRequest {
  return kind === 'stop'
    ? {
        title: `Stop ${s.variant}?`,
        body: `The worker (pid ${s.pid ?? '—'}) finishes its current bar, saves its state and exits. It stays stopped until started again.`,
        confirmLabel: `Stop ${s.variant}`,
        danger: true,
      }
    : {
        title: `Restart ${s.variant}?`,
        body: `The worker (pid ${s.pid ?? '—'}) stops and a new one starts; it restores from saved state and history, trading frozen until restored.`,
        confirmLabel: `Restart ${s.variant}`,
        danger: true,
      };
}

function Row({
  summary,
  selected,
  onOpen,
  onCommand,
}: {
  summary: VariantSummary;
  selected: boolean;
  onOpen: (variant: string) => void;
  onCommand: (kind: CommandKind, summary: VariantSummary) => void;
}) {
  const now = useClock((s) => s.now);
  const note = useVariants((s) => s.restartNotes[summary.variant]);
  const source = useVariants((s) => sourceOf(s, summary.variant));
  const pending = useCommands((s) => s.pending[summary.variant]);
  const live = LIVE_STATUSES.has(summary.status);
  const restartedRecently = note !== undefined && now - note.at < 3000;
  const className = ['variant-row', selected ? 'selected' : '', restartedRecently ? 'flash' : ''].filter(Boolean).join(' ');
  return (
    <tr
      className={className}
      data-testid="variant-row"
      data-variant={summary.variant}
      aria-selected={selected}
      onClick={() => onOpen(summary.variant)}
    >
      <td className="col-variant" data-col="variant">
        <span className="variant-name">{summary.variant}</span>
        <span className="variant-strategy">{summary.strategy}</span>
      </td>
      <td data-col="status">
        <StatusBadge status={summary.status} />
      </td>
      <td className="mono" data-col="symbol">
        {summary.vtSymbol ?? '—'}
      </td>
      <td className="num" data-col="interval">
        {summary.windowMinutes === null ? '—' : `${summary.windowMinutes}m`}
      </td>
      <td className="mono num" data-col="last-bar" title="Start of the last 1-minute bar processed, exchange time">
        {formatExchangeText(summary.lastBarAt)}
      </td>
      <td className="num muted" data-col="updated" title={summary.updatedAt ?? 'no snapshot yet'}>
        {formatAge(summary.updatedAt, now)}
      </td>
      <td className="num" data-col="restarts">
        {summary.restarts}
      </td>
      <td className="num mono" data-col="pid">
        <RestartTag note={note} />
        <span className="pid">{summary.pid ?? '—'}</span>
      </td>
      <td data-col="source">
        <span className={source === 'simulated' ? 'source source-simulated' : 'source'}>{source ?? '—'}</span>
        {summary.external ? <span className="source external">external</span> : null}
      </td>
      <td className="col-message muted" data-col="message" title={summary.message ?? ''}>
        {summary.message ?? ''}
      </td>
      <td className="col-actions" data-col="actions" onClick={(e) => e.stopPropagation()}>
        {summary.external ? (
          <span className="muted" title="Published by a process Kestrel does not supervise">not supervised</span>
        ) : pending ? (
          <span className="pending">{PENDING_TEXT[pending]}</span>
        ) : (
          <>
            <button
              type="button"
              className="btn btn-small"
              disabled={live}
              onClick={() => onCommand('start', summary)}
              data-testid="cmd-start"
            >
              Start
            </button>
            <button
              type="button"
              className="btn btn-small"
              disabled={!live}
              onClick={() => onCommand('stop', summary)}
              data-testid="cmd-stop"
            >
              Stop
            </button>
            <button type="button" className="btn btn-small" onClick={() => onCommand('restart', summary)} data-testid="cmd-restart">
              Restart
            </button>
          </>
        )}
      </td>
    </tr>
  );
}

function CommandNoteRow({ variant }: { variant: string }) {
  const note = useCommands((s) => s.notes[variant]);
  const dismiss = useCommands((s) => s.dismiss);
  const now = useClock((s) => s.now);
  if (!note || (note.kind === 'ok' && now - note.at > OK_NOTE_MS)) return null;
  return (
    <tr className={`row-note row-note-${note.kind}`}>
      <td colSpan={11}>
        <div role={note.kind === 'error' ? 'alert' : 'status'} data-testid="command-note" data-variant={variant} data-kind={note.kind}>
          <span className="note-command">{note.command}</span>
          <span className="note-text">{note.text}</span>
          <button type="button" className="btn-link" onClick={() => dismiss(variant)} aria-label="Dismiss">
            ×
          </button>
        </div>
      </td>
    </tr>
  );
}

export function InstancesScreen() {
  const order = useVariants((s) => s.order);
  const summaries = useVariants((s) => s.summaries);
  const loaded = useVariants((s) => s.loaded);
  const loadError = useVariants((s) => s.loadError);
  const go = useNavigation((s) => s.go);
  const lastVariant = useNavigation((s) => s.lastVariant);
  const run = useCommands((s) => s.run);
  const [selected, setSelected] = useState<string | null>(lastVariant);
  const [confirm, setConfirm] = useState<{ kind: 'stop' | 'restart'; summary: VariantSummary } | null>(null);

  const open = useCallback((variant: string) => go('dashboard', variant), [go]);
  const onCommand = useCallback(
    (kind: CommandKind, summary: VariantSummary) => {
      if (kind === 'start') void run(getApi(), summary.variant, 'start');
      else setConfirm({ kind, summary });
    },
    [run],
  );

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (!shortcutAllowed(event) || event.altKey || order.length === 0) return;
      const index = selected === null ? -1 : order.indexOf(selected);
      if (event.key === 'ArrowDown' || event.key === 'j') {
        event.preventDefault();
        setSelected(order[Math.min(order.length - 1, index + 1)] ?? null);
      } else if (event.key === 'ArrowUp' || event.key === 'k') {
        event.preventDefault();
        setSelected(order[Math.max(0, index - 1)] ?? null);
      } else if (event.key === 'Enter' && selected !== null && order.includes(selected)) {
        event.preventDefault();
        open(selected);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [order, selected, open]);

  const closeConfirm = useCallback(() => setConfirm(null), []);

  return (
    <section className="instances" data-testid="instances-screen">
      <div className="screen-header">
        <h1>Instances</h1>
        <span className="muted">{order.length} variant{order.length === 1 ? '' : 's'}</span>
        <span className="muted hint">click a row or press Enter to open its dashboard</span>
      </div>
      {!loaded && !loadError ? <div className="empty">Loading variants…</div> : null}
      {loadError && !loaded ? (
        <div className="empty error" role="alert">
          Could not list variants: {loadError}
        </div>
      ) : null}
      {loaded && order.length === 0 ? <div className="empty">No variants are configured or publishing snapshots.</div> : null}
      {order.length > 0 ? (
        <table className="grid instances-table" data-testid="instances-table">
          {/* Fixed widths: a "restarted" tag or a long message must not shift the columns. */}
          <colgroup>
            <col className="w-variant" />
            <col className="w-status" />
            <col className="w-symbol" />
            <col className="w-int" />
            <col className="w-lastbar" />
            <col className="w-updated" />
            <col className="w-restarts" />
            <col className="w-pid" />
            <col className="w-source" />
            <col />
            <col className="w-actions" />
          </colgroup>
          <thead>
            <tr>
              <th>Variant</th>
              <th>Status</th>
              <th>Symbol</th>
              <th className="num">Int.</th>
              <th className="num" title="Start of the last 1-minute bar processed, exchange time">
                Last bar (exch.)
              </th>
              <th className="num" title="Wall-clock time since the last snapshot">
                Updated
              </th>
              <th className="num">Restarts</th>
              <th className="num">PID</th>
              <th>Source</th>
              <th>Message</th>
              <th className="col-actions">Commands</th>
            </tr>
          </thead>
          <tbody>
            {order.map((variant) => {
              const summary = summaries[variant];
              if (!summary) return null;
              return [
                <Row
                  key={variant}
                  summary={summary}
                  selected={variant === selected}
                  onOpen={open}
                  onCommand={onCommand}
                />,
                <CommandNoteRow key={`${variant}-note`} variant={variant} />,
              ];
            })}
          </tbody>
        </table>
      ) : null}
      {confirm ? (
        <ConfirmDialog
          request={confirmFor(confirm.kind, confirm.summary)}
          onCancel={closeConfirm}
          onConfirm={() => {
            setConfirm(null);
            void run(getApi(), confirm.summary.variant, confirm.kind);
          }}
        />
      ) : null}
    </section>
  );
}
