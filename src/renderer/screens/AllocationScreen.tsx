import { useEffect } from 'react';
import { getApi } from '../api/index.js';
import { AllocationUsageChart } from '../chart/AllocationUsageChart.js';
import { formatMoney } from '../lib/money.js';
import { usageShare, useAllocation } from '../stores/allocation.js';
import '../styles/allocation.css';

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** The global fund allocator: each group's pot, its use against the limit, per symbol, live. */
export function AllocationScreen() {
  const { groups, selected, status, history, error, load, apply } = useAllocation();
  useEffect(() => {
    const api = getApi();
    void load(api);
    return api.events.allocationUpdated((u) => apply(u));
  }, [load, apply]);

  if (error) return <div className="allocation-screen"><p className="error">{error}</p></div>;
  if (groups.length === 0 || !status) {
    return (
      <div className="allocation-screen" data-testid="allocation-screen">
        <div className="screen-header"><h1>Allocation</h1></div>
        <p className="muted">No allocation group is configured: add one in Settings → Allocation groups.</p>
      </div>
    );
  }
  const limit = status.totalFunds * status.globalMaxUsage;
  return (
    <div className="allocation-screen" data-testid="allocation-screen">
      <div className="screen-header">
        <h1>Allocation</h1>
        <select aria-label="Allocation group" value={selected ?? ''} onChange={(e) => void load(getApi(), e.target.value)}>
          {groups.map((g) => <option key={g} value={g}>{g}</option>)}
        </select>
        <span className="badge" data-testid="allocation-strategy">{status.strategy}</span>
        {status.ready ? null : <span className="badge badge-warn">waiting for {status.awaiting.join(', ')}</span>}
      </div>
      <section className="panel allocation-summary" aria-label="Group">
        <div><span className="muted">total funds</span> <strong data-testid="allocation-total">{formatMoney(status.totalFunds)}</strong></div>
        <div>
          <span className="muted">global use</span>{' '}
          <strong data-testid="allocation-global-used">{formatMoney(status.globalUsed)}</strong> / {formatMoney(limit)} ({pct(usageShare(status.globalUsed, limit))} of {pct(status.globalMaxUsage)} of the funds)
          <div className="allocation-bar" role="meter" aria-label="global use" aria-valuenow={status.globalUsed} aria-valuemax={limit}>
            <div style={{ width: `${Math.min(100, usageShare(status.globalUsed, limit) * 100)}%` }} />
          </div>
        </div>
        <div><span className="muted">blocked trades</span> <strong data-testid="allocation-blocked">{status.blockedTrades}</strong></div>
        <div><span className="muted">rebalances</span> <strong>{status.rebalances}</strong></div>
      </section>
      <section className="panel" aria-label="Symbols">
        <table className="allocation-symbols">
          <thead>
            <tr><th>symbol</th><th>used / allocated</th><th>used</th><th>allocated</th><th>limit</th><th>weight</th><th>blocked</th></tr>
          </thead>
          <tbody>
            {status.symbols.map((s) => {
              const share = usageShare(s.usedAmount, s.allocatedAmount);
              return (
                <tr key={s.symbol} data-testid={`allocation-row-${s.symbol}`}>
                  <td>{s.symbol}</td>
                  <td>
                    <div className={`allocation-bar${share > 1 ? ' over' : ''}`} role="meter" aria-label={`${s.symbol} use`} aria-valuenow={s.usedAmount} aria-valuemax={s.allocatedAmount}>
                      <div style={{ width: `${Math.min(100, share * 100)}%` }} />
                    </div>
                  </td>
                  <td className="num">{formatMoney(s.usedAmount)}</td>
                  <td className="num">{formatMoney(s.allocatedAmount)}</td>
                  <td className="num">{formatMoney(s.maxUsagePct * status.totalFunds)}</td>
                  <td className="num">{pct(s.weight)}</td>
                  <td className="num" data-testid={`allocation-blocked-${s.symbol}`}>{s.blockedTrades}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
      <section className="panel" aria-label="Usage over time">
        <h2>Use over time</h2>
        <AllocationUsageChart usage={history?.usage ?? []} symbols={status.symbols.map((s) => s.symbol)} />
      </section>
      <section className="panel" aria-label="Rebalances">
        <h2>Rebalances</h2>
        {history && history.rebalances.length > 0 ? (
          <ul className="allocation-rebalances">
            {history.rebalances.slice().reverse().map((r) => (
              <li key={r.at}>
                <span className="muted">{new Date(r.at).toLocaleString()}</span> {r.reason}:{' '}
                {Object.entries(r.after).map(([sym, v]) => `${sym} ${formatMoney(r.before[sym] ?? 0)} → ${formatMoney(v)}`).join(', ')}
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">No rebalance yet (one happens when the symbols' use ratios spread by more than 30 %, at most hourly).</p>
        )}
      </section>
    </div>
  );
}
