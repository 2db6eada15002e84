import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { RANKED_STATISTICS, type BacktestEquityPoint, type BacktestResultView, type BacktestStatistics, type BacktestSummary, type RankedStatistic } from '../../shared/backtest.js';
import { BacktestKline } from '../chart/BacktestKline.js';
import { EquityChart } from '../chart/TradeStatsCharts.js';
import { formatBarTime } from '../lib/format.js';
import { formatCount, formatMoney, formatPnl, formatRatio, formatSharpe, pnlTone } from '../lib/tradeFormat.js';
import { isActive, useBacktests } from '../stores/backtests.js';
import { useData } from '../stores/data.js';
import '../styles/backtests.css';

/**
 * Backtests: a new-job form (field errors next to their fields), the queue with progress bars
 * and pause / resume / cancel, the history; a result page (equity, drawdown, statistics,
 * month by month, trades); a compare view of several runs; a sweep page (a table sortable by
 * any statistic, a heatmap when two parameters vary, a cell opens its run).
 */

const STAT_LABELS: Record<RankedStatistic, string> = {
  totalPnl: 'PnL',
  sharpe: 'Sharpe',
  winRate: 'Win rate',
  maxDrawdown: 'Max DD',
  maxDrawdownPct: 'Max DD %',
  averagePnl: 'Avg PnL',
  trades: 'Trades',
  commission: 'Commission',
};

function formatStat(stat: RankedStatistic, s: BacktestStatistics | null): string {
  if (!s) return '—';
  const v = s[stat];
  if (stat === 'sharpe') return formatSharpe(v);
  if (stat === 'winRate' || stat === 'maxDrawdownPct') return formatRatio(v);
  if (stat === 'trades') return formatCount(v);
  return formatMoney(v);
}

function Field({ label, path, errors, children }: { label: string; path: string; errors: Record<string, string[]>; children: React.ReactNode }) {
  // A nested field (params.signal.fast) is named inside its field's message.
  const mine = Object.entries(errors)
    .filter(([p]) => p === path || p.startsWith(`${path}.`))
    .flatMap(([p, m]) => m.map((text) => (p === path ? text : `${p.slice(path.length + 1)}: ${text}`)));
  return (
    <label className={`bt-field${mine.length > 0 ? ' invalid' : ''}`}>
      <span className="bt-field-label">{label}</span>
      {children}
      {mine.length > 0 ? (
        <span className="bt-field-error" data-testid={`bt-error-${path}`}>
          {mine.join('; ')}
        </span>
      ) : null}
    </label>
  );
}

function JobForm() {
  const overview = useData((s) => s.overview);
  const loadOverview = useData((s) => s.loadOverview);
  const submit = useBacktests((s) => s.submit);
  const submitting = useBacktests((s) => s.submitting);
  const formError = useBacktests((s) => s.formError);
  const errors = useBacktests((s) => s.fieldErrors);
  const symbols = useMemo(() => (overview?.rows ?? []).filter((r) => r.interval === '1m').map((r) => r.vtSymbol), [overview]);
  const [symbol, setSymbol] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [windowMinutes, setWindowMinutes] = useState('15');
  const [params, setParams] = useState('{ "stopLoss": { "unit": "ticks", "value": 30 }, "takeProfit": { "unit": "ticks", "value": 60 } }');
  const [paramsError, setParamsError] = useState<string | null>(null);
  useEffect(() => {
    void loadOverview();
  }, [loadOverview]);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(params || '{}') as Record<string, unknown>;
      setParamsError(null);
    } catch (err) {
      setParamsError(`not JSON: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const chosen = symbol || symbols[0] || '';
    void submit({ strategy: 'macd-td', params: parsed, symbols: chosen.split(',').map((s) => s.trim()).filter(Boolean), from, to, windowMinutes: Number(windowMinutes) });
  };

  return (
    <form className="bt-form" onSubmit={onSubmit} data-testid="bt-form">
      <Field label="Symbols" path="symbols" errors={errors}>
        <input list="bt-symbols" value={symbol} placeholder={symbols[0] ?? 'rb2505.SHFE'} onChange={(e) => setSymbol(e.target.value)} data-testid="bt-symbols" />
        <datalist id="bt-symbols">
          {symbols.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
      </Field>
      <Field label="From" path="from" errors={errors}>
        <input value={from} placeholder="YYYY-MM-DD" onChange={(e) => setFrom(e.target.value)} data-testid="bt-from" />
      </Field>
      <Field label="To" path="to" errors={errors}>
        <input value={to} placeholder="YYYY-MM-DD" onChange={(e) => setTo(e.target.value)} data-testid="bt-to" />
      </Field>
      <Field label="Window" path="windowMinutes" errors={errors}>
        <select value={windowMinutes} onChange={(e) => setWindowMinutes(e.target.value)} data-testid="bt-window">
          {[1, 5, 15, 30, 60].map((m) => (
            <option key={m} value={m}>
              {m}m
            </option>
          ))}
        </select>
      </Field>
      <Field label="MACD-TD params (JSON)" path="params" errors={paramsError ? { params: [paramsError] } : errors}>
        <input className="bt-params" value={params} onChange={(e) => setParams(e.target.value)} data-testid="bt-params" />
      </Field>
      <button type="submit" className="btn" disabled={submitting} data-testid="bt-submit">
        Run backtest
      </button>
      {formError ? <span className="bt-form-error" data-testid="bt-form-error">{formError}</span> : null}
    </form>
  );
}

function ProgressBar({ run }: { run: BacktestSummary }) {
  const p = useBacktests((s) => s.progress[run.id]);
  const done = p?.barsDone ?? run.barsDone;
  const total = p?.barsTotal ?? run.barsTotal;
  const percent = run.status === 'completed' ? 100 : p?.percent ?? (total > 0 ? (done / total) * 100 : 0);
  return (
    <div className="bt-progress" data-testid="bt-progress" data-percent={percent.toFixed(1)} data-bars={done} title={p?.currentTime ?? ''}>
      <div className="bt-progress-fill" style={{ width: `${percent}%` }} />
      <span className="bt-progress-text">
        {percent.toFixed(0)}% · {done.toLocaleString('en-US')} bars{p ? ` · ${p.trades} fills · ${Math.round(p.barsPerSecond).toLocaleString('en-US')} bars/s` : ''}
      </span>
    </div>
  );
}

function RunRow({ run }: { run: BacktestSummary }) {
  const command = useBacktests((s) => s.command);
  const open = useBacktests((s) => s.open);
  const compareIds = useBacktests((s) => s.compareIds);
  const toggleCompare = useBacktests((s) => s.toggleCompare);
  const pauseUnavailable = useBacktests((s) => s.queueInfo?.pauseUnavailable ?? null);
  const active = isActive(run);
  return (
    <tr data-testid="bt-row" data-id={run.id} data-status={run.status}>
      <td>
        <input type="checkbox" checked={compareIds.includes(run.id)} disabled={run.status !== 'completed'} onChange={() => toggleCompare(run.id)} data-testid="bt-compare-pick" title="Compare" />
      </td>
      <td>
        <button type="button" className="btn-link" onClick={() => void open({ kind: 'result', id: run.id })} data-testid="bt-open">
          {run.name}
        </button>
        {run.sweepId ? (
          <button type="button" className="btn-link muted" onClick={() => void open({ kind: 'sweep', id: run.sweepId ?? '' })} data-testid="bt-open-sweep">
            {' '}
            (sweep)
          </button>
        ) : null}
      </td>
      <td className={`bt-status bt-status-${run.status}`} data-testid="bt-status">
        {run.status}
      </td>
      <td className="bt-progress-cell">
        <ProgressBar run={run} />
      </td>
      <td className={`num ${pnlTone(run.statistics?.totalPnl)}`}>{run.statistics ? formatPnl(run.statistics.totalPnl) : '—'}</td>
      <td className="num">{formatSharpe(run.statistics?.sharpe)}</td>
      <td className="bt-actions">
        {run.status === 'running' || run.status === 'queued' ? (
          <button
            type="button"
            className="btn btn-small"
            onClick={() => void command('pause', run.id)}
            disabled={pauseUnavailable !== null}
            title={pauseUnavailable ?? 'Pause: the job holds at its next checkpoint'}
            data-testid="bt-pause"
          >
            Pause
          </button>
        ) : null}
        {run.status === 'paused' ? (
          <button type="button" className="btn btn-small" onClick={() => void command('resume', run.id)} data-testid="bt-resume">
            Resume
          </button>
        ) : null}
        {active ? (
          <button type="button" className="btn btn-small" onClick={() => void command('cancel', run.id)} data-testid="bt-cancel">
            Cancel
          </button>
        ) : (
          <button type="button" className="btn btn-small" onClick={() => void command('rerun', run.id)} data-testid="bt-rerun">
            Re-run
          </button>
        )}
      </td>
    </tr>
  );
}

function RunList() {
  const runs = useBacktests((s) => s.runs);
  const listError = useBacktests((s) => s.listError);
  const commandError = useBacktests((s) => s.commandError);
  const compareIds = useBacktests((s) => s.compareIds);
  const open = useBacktests((s) => s.open);
  const queueInfo = useBacktests((s) => s.queueInfo);
  const queue = runs.filter(isActive);
  const history = runs.filter((r) => !isActive(r));
  const table = (rows: BacktestSummary[], testId: string) => (
    <table className="bt-table" data-testid={testId}>
      <thead>
        <tr>
          <th />
          <th>Run</th>
          <th>Status</th>
          <th>Progress</th>
          <th>PnL</th>
          <th>Sharpe</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <RunRow key={r.id} run={r} />
        ))}
      </tbody>
    </table>
  );
  return (
    <div className="bt-lists">
      {listError ? <div className="bt-form-error">{listError}</div> : null}
      {commandError ? <div className="bt-form-error">{commandError}</div> : null}
      <h3>
        Queue ({queue.length}){' '}
        <span className="muted" data-testid="bt-queue-where" data-kind={queueInfo?.kind ?? ''}>
          {queueInfo?.kind === 'redis' ? `on Redis ${queueInfo.address ?? ''} (${queueInfo.name ?? ''}), run by backtest-workers` : "on this machine's threads"}
        </span>
      </h3>
      {table(queue, 'bt-queue')}
      <h3>
        History ({history.length}){' '}
        <button type="button" className="btn btn-small" disabled={compareIds.length < 2} onClick={() => void open({ kind: 'compare' })} data-testid="bt-compare">
          Compare {compareIds.length} runs
        </button>
      </h3>
      {table(history, 'bt-history')}
    </div>
  );
}

/** A small SVG of one or more curves on shared axes (drawdown, compared equity). */
function Curves({ series, testId, invert = false }: { series: { label: string; points: { time: number; value: number }[] }[]; testId: string; invert?: boolean }) {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return <div className="muted">no points</div>;
  const t0 = Math.min(...all.map((p) => p.time));
  const t1 = Math.max(...all.map((p) => p.time));
  const v0 = Math.min(...all.map((p) => p.value));
  const v1 = Math.max(...all.map((p) => p.value));
  const x = (t: number) => (t1 > t0 ? ((t - t0) / (t1 - t0)) * 600 : 0);
  const y = (v: number) => {
    const f = v1 > v0 ? (v - v0) / (v1 - v0) : 0.5;
    return invert ? f * 120 : 120 - f * 120;
  };
  return (
    <svg className="bt-curves" viewBox="0 0 600 120" preserveAspectRatio="none" data-testid={testId} data-series={series.length}>
      {series.map((s, i) => (
        <polyline key={s.label} className={`bt-curve bt-curve-${i % 6}`} fill="none" points={s.points.map((p) => `${x(p.time).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ')}>
          <title>{s.label}</title>
        </polyline>
      ))}
    </svg>
  );
}

function StatsTable({ runs }: { runs: BacktestResultView[] }) {
  return (
    <table className="bt-table bt-stats" data-testid="bt-stats">
      <thead>
        <tr>
          <th>Statistic</th>
          {runs.map((r) => (
            <th key={r.id}>{r.name}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {RANKED_STATISTICS.map((stat) => (
          <tr key={stat}>
            <td>{STAT_LABELS[stat]}</td>
            {runs.map((r) => (
              <td key={r.id} className="num">
                {formatStat(stat, r.statistics)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const drawdownOf = (points: readonly BacktestEquityPoint[]) => points.map((p) => ({ time: p.time, value: -p.drawdown }));

function ResultPage({ result }: { result: BacktestResultView }) {
  return (
    <div className="bt-result" data-testid="bt-result" data-id={result.id}>
      <h3>
        {result.name} <span className="muted">· {result.status} · {result.barsDone.toLocaleString('en-US')} bars · {result.barsPerSecond ? `${Math.round(result.barsPerSecond).toLocaleString('en-US')} bars/s` : ''} · Kestrel {result.kestrelVersion}</span>
      </h3>
      <EquityChart points={result.equity.map((p) => ({ time: p.time, equity: p.equity }))} capital={result.job.capital} />
      <div className="bt-subtitle">Drawdown</div>
      <Curves series={[{ label: 'drawdown', points: drawdownOf(result.equity) }]} testId="bt-drawdown" />
      <div className="bt-subtitle">K-line, fills and the strategy&apos;s marks</div>
      <BacktestKline result={result} />
      <div className="bt-columns">
        <StatsTable runs={[result]} />
        <table className="bt-table" data-testid="bt-months">
          <thead>
            <tr>
              <th>Month</th>
              <th>Trades</th>
              <th>Win rate</th>
              <th>PnL</th>
              <th>Cumulative</th>
            </tr>
          </thead>
          <tbody>
            {result.months.map((m) => (
              <tr key={m.period}>
                <td>{m.period}</td>
                <td className="num">{m.trades}</td>
                <td className="num">{formatRatio(m.winRate)}</td>
                <td className={`num ${pnlTone(m.pnl)}`}>{formatPnl(m.pnl)}</td>
                <td className="num">{formatPnl(m.cumulativePnl)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="bt-subtitle">Trades ({result.trades.length})</div>
      <table className="bt-table" data-testid="bt-trades">
        <thead>
          <tr>
            <th>Time</th>
            <th>Symbol</th>
            <th>Side</th>
            <th>Price</th>
            <th>Vol</th>
            <th>PnL</th>
          </tr>
        </thead>
        <tbody>
          {result.trades.slice(0, 500).map((t) => (
            <tr key={t.id}>
              <td className="mono">{formatBarTime(t.time)}</td>
              <td>{t.vtSymbol}</td>
              <td>
                {t.side} {t.offset}
              </td>
              <td className="num">{t.price}</td>
              <td className="num">{t.volume}</td>
              <td className={`num ${pnlTone(t.pnl)}`}>{t.pnl === null ? '' : formatPnl(t.pnl)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ComparePage({ runs }: { runs: BacktestResultView[] }) {
  return (
    <div className="bt-result" data-testid="bt-compare-view">
      <h3>Compare {runs.length} runs</h3>
      <Curves series={runs.map((r) => ({ label: r.name, points: r.equity.map((p) => ({ time: p.time, value: p.equity })) }))} testId="bt-compare-equity" />
      <StatsTable runs={runs} />
    </div>
  );
}

function SweepPage() {
  const sweep = useBacktests((s) => s.sweep);
  const open = useBacktests((s) => s.open);
  const [sortBy, setSortBy] = useState<RankedStatistic>('totalPnl');
  const [descending, setDescending] = useState(true);
  const [heatStat, setHeatStat] = useState<RankedStatistic>('totalPnl');
  if (!sweep) return null;
  const axes = Object.keys(sweep.config.parameters).sort();
  const rows = [...sweep.runs].sort((a, b) => {
    const va = a.statistics?.[sortBy] ?? null;
    const vb = b.statistics?.[sortBy] ?? null;
    if (va === null) return 1;
    if (vb === null) return -1;
    return descending ? vb - va : va - vb;
  });
  const [ax, ay] = axes;
  const heat = axes.length === 2 && ax && ay ? heatmapOf(sweep.runs, sweep.points, ax, ay, heatStat) : null;
  return (
    <div className="bt-result" data-testid="bt-sweep" data-id={sweep.id}>
      <h3>
        {sweep.name} <span className="muted">· {sweep.aggregate.counts.completed}/{sweep.aggregate.counts.total} completed</span>
      </h3>
      {heat && ax && ay ? (
        <div className="bt-heatmap-wrap">
          <label>
            Heatmap of{' '}
            <select value={heatStat} onChange={(e) => setHeatStat(e.target.value as RankedStatistic)} data-testid="bt-heat-stat">
              {RANKED_STATISTICS.map((s) => (
                <option key={s} value={s}>
                  {STAT_LABELS[s]}
                </option>
              ))}
            </select>{' '}
            ({ay} down, {ax} across)
          </label>
          <table className="bt-heatmap" data-testid="bt-heatmap">
            <thead>
              <tr>
                <th />
                {heat.xs.map((x) => (
                  <th key={String(x)}>{String(x)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {heat.ys.map((yv) => (
                <tr key={String(yv)}>
                  <th>{String(yv)}</th>
                  {heat.xs.map((xv) => {
                    const cell = heat.cells.get(`${String(xv)}|${String(yv)}`);
                    const v = cell?.statistics?.[heatStat] ?? null;
                    const f = v === null || heat.max === heat.min ? 0.5 : (v - heat.min) / (heat.max - heat.min);
                    return (
                      <td
                        key={String(xv)}
                        className="bt-heat-cell"
                        style={{ background: v === null ? undefined : `hsl(${Math.round(f * 120)}, 55%, 40%)` }}
                        onClick={() => cell && void open({ kind: 'result', id: cell.id })}
                        data-testid="bt-heat-cell"
                        title={cell ? cell.id : ''}
                      >
                        {formatStat(heatStat, cell?.statistics ?? null)}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <table className="bt-table" data-testid="bt-sweep-table">
        <thead>
          <tr>
            {axes.map((a) => (
              <th key={a}>{a}</th>
            ))}
            <th>Status</th>
            {RANKED_STATISTICS.map((s) => (
              <th key={s}>
                <button
                  type="button"
                  className="btn-link"
                  onClick={() => {
                    if (s === sortBy) setDescending(!descending);
                    else setSortBy(s);
                  }}
                  data-testid={`bt-sort-${s}`}
                >
                  {STAT_LABELS[s]}
                  {s === sortBy ? (descending ? ' ▼' : ' ▲') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} onClick={() => void open({ kind: 'result', id: r.id })} className="bt-clickable" data-testid="bt-sweep-row">
              {axes.map((a) => (
                <td key={a} className="num">
                  {String(sweep.points[r.id]?.[a] ?? '')}
                </td>
              ))}
              <td>{r.status}</td>
              {RANKED_STATISTICS.map((s) => (
                <td key={s} className="num" data-stat={s}>
                  {formatStat(s, r.statistics)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type PointValue = number | string | boolean;
function heatmapOf(runs: BacktestSummary[], points: Record<string, Record<string, PointValue>>, ax: string, ay: string, stat: RankedStatistic) {
  const order = (values: PointValue[]) => [...new Set(values)].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
  const xs = order(runs.map((r) => points[r.id]?.[ax]).filter((v): v is PointValue => v !== undefined));
  const ys = order(runs.map((r) => points[r.id]?.[ay]).filter((v): v is PointValue => v !== undefined));
  const cells = new Map<string, BacktestSummary>();
  let min = Infinity;
  let max = -Infinity;
  for (const r of runs) {
    cells.set(`${String(points[r.id]?.[ax])}|${String(points[r.id]?.[ay])}`, r);
    const v = r.statistics?.[stat];
    if (typeof v === 'number' && Number.isFinite(v)) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  return { xs, ys, cells, min, max };
}

export function BacktestsScreen() {
  const load = useBacktests((s) => s.load);
  const view = useBacktests((s) => s.view);
  const open = useBacktests((s) => s.open);
  const result = useBacktests((s) => s.result);
  const compared = useBacktests((s) => s.compared);
  const resultError = useBacktests((s) => s.resultError);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <div className="backtests" data-testid="backtests-screen">
      <div className="bt-toolbar">
        <button type="button" className={`btn btn-small${view.kind === 'list' ? ' active' : ''}`} onClick={() => void open({ kind: 'list' })} data-testid="bt-back">
          Jobs
        </button>
        {resultError ? <span className="bt-form-error">{resultError}</span> : null}
      </div>
      {view.kind === 'list' ? (
        <>
          <JobForm />
          <RunList />
        </>
      ) : null}
      {view.kind === 'result' && result && result.id === view.id ? <ResultPage result={result} /> : null}
      {view.kind === 'compare' ? <ComparePage runs={compared} /> : null}
      {view.kind === 'sweep' ? <SweepPage /> : null}
    </div>
  );
}
