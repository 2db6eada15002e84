import { useMemo, useState } from 'react';
import type { VariantSummary } from '../../shared/api.js';
import { getApi } from '../api/index.js';
import { useConnection } from '../stores/connection.js';
import { ALL, killSwitchState, useHalt } from '../stores/halt.js';
import { useVariants } from '../stores/variants.js';
import { ConfirmDialog, type ConfirmRequest } from './ConfirmDialog.js';
import '../styles/dashboard.css';

/**
 * The global kill switch in the top bar: halts trading in every supervised variant (signals go
 * on being computed, no order is sent), after a confirmation; shows how many are halted; and
 * resumes them all, again after a confirmation.
 */
export function KillSwitch() {
  const summaries = useVariants((s) => s.summaries);
  const order = useVariants((s) => s.order);
  const control = useConnection((s) => s.status?.controlEnabled ?? null);
  const pending = useHalt((s) => s.pending[ALL]);
  const note = useHalt((s) => s.notes[ALL]);
  const run = useHalt((s) => s.run);
  const dismiss = useHalt((s) => s.dismiss);
  const [asking, setAsking] = useState<boolean | null>(null);
  const state = useMemo(
    () => killSwitchState(order.map((v) => summaries[v]).filter((s): s is VariantSummary => s !== undefined)),
    [order, summaries],
  );
  const engaged = state.state === 'on';
  const wantHalt = !engaged;
  const disabled = control === false || pending !== undefined || state.live === 0;
  const request: ConfirmRequest | null =
    asking === null
      ? null
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
      ? 'This host was started without --allow-control: the kill switch is refused.'
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
            const halted = asking === true;
            setAsking(null);
            void run(getApi(), null, halted);
          }}
        />
      ) : null}
    </span>
  );
}
