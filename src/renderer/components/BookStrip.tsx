import type { VariantSummary } from '../../shared/api.js';
import { getApi } from '../api/index.js';
import { formatWallClock } from '../lib/format.js';
import { formatMoney, moneyTone } from '../lib/money.js';
import { useConnection } from '../stores/connection.js';
import { useHalt } from '../stores/halt.js';
import type { VariantBook } from '../stores/trading.js';

/** Statuses in which the worker runs and a halt means something. */
const HALTABLE: ReadonlySet<VariantSummary['status']> = new Set(['starting', 'restoring', 'running', 'degraded', 'halted', 'stale']);

function Money({ label, value, testId, title }: { label: string; value: number | undefined; testId: string; title: string }) {
  return (
    <span className="field" title={title}>
      <span className="field-label">{label}</span>
      <span className={`field-value num ${moneyTone(value)}`} data-testid={testId} data-value={value ?? ''}>
        {formatMoney(value)}
      </span>
    </span>
  );
}

function Count({ label, value, testId, title }: { label: string; value: number | undefined; testId: string; title: string }) {
  return (
    <span className="field" title={title}>
      <span className="field-label">{label}</span>
      <span className="field-value num" data-testid={testId}>
        {value ?? '—'}
      </span>
    </span>
  );
}

const RESTORE_FROM: Record<NonNullable<VariantBook['restore']>['from'], string> = {
  state: 'Restored from saved state',
  replay: 'Rebuilt by replay',
  none: 'Started without saved state',
};

/** How the worker came up: compact, the full message in the tooltip. */
export function restoreText(restore: VariantBook['restore']): string {
  if (!restore) return 'Restore: —';
  if (restore.phase === 'loading' || restore.phase === 'replaying') return `Restoring (${restore.phase})…`;
  if (restore.phase === 'idle') return 'Restore: not started';
  const parts = [
    RESTORE_FROM[restore.from],
    `${restore.minuteBarsReplayed.toLocaleString('en-US')} min bars replayed`,
    `${restore.windowBarsRestored.toLocaleString('en-US')} window bars`,
    `${restore.suppressedDecisions} suppressed`,
  ];
  if (restore.phase === 'degraded') parts.push('degraded');
  if (restore.finishedAt) parts.push(`at ${formatWallClock(restore.finishedAt)}`);
  return parts.join(' · ');
}

/**
 * Under the dashboard header: the variant's PnL and daily counters, how it restored, and its
 * own halt / resume (the per-variant kill switch).
 */
export function BookStrip({ variant, summary, book }: { variant: string; summary: VariantSummary | undefined; book: VariantBook | undefined }) {
  const control = useConnection((s) => s.status?.controlEnabled ?? null);
  const pending = useHalt((s) => s.pending[variant]);
  const note = useHalt((s) => s.notes[variant]);
  const run = useHalt((s) => s.run);
  const dismiss = useHalt((s) => s.dismiss);
  const halted = summary?.status === 'halted';
  const haltable = summary !== undefined && !summary.external && HALTABLE.has(summary.status);
  const counters = book?.counters;
  const restore = book?.restore ?? null;
  return (
    <div className="book-strip" data-testid="book-strip">
      <Money label="Realized" value={book?.pnl.realized} testId="pnl-realized" title="Realised PnL since the variant began, net of commission" />
      <Money label="Unrealized" value={book?.pnl.unrealized} testId="pnl-unrealized" title="Open positions marked at the last close" />
      <Money label="Today" value={book?.pnl.today} testId="pnl-today" title="Equity change since the current trading day began" />
      <span className="strip-sep" aria-hidden="true" />
      <Count label="Opens today" value={counters?.opensToday} testId="counter-opens" title="Positions opened this trading day (the daily limit counts these)" />
      <Count label="Suppressed" value={counters?.suppressedDecisions} testId="counter-suppressed" title="Decisions computed but not sent: restore replay, halted or degraded" />
      <Count label="Refused" value={counters?.refusedByLimit} testId="counter-refused" title="Entries refused by the daily open limit" />
      <span className="strip-sep" aria-hidden="true" />
      <span className="restore-info muted" data-testid="restore-info" title={restore?.message ?? ''}>
        {restoreText(restore)}
      </span>
      <span className="topbar-spacer" />
      {note?.kind === 'error' ? (
        <span className="kill-note" role="alert" title={note.text}>
          {note.text}
          <button type="button" className="btn-link" aria-label="Dismiss" onClick={() => dismiss(variant)}>
            ×
          </button>
        </span>
      ) : null}
      <button
        type="button"
        className={halted ? 'btn btn-small' : 'btn btn-small btn-halt'}
        data-testid="variant-halt"
        data-halted={String(halted)}
        disabled={!haltable || pending !== undefined || control === false}
        title={
          control === false
            ? 'This host was started without --allow-control: commands are refused.'
            : halted
              ? `Let ${variant} send orders again`
              : `Halt ${variant}: signals keep being computed, no orders are sent`
        }
        onClick={() => void run(getApi(), variant, !halted)}
      >
        {pending !== undefined ? (pending ? 'Halting…' : 'Resuming…') : halted ? 'Resume trading' : 'Halt trading'}
      </button>
    </div>
  );
}
