import { useEffect, useMemo, useRef, useState } from 'react';
import type { VariantSummary } from '../../shared/api.js';
import { getApi } from '../api/index.js';
import { netPositions } from '../lib/position.js';
import { useConnection } from '../stores/connection.js';
import { useFlatten } from '../stores/flatten.js';
import { ALL, killSwitchState, useHalt } from '../stores/halt.js';
import { useTrading } from '../stores/trading.js';
import { useVariants } from '../stores/variants.js';
import { ConfirmDialog, type ConfirmRequest } from './ConfirmDialog.js';
import '../styles/dashboard.css';

const READ_ONLY = 'This host was started without --allow-control: the kill switch is refused.';

/** "3 open positions in 2 variants" from the books the page holds. */
function openPositionWords(variants: readonly string[]): string {
  const books = useTrading.getState().books;
  let positions = 0;
  let holding = 0;
  let unknown = 0;
  for (const v of variants) {
    const book = books[v];
    if (!book) {
      unknown += 1;
      continue;
    }
    const n = netPositions(book.positions).length;
    positions += n;
    if (n > 0) holding += 1;
  }
  const held =
    positions === 0 ? 'No open position is known' : `${positions} open position${positions === 1 ? '' : 's'} in ${holding} variant${holding === 1 ? '' : 's'} will be closed`;
  return `${held}${unknown > 0 ? ` (${unknown} variant${unknown === 1 ? '' : 's'} not reported yet)` : ''}.`;
}

/**
 * The kill switch's menu: the acts on every variant that go beyond halting. Flatten all is the
 * emergency stop: every variant halted and every open position closed at the next bar's open.
 */
function KillMenu({ control, live, onFlattenAll }: { control: boolean | null; live: number; onFlattenAll: () => void }) {
  const [open, setOpen] = useState(false);
  const pending = useFlatten((s) => s.pending[ALL] === true);
  const ref = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    if (!open) return;
    const onDown = (event: MouseEvent): void => {
      if (ref.current && !ref.current.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === 'Escape') setOpen(false);
    };
    window.addEventListener('mousedown', onDown);
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('mousedown', onDown);
      window.removeEventListener('keydown', onKey);
    };
  }, [open]);
  const refused = control === false;
  return (
    <span className="kill-menu" ref={ref}>
      <button
        type="button"
        className="tool-button kill-menu-button"
        data-testid="kill-switch-menu"
        aria-haspopup="menu"
        aria-expanded={open}
        title="More emergency commands for every variant"
        onClick={() => setOpen((o) => !o)}
      >
        ▾
      </button>
      {open ? (
        <span className="kill-menu-list" role="menu">
          <button
            type="button"
            role="menuitem"
            className="kill-menu-item"
            data-testid="flatten-all"
            disabled={refused || live === 0 || pending}
            title={refused ? 'This host was started without --allow-control: flatten is refused.' : 'Halt every variant and close every open position at the next bar open'}
            onClick={() => {
              setOpen(false);
              onFlattenAll();
            }}
          >
            {pending ? 'Flattening…' : 'Flatten every variant…'}
          </button>
          {refused ? (
            <span className="kill-menu-reason muted" data-testid="flatten-all-reason">
              Refused: the host was started without --allow-control.
            </span>
          ) : null}
        </span>
      ) : null}
    </span>
  );
}

/**
 * The global kill switch in the top bar: halts trading in every supervised variant (signals go
 * on being computed, no order is sent), after a confirmation; shows how many are halted; and
 * resumes them all, again after a confirmation. Its menu holds Flatten all.
 */
export function KillSwitch() {
  const summaries = useVariants((s) => s.summaries);
  const order = useVariants((s) => s.order);
  const control = useConnection((s) => s.status?.controlEnabled ?? null);
  const pending = useHalt((s) => s.pending[ALL]);
  const note = useHalt((s) => s.notes[ALL]);
  const run = useHalt((s) => s.run);
  const dismiss = useHalt((s) => s.dismiss);
  const flattenNote = useFlatten((s) => s.notes[ALL]);
  const runFlatten = useFlatten((s) => s.run);
  const dismissFlatten = useFlatten((s) => s.dismiss);
  /** true: halt all, false: resume all, 'flatten': flatten all. */
  const [asking, setAsking] = useState<boolean | 'flatten' | null>(null);
  const state = useMemo(
    () => killSwitchState(order.map((v) => summaries[v]).filter((s): s is VariantSummary => s !== undefined)),
    [order, summaries],
  );
  const engaged = state.state === 'on';
  const wantHalt = !engaged;
  const disabled = control === false || pending !== undefined || state.live === 0;
  const supervised = order.filter((v) => summaries[v] !== undefined && !summaries[v].external);
  const request: ConfirmRequest | null =
    asking === null
      ? null
      : asking === 'flatten'
        ? {
            title: 'Flatten every variant?',
            body: `Every supervised variant (${supervised.length}) is halted, its resting orders cancelled and each open position closed with a market order at the next bar's open. They stay halted until resumed. ${openPositionWords(supervised)}`,
            confirmLabel: 'Flatten all',
            danger: true,
          }
      : asking
        ? {
            title: 'Halt trading in every variant?',
            body: `The kill switch stops ${state.live - state.halted} running variant${state.live - state.halted === 1 ? '' : 's'} from sending orders. Signals are still computed; open positions and resting orders stay as they are.`,
            confirmLabel: 'Halt all trading',
            danger: true,
          }
        : {
            title: 'Resume trading in every variant?',
            body: `${state.halted} halted variant${state.halted === 1 ? '' : 's'} will send orders again on their next signals.`,
            confirmLabel: 'Resume all',
          };
  const title =
    control === false
      ? READ_ONLY
      : engaged
        ? 'Every running variant is halted: resume them all'
        : 'Halt trading in every variant (signals keep being computed, no orders are sent)';
  return (
    <span className="kill-switch" data-testid="kill-switch-area">
      {state.halted > 0 ? (
        <span className={engaged ? 'kill-state kill-on' : 'kill-state kill-partial'} data-testid="kill-switch-state">
          {engaged ? 'ALL HALTED' : `${state.halted}/${state.live} halted`}
        </span>
      ) : null}
      <button
        type="button"
        className={wantHalt ? 'tool-button kill-button' : 'tool-button kill-resume'}
        data-testid="kill-switch"
        data-state={state.state}
        disabled={disabled}
        title={title}
        onClick={() => setAsking(wantHalt)}
      >
        <span className="kill-dot" aria-hidden="true" />
        {pending !== undefined ? (pending ? 'Halting…' : 'Resuming…') : wantHalt ? 'Kill switch' : 'Resume all'}
      </button>
      <KillMenu control={control} live={state.live} onFlattenAll={() => setAsking('flatten')} />
      {flattenNote?.kind === 'error' ? (
        <span className="kill-note" role="alert" title={flattenNote.text} data-testid="flatten-all-error">
          {flattenNote.text}
          <button type="button" className="btn-link" aria-label="Dismiss" onClick={() => dismissFlatten(ALL)}>
            ×
          </button>
        </span>
      ) : null}
      {note?.kind === 'error' ? (
        <span className="kill-note" role="alert" title={note.text} data-testid="kill-switch-error">
          {note.text}
          <button type="button" className="btn-link" aria-label="Dismiss" onClick={() => dismiss(ALL)}>
            ×
          </button>
        </span>
      ) : null}
      {request ? (
        <ConfirmDialog
          request={request}
          onCancel={() => setAsking(null)}
          onConfirm={() => {
            const wanted = asking;
            setAsking(null);
            if (wanted === 'flatten') void runFlatten(getApi(), null);
            else void run(getApi(), null, wanted === true);
          }}
        />
      ) : null}
    </span>
  );
}
