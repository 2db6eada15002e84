import { Fragment, memo, useEffect, useLayoutEffect, useMemo, useRef, useState, type FormEvent, type RefObject } from 'react';
import type { LogFile, LogLevelName, LogLine } from '../../shared/contract/logs.js';
import { LOG_LEVELS } from '../../shared/logLevels.js';
import { formatAge } from '../lib/format.js';
import { shortcutAllowed } from '../lib/keyboard.js';
import { displayTime, fieldColumns, fieldText, formatBytes, normalizeTimeInput, otherFields, type FieldColumn } from '../lib/logFormat.js';
import { useClock } from '../stores/clock.js';
import { useNavigation } from '../stores/navigation.js';
import { SEARCH_LIMIT, logsStore, pageLabel, pageMoves, useLogs } from '../stores/logs.js';
import '../styles/logs.css';
import { LevelBadge } from '../components/LevelBadge.js';

/** The file list is re-read this often while the screen is open (sizes, index progress). */
const FILES_POLL_MS = 2000;
/** A page whose index or filter scan is still running is asked for again this often. */
const PAGE_POLL_MS = 1000;
const KEYWORD_DEBOUNCE_MS = 300;

function FileList() {
  const files = useLogs((s) => s.files);
  const loaded = useLogs((s) => s.filesLoaded);
  const error = useLogs((s) => s.filesError);
  const selected = useLogs((s) => s.selected);
  const now = useClock((s) => s.now);
  const open = (file: string): void => logsStore.getState().openFile(file);
  return (
    <aside className="log-files" aria-label="Log files">
      <div className="log-files-head">
        <span>Files</span>
        <span className="muted">{files.length}</span>
      </div>
      {error ? (
        <div className="empty error" role="alert">
          {error}
        </div>
      ) : null}
      {loaded && files.length === 0 && !error ? <div className="empty">No log files under the logs folder.</div> : null}
      <ul className="log-file-list" data-testid="log-files">
        {files.map((f: LogFile) => {
          const name = f.variant ? f.file.slice(f.variant.length + 1) : f.file;
          return (
            <li key={f.file}>
              <button
                type="button"
                className={f.file === selected ? 'log-file active' : 'log-file'}
                aria-current={f.file === selected ? 'true' : undefined}
                onClick={() => open(f.file)}
                data-testid="log-file-row"
                data-file={f.file}
                title={`${f.file}\n${f.bytes.toLocaleString('en-US')} bytes, modified ${f.modifiedAt}`}
              >
                <span className="log-file-name">
                  {f.variant ? <span className="log-file-dir">{f.variant}/</span> : null}
                  {name}
                </span>
                <span className="log-file-meta">
                  <span className="num">{formatBytes(f.bytes)}</span>
                  <span className="muted">{formatAge(f.modifiedAt, now)}</span>
                  {f.index.lines !== null ? <span className="num muted">{f.index.lines.toLocaleString('en-US')} lines</span> : null}
                </span>
                {!f.index.done && f.index.progress > 0 ? (
                  <progress
                    className="log-index-progress"
                    max={1}
                    value={f.index.progress}
                    data-testid="log-file-progress"
                    title={`indexing ${(f.index.progress * 100).toFixed(0)}%`}
                  />
                ) : null}
              </button>
            </li>
          );
        })}
      </ul>
    </aside>
  );
}

function LineRows({ lines, columns, focusLine, onLineClick, testId }: {
  lines: readonly LogLine[];
  columns: readonly FieldColumn[];
  focusLine: number | null;
  onLineClick?: (line: LogLine) => void;
  testId: string;
}) {
  const [expanded, setExpanded] = useState<string | null>(null);
  const span = 5 + columns.length + 1;
  return (
    <tbody>
      {lines.map((line, i) => {
        const key = line.lineNo === null ? `e${i}` : String(line.lineNo);
        const open = expanded === key;
        const other = otherFields(line.fields, columns);
        return (
          <Fragment key={key}>
            <tr
              className={['log-row', line.lineNo !== null && line.lineNo === focusLine ? 'focus' : '', open ? 'open' : ''].filter(Boolean).join(' ')}
              data-testid={testId}
              data-line={line.lineNo ?? ''}
              data-level={line.level ?? ''}
              onClick={() => (onLineClick ? onLineClick(line) : setExpanded(open ? null : key))}
              title={onLineClick ? 'Show this line in its page' : 'Click to show the line as written'}
            >
              <td className="num muted log-col-no">{line.lineNo ?? '…'}</td>
              <td className="mono log-col-time">{displayTime(line.time)}</td>
              <td className="log-col-level">
                <LevelBadge level={line.level} kind="log" />
              </td>
              <td className="log-col-variant">{line.variant ?? ''}</td>
              <td className="log-col-message">{line.raw.startsWith('{') || line.time || line.level ? line.message : line.raw}</td>
              {columns.map((c) => (
                <td key={c.key} className={c.numeric ? 'num mono log-col-field' : 'mono log-col-field'}>
                  {fieldText(line.fields[c.key])}
                </td>
              ))}
              <td className="mono muted log-col-other">{other}</td>
            </tr>
            {open ? (
              <tr className="log-raw-row">
                <td colSpan={span}>
                  <pre className="log-raw" data-testid="log-raw">
                    {line.raw}
                  </pre>
                </td>
              </tr>
            ) : null}
          </Fragment>
        );
      })}
    </tbody>
  );
}

function LineTable({ lines, focusLine, onLineClick, testId, empty }: {
  lines: readonly LogLine[];
  focusLine: number | null;
  onLineClick?: (line: LogLine) => void;
  testId: string;
  empty: string;
}) {
  const columns = useMemo(() => fieldColumns(lines), [lines]);
  if (lines.length === 0) return <div className="empty">{empty}</div>;
  return (
    <table className="grid log-table" data-testid={testId === 'log-row' ? 'log-lines-table' : `${testId}-table`}>
      <thead>
        <tr>
          <th className="num">#</th>
          <th>Time</th>
          <th>Level</th>
          <th>Variant</th>
          <th>Message</th>
          {columns.map((c) => (
            <th key={c.key} className={c.numeric ? 'num' : undefined}>
              {c.key}
            </th>
          ))}
          <th>Other fields</th>
        </tr>
      </thead>
      <LineRows lines={lines} columns={columns} focusLine={focusLine} onLineClick={onLineClick} testId={testId} />
    </table>
  );
}

type LineTableProps = Parameters<typeof LineTable>[0];

/**
 * Streamed hits and tailed lines only ever grow at the end: the same length and the same first
 * line mean the same rows, so the table is not redrawn for a new array of the same lines.
 */
const StableLineTable = memo(LineTable, (a: LineTableProps, b: LineTableProps) => {
  return (
    a.lines.length === b.lines.length &&
    a.lines[0] === b.lines[0] &&
    a.lines[a.lines.length - 1] === b.lines[b.lines.length - 1] &&
    a.focusLine === b.focusLine &&
    a.testId === b.testId &&
    a.empty === b.empty &&
    a.onLineClick === b.onLineClick
  );
});

function Pager() {
  const position = useLogs((s) => s.position);
  const page = useLogs((s) => s.page);
  const tailing = useLogs((s) => s.tailing);
  const selected = useLogs((s) => s.selected);
  const moves = pageMoves(position, page);
  const store = logsStore.getState();
  const disabled = tailing || !selected;
  const served = page?.page ?? position.page;
  const total = page?.totalPages ?? null;
  const atFirst = position.mode === 'start' ? served === 1 : total !== null && served === total;
  const atLast = position.mode === 'end' ? served === 1 : total !== null && served === total;
  return (
    <div className="log-pager" role="group" aria-label="Pages">
      <button type="button" className="btn btn-small" disabled={disabled || atFirst} onClick={() => store.first()} data-testid="log-first" title="First page (Home)">
        « First
      </button>
      <button type="button" className="btn btn-small" disabled={disabled || !moves.older} onClick={() => store.previous()} data-testid="log-prev" title="Older lines (←)">
        ‹ Prev
      </button>
      <span className="log-page-info num" data-testid="log-page-info">
        {pageLabel(position, page)}
      </span>
      <button type="button" className="btn btn-small" disabled={disabled || !moves.newer} onClick={() => store.next()} data-testid="log-next" title="Newer lines (→)">
        Next ›
      </button>
      <button type="button" className="btn btn-small" disabled={disabled || atLast} onClick={() => store.last()} data-testid="log-last" title="Last page: the newest lines (End)">
        Last »
      </button>
    </div>
  );
}

function SearchBar({ inputRef }: { inputRef: RefObject<HTMLInputElement | null> }) {
  const search = useLogs((s) => s.search);
  const selected = useLogs((s) => s.selected);
  const [pattern, setPattern] = useState(search.pattern);
  const [regex, setRegex] = useState(search.regex);
  const [caseSensitive, setCaseSensitive] = useState(search.caseSensitive);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    logsStore.getState().startSearch(pattern, { regex, caseSensitive });
  };
  const pct = search.totalBytes > 0 ? Math.min(1, search.scannedBytes / search.totalBytes) : 0;
  return (
    <form className="log-search" onSubmit={submit} role="search">
      <input
        ref={inputRef}
        className="log-input log-search-input"
        type="search"
        placeholder={regex ? 'regular expression, e.g. order (rejected|cancelled)' : 'search the whole file (/)'}
        value={pattern}
        onChange={(e) => setPattern(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && search.running) {
            e.preventDefault();
            logsStore.getState().cancelSearch();
          }
        }}
        aria-label="Search"
        data-testid="log-search-input"
        spellCheck={false}
      />
      <label className="log-toggle" title="Regular expression (JavaScript syntax)">
        <input type="checkbox" checked={regex} onChange={(e) => setRegex(e.target.checked)} data-testid="log-search-regex" />
        .*
      </label>
      <label className="log-toggle" title="Match case">
        <input type="checkbox" checked={caseSensitive} onChange={(e) => setCaseSensitive(e.target.checked)} data-testid="log-search-case" />
        Aa
      </label>
      {search.running ? (
        <button type="button" className="btn btn-small btn-danger" onClick={() => logsStore.getState().cancelSearch()} data-testid="log-search-cancel">
          Cancel
        </button>
      ) : (
        <button type="submit" className="btn btn-small btn-primary" disabled={!selected || pattern.length === 0} data-testid="log-search-button">
          Search
        </button>
      )}
      {search.file ? (
        <span className="log-search-status" data-testid="log-search-progress" data-running={search.running} data-hits={search.hitCount}>
          {search.running ? <progress max={1} value={pct} className="log-search-progress" /> : null}
          <span className="num">{search.hitCount.toLocaleString('en-US')}</span> hit{search.hitCount === 1 ? '' : 's'}
          {search.running ? ` · ${(pct * 100).toFixed(0)}%` : search.cancelled ? ' · cancelled' : search.error ? '' : ' · done'}
          {search.hitCount >= SEARCH_LIMIT ? ` · first ${SEARCH_LIMIT.toLocaleString('en-US')} shown` : ''}
        </span>
      ) : null}
      {search.error ? (
        <span className="log-error" role="alert" data-testid="log-search-error">
          {search.error}
        </span>
      ) : null}
    </form>
  );
}

function Filters() {
  const level = useLogs((s) => s.level);
  const keyword = useLogs((s) => s.keyword);
  const tailing = useLogs((s) => s.tailing);
  const selected = useLogs((s) => s.selected);
  const [draft, setDraft] = useState(keyword);
  const [at, setAt] = useState('');
  const [atError, setAtError] = useState<string | null>(null);
  // The store may clear the keyword itself (showing a line in context): follow it.
  const [seenKeyword, setSeenKeyword] = useState(keyword);
  if (keyword !== seenKeyword) {
    setSeenKeyword(keyword);
    setDraft(keyword);
  }
  useEffect(() => {
    const t = setTimeout(() => logsStore.getState().setKeyword(draft), KEYWORD_DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [draft]);
  const jump = (e: FormEvent): void => {
    e.preventDefault();
    const normalized = normalizeTimeInput(at);
    if (!normalized) {
      setAtError('use YYYY-MM-DD HH:MM[:SS]');
      return;
    }
    setAtError(null);
    void logsStore.getState().jumpToTime(normalized);
  };
  return (
    <div className="log-filters">
      <select
        className="log-select"
        value={level ?? ''}
        onChange={(e) => logsStore.getState().setLevel(e.target.value === '' ? null : (e.target.value as LogLevelName))}
        aria-label="Level"
        data-testid="log-level-filter"
        title="Show lines at or above this level"
      >
        <option value="">All levels</option>
        {LOG_LEVELS.map((l) => (
          <option key={l} value={l}>
            {l === 'CRITICAL' ? 'CRITICAL' : `${l} and above`}
          </option>
        ))}
      </select>
      <input
        className="log-input log-keyword"
        type="text"
        placeholder="filter lines containing…"
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        aria-label="Filter pages by keyword"
        data-testid="log-keyword-filter"
        disabled={tailing}
        spellCheck={false}
      />
      <form className="log-jump" onSubmit={jump}>
        <input
          className={atError ? 'log-input log-time invalid' : 'log-input log-time'}
          type="text"
          placeholder="jump to YYYY-MM-DD HH:MM:SS"
          value={at}
          onChange={(e) => setAt(e.target.value)}
          aria-label="Jump to time"
          aria-invalid={atError !== null}
          title={atError ?? 'The page holding the first line at or after this time (as the log writes it)'}
          data-testid="log-jump-input"
          disabled={tailing || !selected}
        />
        <button type="submit" className="btn btn-small" disabled={tailing || !selected || at.length === 0} data-testid="log-jump-button">
          Go
        </button>
      </form>
      <label className="log-toggle log-tail-toggle" title="Follow new lines as they are written (t)">
        <input
          type="checkbox"
          checked={tailing}
          disabled={!selected}
          onChange={(e) => logsStore.getState().setTail(e.target.checked)}
          data-testid="log-tail-toggle"
        />
        Live tail
      </label>
    </div>
  );
}

function TailView() {
  const lines = useLogs((s) => s.tailLines);
  const error = useLogs((s) => s.tailError);
  const scroller = useRef<HTMLDivElement | null>(null);
  const stick = useRef(true);
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <div
      className="log-body"
      ref={scroller}
      onScroll={(e) => {
        const el = e.currentTarget;
        // Following stops while the trader scrolls up to read, and resumes at the bottom.
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
      }}
      data-testid="log-tail"
    >
      {error ? (
        <div className="empty error" role="alert">
          Tail stopped: {error}
        </div>
      ) : null}
      <LineTable lines={lines} focusLine={null} testId="log-row" empty="Waiting for lines…" />
    </div>
  );
}

function showHitInContext(line: LogLine): void {
  if (line.lineNo !== null) logsStore.getState().showLine(line.lineNo);
}

/** Search hits drawn at a time: a table of thousands of rows redrawn as hits stream in is slow. */
const HITS_SHOWN_STEP = 500;

function SearchResults() {
  const search = useLogs((s) => s.search);
  const selected = useLogs((s) => s.selected);
  const [shown, setShown] = useState({ for: '', rows: HITS_SHOWN_STEP });
  const searchKey = `${search.file ?? ''}\u0000${search.pattern}\u0000${search.regex}\u0000${search.caseSensitive}`;
  const rows = shown.for === searchKey ? shown.rows : HITS_SHOWN_STEP;
  const visible = useMemo(() => search.hits.slice(0, rows), [search.hits, rows]);
  if (search.file !== selected) return <div className="empty">No search in this file yet: type in the search box and press Enter.</div>;
  return (
    <div className="log-body" data-testid="log-search-results">
      <StableLineTable
        lines={visible}
        focusLine={null}
        onLineClick={showHitInContext}
        testId="log-search-hit"
        empty={search.running ? 'Searching…' : search.error ? '' : 'No hits.'}
      />
      {search.hits.length > visible.length ? (
        <div className="log-more">
          <span className="muted">
            showing {visible.length.toLocaleString('en-US')} of {search.hits.length.toLocaleString('en-US')} hits
          </span>
          <button type="button" className="btn btn-small" onClick={() => setShown({ for: searchKey, rows: rows + HITS_SHOWN_STEP })} data-testid="log-search-more">
            Show {HITS_SHOWN_STEP} more
          </button>
        </div>
      ) : null}
    </div>
  );
}

function PageView() {
  const page = useLogs((s) => s.page);
  const error = useLogs((s) => s.pageError);
  const loading = useLogs((s) => s.pageLoading);
  const focusLine = useLogs((s) => s.focusLine);
  const body = useRef<HTMLDivElement | null>(null);
  useLayoutEffect(() => {
    const el = body.current;
    if (!el) return;
    const focused = el.querySelector('tr.focus');
    if (focused instanceof HTMLElement) focused.scrollIntoView({ block: 'center' });
  }, [page, focusLine]);
  return (
    <div className="log-body" ref={body} data-loading={loading} data-testid="log-page">
      {error ? (
        <div className="empty error" role="alert" data-testid="log-page-error">
          {error}
        </div>
      ) : null}
      {page ? <LineTable lines={page.lines} focusLine={focusLine} testId="log-row" empty="No lines match." /> : !error ? <div className="empty">Loading…</div> : null}
    </div>
  );
}

function useLogsKeyboard(searchInput: RefObject<HTMLInputElement | null>): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (!shortcutAllowed(event) || event.altKey) return;
      const store = logsStore.getState();
      if (event.key === '/') {
        event.preventDefault();
        searchInput.current?.focus();
      } else if (event.key === 'ArrowLeft' && !store.tailing) {
        event.preventDefault();
        store.previous();
      } else if (event.key === 'ArrowRight' && !store.tailing) {
        event.preventDefault();
        store.next();
      } else if (event.key === 'Home' && !store.tailing) {
        event.preventDefault();
        store.first();
      } else if (event.key === 'End' && !store.tailing) {
        event.preventDefault();
        store.last();
      } else if (event.key === 't' && store.selected) {
        event.preventDefault();
        store.setTail(!store.tailing);
      } else if (event.key === 'Escape' && store.search.running) {
        store.cancelSearch();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [searchInput]);
}

export function LogsScreen() {
  const selected = useLogs((s) => s.selected);
  const files = useLogs((s) => s.files);
  const page = useLogs((s) => s.page);
  const tailing = useLogs((s) => s.tailing);
  const view = useLogs((s) => s.view);
  const hitCount = useLogs((s) => s.search.hitCount);
  const searchFile = useLogs((s) => s.search.file);
  const lastVariant = useNavigation((s) => s.lastVariant);
  const searchInput = useRef<HTMLInputElement | null>(null);
  useLogsKeyboard(searchInput);

  useEffect(() => {
    const store = logsStore.getState();
    void store.loadFiles();
    const timer = setInterval(() => void logsStore.getState().loadFiles(), FILES_POLL_MS);
    return () => {
      clearInterval(timer);
      logsStore.getState().dispose();
    };
  }, []);

  // Nothing chosen yet: the strategy log of the variant last looked at, else the first file.
  useEffect(() => {
    if (selected || files.length === 0) return;
    const preferred = lastVariant ? files.find((f) => f.file === `${lastVariant}/strategy.log`) : undefined;
    const first = preferred ?? files.find((f) => f.file.endsWith('strategy.log')) ?? files[0];
    if (first) logsStore.getState().openFile(first.file);
  }, [selected, files, lastVariant]);

  // Totals arrive once the index (or the filter's scan) is done: ask again until then.
  useEffect(() => {
    if (!page || page.index.done || tailing) return;
    const t = setTimeout(() => void logsStore.getState().reloadPage(), PAGE_POLL_MS);
    return () => clearTimeout(t);
  }, [page, tailing]);

  const current = files.find((f) => f.file === selected);
  return (
    <section className="logs" data-testid="logs-screen">
      <div className="screen-header">
        <h1>Logs</h1>
        <span className="muted mono" data-testid="log-current-file">
          {selected ?? 'no file'}
        </span>
        {current ? <span className="muted num">{formatBytes(current.bytes)}</span> : null}
        {page && !page.index.done ? (
          <span className="muted" data-testid="log-indexing">
            {page.totalLines === null ? 'counting lines' : 'scanning'} {(page.index.progress * 100).toFixed(0)}%
          </span>
        ) : page?.totalLines !== null && page?.totalLines !== undefined ? (
          <span className="muted num">{page.totalLines.toLocaleString('en-US')} lines</span>
        ) : null}
        <span className="muted hint">/ search · ← → pages · Home/End · t tail · click a line for its raw text</span>
      </div>
      <div className="logs-layout">
        <FileList />
        <div className="log-main">
          <div className="log-toolbar">
            <Filters />
            <Pager />
          </div>
          <div className="log-toolbar">
            <SearchBar inputRef={searchInput} />
          </div>
          <div className="log-tabs" role="tablist">
            <button
              type="button"
              role="tab"
              aria-selected={view === 'lines'}
              className={view === 'lines' ? 'log-tab active' : 'log-tab'}
              onClick={() => logsStore.getState().setView('lines')}
              data-testid="log-lines-tab"
            >
              {tailing ? 'Live tail' : 'Lines'}
            </button>
            <button
              type="button"
              role="tab"
              aria-selected={view === 'search'}
              className={view === 'search' ? 'log-tab active' : 'log-tab'}
              onClick={() => logsStore.getState().setView('search')}
              data-testid="log-results-tab"
            >
              Search results{searchFile === selected && searchFile ? ` (${hitCount.toLocaleString('en-US')})` : ''}
            </button>
          </div>
          {!selected ? <div className="empty">Choose a log file.</div> : view === 'search' ? <SearchResults /> : tailing ? <TailView /> : <PageView />}
        </div>
      </div>
    </section>
  );
}
