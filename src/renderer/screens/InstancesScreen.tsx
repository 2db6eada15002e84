import { useCallback, useEffect, useMemo, useState } from 'react';
import type { VariantSummary } from '../../shared/api.js';
import { getApi } from '../api/index.js';
import { ConfirmDialog, type ConfirmRequest } from '../components/ConfirmDialog.js';
import { RestartTag } from '../components/RestartTag.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { formatAge, formatExchangeText } from '../lib/format.js';
import { productContractsOf } from '../lib/instruments.js';
import { shortcutAllowed } from '../lib/keyboard.js';
import { formatMoney, moneyTone } from '../lib/money.js';
import { formatAvgPrice, formatLots, formatNetPosition, netPositions } from '../lib/position.js';
import { useAlerts } from '../stores/alerts.js';
import { useClock } from '../stores/clock.js';
import { useCommands, type CommandKind } from '../stores/commands.js';
import { useConnection } from '../stores/connection.js';
import { useFlatten } from '../stores/flatten.js';
import { useHalt } from '../stores/halt.js';
import { useNavigation } from '../stores/navigation.js';
import { useTrading, type VariantBook } from '../stores/trading.js';
import { sourceOf, useVariants } from '../stores/variants.js';
import '../styles/dashboard.css';
import '../styles/instances.css';

/** Which commands make sense in a status; the host still has the last word. */
const LIVE_STATUSES: ReadonlySet<VariantSummary['status']> = new Set(['starting', 'restoring', 'running', 'degraded', 'halted']);

/** How long a successful command's note stays. */
const OK_NOTE_MS = 10_000;

const PENDING_TEXT: Record<CommandKind, string> = { start: 'starting…', stop: 'stopping…', restart: 'restarting…' };

/** Confirmed commands: stop and restart interrupt the worker, halt and resume change what it may send, flatten closes what it holds. */
type ConfirmKind = 'stop' | 'restart' | 'halt' | 'resume' | 'flatten';

/** Why a row's Flatten is refused before it is clicked. */
const READ_ONLY_REASON = 'This host was started without --allow-control: commands are refused.';

function positionWords(book: VariantBook | undefined): string {
  const net = book ? netPositions(book.positions) : [];
  if (!book) return 'Its book is not known yet.';
  if (net.length === 0) return 'It is flat.';
  return `It holds ${net.map((p) => `${p.direction} ${formatLots(p.volume)} ${p.vtSymbol} @ ${formatAvgPrice(p.avgPrice)}`).join(', ')}.`;
}

function confirmFor(kind: ConfirmKind, s: VariantSummary): ConfirmRequest {
  if (kind === 'flatten') {
    return {
      title: `Flatten ${s.variant}?`,
      body: `${s.variant} is halted, its resting orders are cancelled and every open position is closed with a market order at the next bar's open. It stays halted until resumed. ${positionWords(useTrading.getState().books[s.variant])}`,
      confirmLabel: `Flatten ${s.variant}`,
      danger: true,
    };
  }
  if (kind === 'halt') {
    return {
      title: `Halt trading in ${s.variant}?`,
      body: `${s.variant} keeps computing its signals but sends no order until resumed. Open positions and resting orders stay as they are. ${positionWords(useTrading.getState().books[s.variant])}`,
      confirmLabel: `Halt ${s.variant}`,
      danger: true,
    };
  }
  if (kind === 'resume') {
    return {
      title: `Resume trading in ${s.variant}?`,
      body: `${s.variant} will send orders again on its next signals.`,
      confirmLabel: `Resume ${s.variant}`,
    };
  }
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

/** Statuses in which a halt means something: the worker runs and could send orders. */
const HALTABLE: ReadonlySet<VariantSummary['status']> = new Set(['starting', 'restoring', 'running', 'degraded', 'halted', 'stale']);

/** Variants whose snapshot this page has asked for: once each, for rows no update has filled yet. */
const seeded = new Set<string>();

/**
 * Rows take positions and PnL from each update's trading block; a variant that has sent none
 * since the page loaded (an external publisher that rarely writes, a stopped worker) gets its
 * last snapshot fetched once instead, so its row shows what it holds rather than nothing.
 */
function useSeedBooks(order: readonly string[]): void {
  useEffect(() => {
    for (const variant of order) {
      if (seeded.has(variant) || useTrading.getState().books[variant]) continue;
      seeded.add(variant);
      getApi()
        .getSnapshot({ variant })
        .then((snapshot) => useTrading.getState().applySnapshot(snapshot))
        .catch(() => {
          // No snapshot yet (404): its first update will carry the book.
        });
    }
  }, [order]);
}

function PositionCell({ variant }: { variant: string }) {
  const book = useTrading((s) => s.books[variant]);
  if (!book) {
    return (
      <td className="num mono muted" data-col="position" data-known="false" title="No book received yet">
        —
      </td>
    );
  }
  const net = netPositions(book.positions);
  const first = net[0];
  const legs = book.positions.map((p) => `${p.direction} ${formatLots(p.volume)} ${p.vtSymbol} @ ${p.avgPrice}`).join('\n');
  return (
    <td className="num mono" data-col="position" data-known="true" data-updated-at={book.updatedAt ?? ''} title={legs || 'flat'}>
      {first ? (
        <>
          <span className={first.direction === 'long' ? 'pos-side up' : 'pos-side down'}>{first.direction === 'long' ? 'L' : 'S'}</span>
          {formatNetPosition(first).slice(1)}
          {net.length > 1 ? <span className="muted"> +{net.length - 1}</span> : null}
        </>
      ) : (
        <span className="muted">—</span>
      )}
    </td>
  );
}

function TodayPnlCell({ variant }: { variant: string }) {
  const today = useTrading((s) => s.books[variant]?.pnl.today);
  return (
    <td
      className={`num mono ${moneyTone(today)}`}
      data-col="pnl-today"
      data-value={today ?? ''}
      title="Equity change since the current trading day began (realised + unrealised, net of commission)"
    >
      {formatMoney(today)}
    </td>
  );
}

function AlertsCell({ variant }: { variant: string }) {
  const count = useAlerts((s) => s.alerts.reduce((n, a) => (a.variant === variant && !a.acknowledged ? n + 1 : n), 0));
  const openPanel = useAlerts((s) => s.openPanel);
  return (
    <td className="num" data-col="alerts" onClick={(e) => e.stopPropagation()}>
      {count > 0 ? (
        <button
          type="button"
          className="alert-count"
          onClick={() => openPanel({ variant, minLevel: null })}
          title={`${count} unacknowledged alert${count === 1 ? '' : 's'} for ${variant}: show them`}
          data-testid="row-alerts"
          data-count={count}
        >
          {count}
        </button>
      ) : (
        <span className="muted" data-testid="row-alerts" data-count={0}>
          0
        </span>
      )}
    </td>
  );
}

/** The variant's products, each with the contract it trades now. */
function ProductsCell({ summary }: { summary: VariantSummary }) {
  const instruments = useVariants((s) => s.instruments[summary.variant]);
  const active = useTrading((s) => s.books[summary.variant]?.activeContracts);
  const products = useMemo(() => productContractsOf(instruments, summary.vtSymbol, active), [instruments, summary.vtSymbol, active]);
  const title = products.map((p) => `${p.product}: ${p.contract ?? 'not resolved yet'}`).join('\n');
  return (
    <td data-col="symbol" title={title}>
      {products.length === 0 ? (
        <span className="muted">—</span>
      ) : (
        <span className="product-contracts">
          {products.map((p) => (
            <span key={`${p.product}:${p.contract ?? ''}`} className="product-contract" data-testid="product-contract" data-product={p.product} data-contract={p.contract ?? ''}>
              <span className="product">{p.product}</span> <span className="mono">{p.contract ?? '—'}</span>
            </span>
          ))}
        </span>
      )}
    </td>
  );
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
  onCommand: (kind: CommandKind | 'halt' | 'resume' | 'flatten', summary: VariantSummary) => void;
}) {
  const control = useConnection((s) => s.status?.controlEnabled ?? null);
  const flattenPending = useFlatten((s) => s.pending[summary.variant] === true);
  const now = useClock((s) => s.now);
  const note = useVariants((s) => s.restartNotes[summary.variant]);
  const source = useVariants((s) => sourceOf(s, summary.variant));
  const pending = useCommands((s) => s.pending[summary.variant]);
  const haltPending = useHalt((s) => s.pending[summary.variant]);
  const live = LIVE_STATUSES.has(summary.status);
  const haltable = HALTABLE.has(summary.status);
  const restartedRecently = note !== undefined && now - note.at < 3000;
  const className = ['variant-row', selected ? 'selected' : '', restartedRecently ? 'flash' : '', summary.external ? 'external' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <tr
      className={className}
      data-testid="variant-row"
      data-variant={summary.variant}
      data-external={String(summary.external)}
      aria-selected={selected}
      onClick={() => onOpen(summary.variant)}
    >
      <td className="col-variant" data-col="variant" title={`${summary.variant} · ${summary.strategy}${summary.external ? ' · external publisher' : ''}`}>
        <span className="variant-name">{summary.variant}</span>
        {summary.external ? (
          <span className="ext-tag" data-testid="external-tag" title="Published by a process Kestrel does not supervise">
            EXT
          </span>
        ) : null}
        <span className="variant-strategy">{summary.strategy}</span>
      </td>
      <td data-col="status">
        <StatusBadge status={summary.status} />
        {summary.halted && summary.status !== 'halted' ? (
          <span className="halt-tag" data-testid="halted-tag" title="Trading halted: no orders are sent">
            H
          </span>
        ) : null}
      </td>
      <ProductsCell summary={summary} />
      <td className="num" data-col="interval">
        {summary.windowMinutes === null ? '—' : `${summary.windowMinutes}m`}
      </td>
      <td className="mono num" data-col="last-bar" title="Start of the last 1-minute bar processed, exchange time">
        {formatExchangeText(summary.lastBarAt)}
      </td>
      <td className="num muted" data-col="updated" title={summary.updatedAt ?? 'no snapshot yet'}>
        {formatAge(summary.updatedAt, now)}
      </td>
      <PositionCell variant={summary.variant} />
      <TodayPnlCell variant={summary.variant} />
      <AlertsCell variant={summary.variant} />
      <td className="num" data-col="restarts">
        {summary.restarts}
      </td>
      <td className="num mono" data-col="pid">
        <span className="pid">{summary.pid ?? '—'}</span>
      </td>
      <td data-col="source">
        <span className={source === 'simulated' ? 'source source-simulated' : 'source'}>{source ?? '—'}</span>
      </td>
      <td className="col-message muted" data-col="message" title={summary.message ?? ''}>
        <RestartTag note={note} />
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
            <button
              type="button"
              className={summary.halted ? 'btn btn-small btn-resume' : 'btn btn-small btn-halt'}
              disabled={!haltable || haltPending !== undefined}
              onClick={() => onCommand(summary.halted ? 'resume' : 'halt', summary)}
              data-testid="cmd-halt"
              data-halted={String(summary.halted)}
              title={
                summary.halted
                  ? `Trading is halted in ${summary.variant}: let it send orders again`
                  : `Halt ${summary.variant}: signals keep being computed, no orders are sent`
              }
            >
              {haltPending !== undefined ? (haltPending ? 'Halting…' : 'Resuming…') : summary.halted ? 'Resume' : 'Halt'}
            </button>
            <button
              type="button"
              className="btn btn-small btn-flatten"
              disabled={control === false || !haltable || flattenPending}
              onClick={() => onCommand('flatten', summary)}
              data-testid="cmd-flatten"
              title={
                control === false
                  ? READ_ONLY_REASON
                  : `Flatten ${summary.variant}: halt it and close every open position at the next bar's open`
              }
            >
              {flattenPending ? 'Flattening…' : 'Flatten'}
            </button>
          </>
        )}
      </td>
    </tr>
  );
}

const COLUMNS = 14;

function NoteRow({
  variant,
  kind,
  command,
  text,
  testId,
  onDismiss,
}: {
  variant: string;
  kind: 'ok' | 'error';
  command: string;
  text: string;
  testId: string;
  onDismiss: () => void;
}) {
  return (
    <tr className={`row-note row-note-${kind}`}>
      <td colSpan={COLUMNS}>
        <div role={kind === 'error' ? 'alert' : 'status'} data-testid={testId} data-variant={variant} data-kind={kind}>
          <span className="note-command">{command}</span>
          <span className="note-text">{text}</span>
          <button type="button" className="btn-link" onClick={onDismiss} aria-label="Dismiss">
            ×
          </button>
        </div>
      </td>
    </tr>
  );
}

function CommandNoteRow({ variant }: { variant: string }) {
  const note = useCommands((s) => s.notes[variant]);
  const dismiss = useCommands((s) => s.dismiss);
  const now = useClock((s) => s.now);
  if (!note || (note.kind === 'ok' && now - note.at > OK_NOTE_MS)) return null;
  return <NoteRow variant={variant} kind={note.kind} command={note.command} text={note.text} testId="command-note" onDismiss={() => dismiss(variant)} />;
}

function HaltNoteRow({ variant }: { variant: string }) {
  const note = useHalt((s) => s.notes[variant]);
  const dismiss = useHalt((s) => s.dismiss);
  const now = useClock((s) => s.now);
  if (!note || (note.kind === 'ok' && now - note.at > OK_NOTE_MS)) return null;
  return (
    <NoteRow
      variant={variant}
      kind={note.kind}
      command={note.halted ? 'halt' : 'resume'}
      text={note.text}
      testId="halt-note"
      onDismiss={() => dismiss(variant)}
    />
  );
}

function FlattenNoteRow({ variant }: { variant: string }) {
  const note = useFlatten((s) => s.notes[variant]);
  const dismiss = useFlatten((s) => s.dismiss);
  const now = useClock((s) => s.now);
  if (!note || (note.kind === 'ok' && now - note.at > OK_NOTE_MS)) return null;
  return <NoteRow variant={variant} kind={note.kind} command="flatten" text={note.text} testId="flatten-note" onDismiss={() => dismiss(variant)} />;
}

export function InstancesScreen() {
  const order = useVariants((s) => s.order);
  const summaries = useVariants((s) => s.summaries);
  const loaded = useVariants((s) => s.loaded);
  const loadError = useVariants((s) => s.loadError);
  const go = useNavigation((s) => s.go);
  const lastVariant = useNavigation((s) => s.lastVariant);
  const run = useCommands((s) => s.run);
  const runHalt = useHalt((s) => s.run);
  const runFlatten = useFlatten((s) => s.run);
  const [selected, setSelected] = useState<string | null>(lastVariant);
  const [confirm, setConfirm] = useState<{ kind: ConfirmKind; summary: VariantSummary } | null>(null);
  useSeedBooks(order);

  const open = useCallback((variant: string) => go('dashboard', variant), [go]);
  const onCommand = useCallback(
    (kind: CommandKind | 'halt' | 'resume' | 'flatten', summary: VariantSummary) => {
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
  const external = order.filter((v) => summaries[v]?.external).length;

  return (
    <section className="instances" data-testid="instances-screen">
      <div className="screen-header">
        <h1>Instances</h1>
        <span className="muted">
          {order.length} variant{order.length === 1 ? '' : 's'}
          {external > 0 ? ` · ${external} external` : ''}
        </span>
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
            <col className="iw-variant" />
            <col className="iw-status" />
            <col className="iw-symbol" />
            <col className="iw-int" />
            <col className="iw-lastbar" />
            <col className="iw-updated" />
            <col className="iw-position" />
            <col className="iw-pnl" />
            <col className="iw-alerts" />
            <col className="iw-restarts" />
            <col className="iw-pid" />
            <col className="iw-source" />
            <col />
            <col className="iw-actions" />
          </colgroup>
          <thead>
            <tr>
              <th>Variant</th>
              <th>Status</th>
              <th title="Each product of the variant and the contract it trades now">Products · contract</th>
              <th className="num">Int.</th>
              <th className="num" title="Start of the last 1-minute bar processed, exchange time">
                Last bar (exch.)
              </th>
              <th className="num" title="Wall-clock time since the last snapshot">
                Updated
              </th>
              <th className="num" title="Net position: L(ong) / S(hort), lots @ average price">
                Position
              </th>
              <th className="num" title="Today's PnL: equity change since the trading day began">
                Today PnL
              </th>
              <th className="num" title="Unacknowledged alerts: click to show them">
                Alerts
              </th>
              <th className="num" title="Restarts after crashes">
                Rst.
              </th>
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
                <Row key={variant} summary={summary} selected={variant === selected} onOpen={open} onCommand={onCommand} />,
                <CommandNoteRow key={`${variant}-note`} variant={variant} />,
                <HaltNoteRow key={`${variant}-halt-note`} variant={variant} />,
                <FlattenNoteRow key={`${variant}-flatten-note`} variant={variant} />,
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
            const { kind, summary } = confirm;
            setConfirm(null);
            if (kind === 'halt' || kind === 'resume') void runHalt(getApi(), summary.variant, kind === 'halt');
            else if (kind === 'flatten') void runFlatten(getApi(), summary.variant);
            else void run(getApi(), summary.variant, kind);
          }}
        />
      ) : null}
    </section>
  );
}
