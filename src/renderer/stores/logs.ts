import { createStore, useStore, type StoreApi } from 'zustand';
import type { KestrelApi, Unsubscribe } from '../../shared/api.js';
import type { LogFile, LogLevelName, LogLine, LogPage } from '../../shared/contract/logs.js';
import { getApi } from '../api/index.js';

/** What the logs screen needs from the API (the whole KestrelApi satisfies it). */
export type LogsApi = Pick<KestrelApi, 'listLogFiles' | 'listLogLines' | 'streams'>;

/** Where the page view stands: counted from the start, or from the end (1 = newest). */
export interface PagePosition {
  mode: 'start' | 'end';
  page: number;
}

export interface SearchState {
  pattern: string;
  regex: boolean;
  caseSensitive: boolean;
  running: boolean;
  hits: LogLine[];
  scannedBytes: number;
  totalBytes: number;
  /** Hits counted by the host (the list keeps at most SEARCH_LIMIT). */
  hitCount: number;
  error: string | null;
  /** Stopped by the trader before the end. */
  cancelled: boolean;
  /** Which file the results belong to. */
  file: string | null;
}

export interface LogsState {
  files: LogFile[];
  filesLoaded: boolean;
  filesError: string | null;
  selected: string | null;
  level: LogLevelName | null;
  /** Page filter: lines containing it (case-insensitive). */
  keyword: string;
  pageSize: number;
  position: PagePosition;
  page: LogPage | null;
  pageLoading: boolean;
  pageError: string | null;
  /** A line to show highlighted (after a jump to time or to a search hit). */
  focusLine: number | null;
  view: 'lines' | 'search';
  search: SearchState;
  tailing: boolean;
  tailLines: LogLine[];
  tailError: string | null;

  loadFiles(): Promise<void>;
  openFile(file: string): void;
  setLevel(level: LogLevelName | null): void;
  setKeyword(keyword: string): void;
  goTo(position: PagePosition): void;
  first(): void;
  last(): void;
  /** Towards older lines. */
  previous(): void;
  /** Towards newer lines. */
  next(): void;
  reloadPage(): Promise<void>;
  jumpToTime(at: string): Promise<void>;
  /** The unfiltered page holding a line, with the line highlighted. */
  showLine(lineNo: number): void;
  setView(view: 'lines' | 'search'): void;
  startSearch(pattern: string, opts: { regex: boolean; caseSensitive: boolean }): void;
  cancelSearch(): void;
  setTail(on: boolean): void;
  /** Stops what runs in the background (tail); the screen calls it when it goes away. */
  dispose(): void;
}

/** Hits kept by a search (the host stops there too). */
export const SEARCH_LIMIT = 5000;
/** Lines a live tail keeps on screen. */
export const TAIL_KEEP = 2000;
/** Lines a tail starts with. */
const TAIL_FIRST = 200;
/** Hits are handed to React in batches, not one render per hit. */
const FLUSH_MS = 100;

const emptySearch: SearchState = {
  pattern: '',
  regex: false,
  caseSensitive: false,
  running: false,
  hits: [],
  scannedBytes: 0,
  totalBytes: 0,
  hitCount: 0,
  error: null,
  cancelled: false,
  file: null,
};

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** "page x of y" as a trader reads it: counted from the start when the total is known. */
export function pageLabel(position: PagePosition, page: LogPage | null): string {
  const total = page?.totalPages ?? null;
  const served = page?.page ?? position.page;
  if (position.mode === 'start') return total === null ? `page ${served}` : `page ${served} of ${total}`;
  if (total === null) return served === 1 ? 'last page' : `${served - 1} before the last`;
  return `page ${total - served + 1} of ${total}`;
}

/** Whether older/newer pages exist from where the view stands. */
export function pageMoves(position: PagePosition, page: LogPage | null): { older: boolean; newer: boolean } {
  const total = page?.totalPages ?? null;
  const served = page?.page ?? position.page;
  if (position.mode === 'start') return { older: served > 1, newer: total === null || served < total };
  return { older: total === null ? (page?.lines.length ?? 0) >= (page?.pageSize ?? 1) : served < total, newer: served > 1 };
}

/**
 * The logs screen's state. Answers are matched to the request that asked for them, so a
 * slow page that arrives after a newer one was asked for is dropped.
 */
export function createLogsStore(api: () => LogsApi): StoreApi<LogsState> {
  let pageSeq = 0;
  let cancelSearchStream: Unsubscribe | null = null;
  let cancelTail: Unsubscribe | null = null;
  let searchSeq = 0;
  let tailSeq = 0;

  return createStore<LogsState>((set, get) => {
    const stopTail = (): void => {
      cancelTail?.();
      cancelTail = null;
      tailSeq++;
    };

    const startTail = (): void => {
      stopTail();
      const file = get().selected;
      if (!file) return;
      const seq = tailSeq;
      let pending: LogLine[] = [];
      let timer: ReturnType<typeof setTimeout> | null = null;
      const flush = (): void => {
        timer = null;
        if (seq !== tailSeq || pending.length === 0) return;
        const lines = [...get().tailLines, ...pending];
        pending = [];
        set({ tailLines: lines.length > TAIL_KEEP ? lines.slice(lines.length - TAIL_KEEP) : lines });
      };
      set({ tailLines: [], tailError: null });
      const level = get().level;
      cancelTail = api().streams.tailLog(
        { file, last: TAIL_FIRST, ...(level ? { level } : {}) },
        (line) => {
          if (seq !== tailSeq) return;
          pending.push(line);
          timer ??= setTimeout(flush, FLUSH_MS);
        },
        (error) => {
          if (seq !== tailSeq) return;
          flush();
          if (error && error !== 'cancelled') set({ tailError: error, tailing: false });
        },
      );
    };

    const load = async (extra: { at?: string } = {}): Promise<void> => {
      const { selected, position, pageSize, level, keyword } = get();
      if (!selected) return;
      const seq = ++pageSeq;
      set({ pageLoading: true, pageError: null });
      try {
        const page = await api().listLogLines({
          file: selected,
          page: position.page,
          pageSize,
          ...(level ? { level } : {}),
          ...(keyword ? { keyword } : {}),
          ...(position.mode === 'end' && !extra.at ? { fromEnd: 'true' } : {}),
          ...(extra.at ? { at: extra.at } : {}),
        });
        if (seq !== pageSeq) return;
        const nextPosition = extra.at ? { mode: 'start' as const, page: page.page } : { ...position, page: page.page };
        set({ page, pageLoading: false, position: nextPosition });
      } catch (error) {
        if (seq !== pageSeq) return;
        set({ pageLoading: false, pageError: errorText(error) });
      }
    };

    return {
      files: [],
      filesLoaded: false,
      filesError: null,
      selected: null,
      level: null,
      keyword: '',
      pageSize: 200,
      position: { mode: 'end', page: 1 },
      page: null,
      pageLoading: false,
      pageError: null,
      focusLine: null,
      view: 'lines',
      search: emptySearch,
      tailing: false,
      tailLines: [],
      tailError: null,

      async loadFiles() {
        try {
          const files = await api().listLogFiles({});
          set({ files, filesLoaded: true, filesError: null });
        } catch (error) {
          set({ filesError: errorText(error), filesLoaded: true });
        }
      },

      openFile(file) {
        if (file === get().selected) return;
        set({
          selected: file,
          position: { mode: 'end', page: 1 },
          page: null,
          focusLine: null,
          view: get().search.file === file ? get().view : 'lines',
        });
        if (get().tailing) startTail();
        void load();
      },

      setLevel(level) {
        set({ level, position: { mode: 'end', page: 1 }, focusLine: null });
        if (get().tailing) startTail();
        void load();
      },

      setKeyword(keyword) {
        if (keyword === get().keyword) return;
        set({ keyword, position: { mode: 'end', page: 1 }, focusLine: null });
        void load();
      },

      goTo(position) {
        set({ position: { mode: position.mode, page: Math.max(1, position.page) }, focusLine: null });
        void load();
      },
      first() {
        get().goTo({ mode: 'start', page: 1 });
      },
      last() {
        get().goTo({ mode: 'end', page: 1 });
      },
      previous() {
        const { position, page } = get();
        if (!pageMoves(position, page).older) return;
        const served = page?.page ?? position.page;
        get().goTo(position.mode === 'start' ? { mode: 'start', page: served - 1 } : { mode: 'end', page: served + 1 });
      },
      next() {
        const { position, page } = get();
        if (!pageMoves(position, page).newer) return;
        const served = page?.page ?? position.page;
        get().goTo(position.mode === 'start' ? { mode: 'start', page: served + 1 } : { mode: 'end', page: served - 1 });
      },
      reloadPage() {
        return load();
      },
      async jumpToTime(at) {
        set({ focusLine: null, view: 'lines' });
        await load({ at });
        const page = get().page;
        const target = page?.lines.find((l) => l.time !== null && l.time.replace('T', ' ') >= at.replace('T', ' '));
        if (target?.lineNo) set({ focusLine: target.lineNo });
      },
      showLine(lineNo) {
        const pageSize = get().pageSize;
        set({
          level: null,
          keyword: '',
          view: 'lines',
          focusLine: lineNo,
          position: { mode: 'start', page: Math.floor((lineNo - 1) / pageSize) + 1 },
        });
        if (get().tailing) {
          stopTail();
          set({ tailing: false });
        }
        void load();
      },
      setView(view) {
        set({ view });
      },

      startSearch(pattern, opts) {
        const file = get().selected;
        get().cancelSearch();
        if (!file || pattern.length === 0) return;
        const seq = ++searchSeq;
        let pending: LogLine[] = [];
        let timer: ReturnType<typeof setTimeout> | null = null;
        const flush = (): void => {
          timer = null;
          if (seq !== searchSeq || pending.length === 0) return;
          const s = get().search;
          set({ search: { ...s, hits: [...s.hits, ...pending] } });
          pending = [];
        };
        set({
          view: 'search',
          search: { ...emptySearch, pattern, regex: opts.regex, caseSensitive: opts.caseSensitive, running: true, file },
        });
        const level = get().level;
        cancelSearchStream = api().streams.searchLog(
          {
            file,
            pattern,
            regex: opts.regex ? 'true' : 'false',
            caseSensitive: opts.caseSensitive ? 'true' : 'false',
            limit: SEARCH_LIMIT,
            ...(level ? { level } : {}),
          },
          (event) => {
            if (seq !== searchSeq) return;
            if (event.type === 'hit') {
              pending.push(event.line);
              timer ??= setTimeout(flush, FLUSH_MS);
            } else {
              set({ search: { ...get().search, scannedBytes: event.scannedBytes, totalBytes: event.totalBytes, hitCount: event.hits } });
            }
          },
          (error) => {
            if (seq !== searchSeq) return;
            if (timer) clearTimeout(timer);
            flush();
            cancelSearchStream = null;
            const s = get().search;
            set({ search: { ...s, running: false, error: error === 'cancelled' ? null : error, cancelled: error === 'cancelled' } });
          },
        );
      },

      cancelSearch() {
        if (!cancelSearchStream) return;
        const cancel = cancelSearchStream;
        cancelSearchStream = null;
        searchSeq++;
        cancel();
        set({ search: { ...get().search, running: false, cancelled: true } });
      },

      setTail(on) {
        if (on === get().tailing) return;
        set({ tailing: on });
        if (on) startTail();
        else stopTail();
      },

      dispose() {
        stopTail();
        set({ tailing: false });
      },
    };
  });
}

const logsStore = createLogsStore(() => getApi());

export function useLogs<T>(selector: (state: LogsState) => T): T {
  return useStore(logsStore, selector);
}

export { logsStore };
