import { formatAge } from '../lib/format.js';
import { useClock } from '../stores/clock.js';
import { useConnection } from '../stores/connection.js';
import { useVariants } from '../stores/variants.js';

const CONNECTION_TEXT = { connecting: 'connecting…', open: 'live', closed: 'disconnected' } as const;

export function StatusBar() {
  const state = useConnection((s) => s.state);
  const status = useConnection((s) => s.status);
  const lastUpdateAt = useVariants((s) => s.lastUpdateAt);
  const loadError = useVariants((s) => s.loadError);
  const counts = useVariants((s) => {
    let running = 0;
    for (const v of s.order) if (s.summaries[v]?.status === 'running') running += 1;
    return `${running}/${s.order.length}`;
  });
  const now = useClock((s) => s.now);
  return (
    <footer className="statusbar" data-testid="status-bar">
      <span className={`conn conn-${state}`} data-testid="connection-state" data-state={state}>
        <span className="conn-dot" aria-hidden="true" />
        {CONNECTION_TEXT[state]}
      </span>
      <span className="sb-item" data-testid="last-update" title="Wall-clock time since the last update reached this window">
        updated {lastUpdateAt === null ? 'never' : formatAge(lastUpdateAt, now)}
      </span>
      <span className="sb-item">running {counts}</span>
      {loadError ? (
        <span className="sb-item sb-error" role="alert">
          {loadError}
        </span>
      ) : null}
      <span className="topbar-spacer" />
      {status ? (
        <>
          {status.demo.enabled ? <span className="sb-item">demo ×{status.demo.speed}</span> : null}
          <span className="sb-item">{status.controlEnabled ? 'control enabled' : 'read-only'}</span>
          <span className="sb-item">
            {status.host} host · v{status.version}
          </span>
        </>
      ) : null}
    </footer>
  );
}
