import { useEffect, type ChangeEvent, type KeyboardEvent as ReactKeyboardEvent, type ReactNode } from 'react';
import type { BarOverviewRow } from '../../shared/contract/data.js';
import { formatExchangeText, formatWallClock } from '../lib/format.js';
import { shortcutAllowed } from '../lib/keyboard.js';
import { useConnection } from '../stores/connection.js';
import { IMPORT_PRESETS, dataStore, formatGapMinutes, useData, type ImportForm } from '../stores/data.js';
import '../styles/forms.css';
import '../styles/data.css';
import { FieldMessages } from '../components/FieldMessages.js';

/** The overview is re-read this often while the screen is open (a recorder or the demo writes). */
const REFRESH_MS = 10_000;

const count = (n: number): string => n.toLocaleString('en-US');

/** Enter/Space selects the focused row; the arrows move to the next or previous row and select it. */
function onRowKey(event: ReactKeyboardEvent<HTMLTableRowElement>, row: BarOverviewRow): void {
  if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    dataStore().getState().select(row.vtSymbol);
    return;
  }
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
  event.preventDefault();
  const next = event.key === 'ArrowDown' ? event.currentTarget.nextElementSibling : event.currentTarget.previousElementSibling;
  if (next instanceof HTMLTableRowElement) {
    next.focus();
    const vtSymbol = next.dataset['vtSymbol'];
    if (vtSymbol) dataStore().getState().select(vtSymbol);
  }
}

function OverviewTable() {
  const overview = useData((s) => s.overview);
  const error = useData((s) => s.overviewError);
  const selected = useData((s) => s.selected);
  const rows = overview?.rows ?? [];
  return (
    <section className="panel data-overview" aria-label="Bars in the store">
      <div className="panel-head">
        <h2>Bars in the store</h2>
        <span className="muted" data-testid="data-row-count">
          {overview ? `${count(rows.length)} series, ${count(rows.reduce((a, r) => a + r.count, 0))} bars` : ''}
        </span>
      </div>
      {error ? (
        <div className="empty error" role="alert" data-testid="data-overview-error">
          {error}
        </div>
      ) : null}
      {overview && rows.length === 0 && !error ? (
        <div className="empty" data-testid="data-empty">
          No bars yet. Import a file below, or run the demo.
        </div>
      ) : null}
      {rows.length > 0 ? (
        <div className="panel-scroll">
          <table className="grid compact data-table" data-testid="data-overview">
            <thead>
              <tr>
                <th>Symbol</th>
                <th>Exchange</th>
                <th>Interval</th>
                <th className="num">Bars</th>
                <th>First (exchange time)</th>
                <th>Last (exchange time)</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => {
                const active = selected === r.vtSymbol;
                return (
                  <tr
                    key={`${r.vtSymbol}|${r.interval}`}
                    className={active ? 'data-row selected' : 'data-row'}
                    aria-selected={active}
                    tabIndex={0}
                    onClick={() => dataStore().getState().select(r.vtSymbol)}
                    onKeyDown={(e) => onRowKey(e, r)}
                    data-testid="data-row"
                    data-vt-symbol={r.vtSymbol}
                    data-interval={r.interval}
                    data-count={r.count}
                  >
                    <td className="mono">{r.symbol}</td>
                    <td>{r.exchange}</td>
                    <td>{r.interval}</td>
                    <td className="num mono" data-testid="data-row-bars">
                      {count(r.count)}
                    </td>
                    <td className="mono">{r.start}</td>
                    <td className="mono">{r.end}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function GapsPanel() {
  const selected = useData((s) => s.selected);
  const gaps = useData((s) => s.gaps);
  const loading = useData((s) => s.gapsLoading);
  const error = useData((s) => s.gapsError);
  const row = useData((s) => s.overview?.rows.find((r) => r.vtSymbol === s.selected && r.interval === '1m') ?? null);
  let body: ReactNode;
  if (!selected) body = <div className="empty">Select a 1-minute series to see where bars are missing.</div>;
  else if (!row) body = <div className="empty">Gaps are listed for 1-minute bars; {selected} has no 1-minute series.</div>;
  else if (error)
    body = (
      <div className="empty error" role="alert" data-testid="gaps-error">
        {error}
      </div>
    );
  else if (!gaps) body = <div className="empty">{loading ? `Scanning ${count(row.count)} bars…` : ''}</div>;
  else {
    const cal = gaps.calendar;
    body = (
      <>
        <div className="gaps-summary" data-testid="gaps-summary">
          <span>
            <b className="num" data-testid="gaps-total">
              {count(gaps.totalGaps)}
            </b>{' '}
            {gaps.totalGaps === 1 ? 'gap' : 'gaps'},{' '}
            <b className="num" data-testid="gaps-missing">
              {count(gaps.missingMinutes)}
            </b>{' '}
            missing {gaps.missingMinutes === 1 ? 'minute' : 'minutes'} in {count(gaps.barsScanned)} bars
          </span>
          <span className="muted" title={cal.sessions.length > 0 ? `Sessions ${cal.sessions.join(', ')}, Monday to Friday; no holiday table` : undefined}>
            {cal.name === 'continuous'
              ? 'every minute expected (24 h market); holes of 2 min or more'
              : `${cal.name === 'cffex' ? 'CFFEX' : 'China futures'} sessions ${cal.sessions.join(', ')}`}
          </span>
          {gaps.emptySessions > 0 ? (
            <span className="muted" data-testid="gaps-empty-sessions" title="A holiday, a product without a night session, or a recorder down for the whole session">
              + {count(gaps.emptySessions)} {gaps.emptySessions === 1 ? 'session' : 'sessions'} without any bar, not listed
            </span>
          ) : null}
        </div>
        {gaps.gaps.length === 0 ? (
          <div className="empty" data-testid="gaps-none">
            No gap inside sessions between {formatExchangeText(gaps.firstBar)} and {formatExchangeText(gaps.lastBar)}.
          </div>
        ) : (
          <div className="panel-scroll">
            <table className="grid compact" data-testid="gaps-table">
              <thead>
                <tr>
                  <th className="num">#</th>
                  <th>Missing from</th>
                  <th>to (inclusive)</th>
                  <th className="num">Minutes</th>
                  <th className="num">Duration</th>
                </tr>
              </thead>
              <tbody>
                {gaps.gaps.map((g, i) => (
                  <tr key={g.from} data-testid="gap-row">
                    <td className="num muted">{i + 1}</td>
                    <td className="mono">{formatExchangeText(g.from)}</td>
                    <td className="mono">{formatExchangeText(g.to)}</td>
                    <td className="num mono">{count(g.minutes)}</td>
                    <td className="num">{formatGapMinutes(g.minutes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {gaps.truncated ? (
              <div className="muted gaps-more" data-testid="gaps-truncated">
                The first {count(gaps.gaps.length)} of {count(gaps.totalGaps)} gaps are listed.
              </div>
            ) : null}
          </div>
        )}
      </>
    );
  }
  return (
    <section className="panel data-gaps" aria-label="Gaps" data-testid="gaps-panel" data-loading={loading ? 'true' : 'false'}>
      <div className="panel-head">
        <h2>Gaps {selected ? <span className="mono">{selected}</span> : null}</h2>
        {gaps && loading ? <span className="muted">rescanning…</span> : null}
      </div>
      {body}
    </section>
  );
}

function TextField({ label, field, placeholder, title, width, grow }: { label: string; field: keyof ImportForm; placeholder?: string; title?: string; width?: number; grow?: boolean }) {
  const value = useData((s) => s.import.form[field]);
  const errors = useData((s) => s.import.fieldErrors[field]);
  return (
    <label className={grow ? 'form-field grow' : 'form-field'} title={title} style={width ? { width } : undefined}>
      <span className="field-label">{label}</span>
      <input
        type="text"
        className={field === 'columns' ? 'mono' : undefined}
        value={value}
        placeholder={placeholder}
        spellCheck={false}
        aria-invalid={errors ? true : undefined}
        onChange={(e) => dataStore().getState().setForm({ [field]: e.target.value })}
        data-testid={`import-${field}`}
      />
      <FieldMessages messages={errors} testId={`import-${field}-error`} />
    </label>
  );
}

function ImportPanel() {
  const imp = useData((s) => s.import);
  const store = useData((s) => s.overview?.store ?? null);
  const control = useConnection((s) => s.status?.controlEnabled ?? null);
  const form = imp.form;
  const onFile = (event: ChangeEvent<HTMLInputElement>): void => {
    const file = event.target.files?.[0];
    if (!file) {
      dataStore().getState().chooseFile(null);
      return;
    }
    void file.text().then((content) => dataStore().getState().chooseFile({ name: file.name, size: file.size, content }));
  };
  const contentErrors = imp.fieldErrors['content'];
  const headline = imp.error && contentErrors ? imp.error.replace(/nothing was stored\..*$/s, 'nothing was stored.') : imp.error;
  const readOnlyStore = store !== null && !store.writable;
  return (
    <section className="panel data-import" aria-label="Import bars" data-testid="import-panel">
      <div className="panel-head">
        <h2>Import bars</h2>
        <span className="muted">all rows or none; importing again changes nothing</span>
      </div>
      <div className="import-body">
        <div className="import-presets" role="group" aria-label="Presets">
          <span className="field-label">Preset</span>
          {IMPORT_PRESETS.map((p) => (
            <button key={p.id} type="button" className="btn btn-small" title={p.description} onClick={() => dataStore().getState().applyPreset(p.id)} data-testid={`import-preset-${p.id}`}>
              {p.label}
            </button>
          ))}
        </div>
        <div className="form-row">
          <label className="form-field file-field">
            <span className="field-label">File (CSV or JSON, ≤ 50 MB)</span>
            <span className="file-line">
              <input type="file" accept=".csv,.txt,.json,text/csv,application/json,text/plain" onChange={onFile} data-testid="import-file" />
              {imp.file ? (
                <span className="muted num" data-testid="import-file-info" title={imp.file.name}>
                  {count(imp.file.size)} bytes
                </span>
              ) : null}
            </span>
            <FieldMessages messages={imp.fieldErrors['file']} />
          </label>
          <label className="form-field">
            <span className="field-label">Format</span>
            <select value={form.format} onChange={(e) => dataStore().getState().setForm({ format: e.target.value as ImportForm['format'] })} data-testid="import-format">
              <option value="csv">CSV</option>
              <option value="json">JSON</option>
            </select>
          </label>
          <label className="form-field" title="use: the first line names the columns; skip: a header that does not fit (columns by position); none: every line is a bar">
            <span className="field-label">Header</span>
            <select value={form.header} disabled={form.format === 'json'} onChange={(e) => dataStore().getState().setForm({ header: e.target.value as ImportForm['header'] })} data-testid="import-header">
              <option value="use">names the columns</option>
              <option value="skip">skip first line</option>
              <option value="none">no header</option>
            </select>
          </label>
        </div>
        <div className="form-row">
          <TextField label="Symbol" field="symbol" placeholder="rb2505" width={90} />
          <TextField label="Exchange" field="exchange" placeholder="SHFE" width={76} />
          <label className="form-field">
            <span className="field-label">Interval</span>
            <select value={form.interval} onChange={(e) => dataStore().getState().setForm({ interval: e.target.value as ImportForm['interval'] })} data-testid="import-interval">
              <option value="1m">1m</option>
              <option value="1h">1h</option>
              <option value="d">d</option>
              <option value="w">w</option>
            </select>
          </label>
          <TextField label="Datetime format" field="datetimeFormat" placeholder="auto" title="auto, epoch-s, epoch-ms, or a pattern such as %Y%m%d %H%M" width={112} />
          <TextField label="File TZ" field="tz" placeholder="exchange time" title="The zone the file's times are written in (IANA name, UTC or +08:00). Empty: they already are the exchange's local time" width={96} />
          <TextField label="Exchange TZ" field="exchangeTz" placeholder="= file TZ" title="The exchange's zone, whose naive local time the store keeps. Empty: the same as the file's zone" width={96} />
        </div>
        <div className="form-row">
          <TextField
            label="Columns (empty: found by the header's names)"
            field="columns"
            placeholder="datetime=Date,open=Open,high=High,low=Low,close=Close,volume=Volume   or   date=0,time=1,open=2,…"
            title="field=column pairs; a column by its header name or 0-based position. Fields: datetime | date [+ time], open, high, low, close, volume, turnover, openInterest"
            grow
          />
        </div>
        <div className="form-row import-actions">
          <button
            type="button"
            className="btn btn-primary"
            disabled={imp.running || !imp.file || control === false || readOnlyStore}
            onClick={() => void dataStore().getState().runImport()}
            data-testid="import-run"
            title={control === false ? 'This host is read-only: start it with --allow-control to import' : undefined}
          >
            {imp.running ? 'Importing…' : 'Import'}
          </button>
          <span className="muted">into {store?.description ?? 'the configured bar store'}</span>
          {control === false ? <span className="muted">read-only host: start it with --allow-control to import</span> : null}
          {readOnlyStore ? <span className="field-error">this store is read-only for Kestrel</span> : null}
        </div>
        {imp.result ? (
          <div className="import-result ok" role="status" data-testid="import-result">
            <b>{imp.result.message}</b>
            <span className="muted">
              {count(imp.result.rowsRead)} rows read, {count(imp.result.rowsWritten)} written
              {imp.result.outOfOrder > 0 ? `, ${count(imp.result.outOfOrder)} before the row above (stored by datetime)` : ''}
              {imp.result.repeated > 0 ? `, ${count(imp.result.repeated)} repeating an earlier datetime (the last one stored)` : ''}
            </span>
          </div>
        ) : null}
        {headline ? (
          <div className="import-result error" role="alert" data-testid="import-error">
            <b>{headline}</b>
            {contentErrors ? (
              <ul className="import-problems mono" data-testid="import-problems">
                {contentErrors.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            ) : null}
          </div>
        ) : null}
      </div>
    </section>
  );
}

export function DataScreen() {
  const loadedAt = useData((s) => s.loadedAt);
  const loading = useData((s) => s.overviewLoading);
  const store = useData((s) => s.overview?.store ?? null);
  useEffect(() => {
    const s = dataStore().getState();
    void s.loadOverview();
    const timer = setInterval(() => void dataStore().getState().loadOverview(), REFRESH_MS);
    const onKey = (event: KeyboardEvent): void => {
      if (!shortcutAllowed(event) || event.altKey) return;
      if (event.key === 'r') {
        event.preventDefault();
        void dataStore().getState().loadOverview();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => {
      clearInterval(timer);
      window.removeEventListener('keydown', onKey);
    };
  }, []);
  return (
    <div className="data-screen" data-testid="data-screen">
      <div className="screen-header">
        <h1>Data</h1>
        <span className="muted" data-testid="data-store">
          {store ? store.description : ''}
        </span>
        {store && !store.writable ? <span className="badge badge-readonly">read-only</span> : null}
        <span className="hint muted">
          {loadedAt === null ? '' : `updated ${formatWallClock(loadedAt)}`}
          {loading ? ' …' : ''}
        </span>
        <button type="button" className="btn btn-small" onClick={() => void dataStore().getState().loadOverview()} title="Reload (r)">
          Reload
        </button>
      </div>
      <div className="data-grid">
        <OverviewTable />
        <div className="data-side">
          <GapsPanel />
          <ImportPanel />
        </div>
      </div>
    </div>
  );
}
