import type { VariantSummary } from '../../shared/api.js';

export type DisplayStatus = VariantSummary['status'];

const HINT: Record<DisplayStatus, string> = {
  starting: 'the worker process is starting',
  restoring: 'replaying history to restore signal state; no orders are sent',
  running: 'processing bars live',
  degraded: 'running, but restore or a data source failed: no orders are sent',
  halted: 'trading halted: it computes but sends no order',
  stopped: 'stopped',
  crashed: 'the worker crashed and is not being restarted',
  stale: 'no snapshot for longer than expected',
};

export function StatusBadge({ status }: { status: DisplayStatus }) {
  return (
    <span className={`status status-${status}`} data-status={status} data-testid="status-badge" title={HINT[status]}>
      {status}
    </span>
  );
}
