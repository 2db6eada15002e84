import { createStore, useStore, type StoreApi } from 'zustand';
import { ApiError, type FieldError, type KestrelApi } from '../../shared/api.js';
import {
  MAX_IMPORT_CONTENT_CHARS,
  type BarGapsResult,
  type BarOverviewResult,
  type ImportBarsParams,
  type ImportBarsResult,
  type ImportHeaderMode,
} from '../../shared/contract/data.js';
import { getApi } from '../api/index.js';

/** What the Data screen needs from the API (the whole KestrelApi satisfies it). */
export type DataApi = Pick<KestrelApi, 'barOverview' | 'barGaps' | 'importBars'>;

/** The import form as the trader fills it; empty strings mean "not given". */
export interface ImportForm {
  format: 'csv' | 'json';
  symbol: string;
  exchange: string;
  interval: '1m' | '1h' | 'd' | 'w';
  columns: string;
  datetimeFormat: string;
  tz: string;
  exchangeTz: string;
  header: ImportHeaderMode;
}

export interface ImportPreset {
  id: string;
  label: string;
  /** What the preset is for, shown as its tooltip. */
  description: string;
  form: Pick<ImportForm, 'format' | 'columns' | 'datetimeFormat' | 'tz' | 'exchangeTz' | 'header'>;
}

/** The formats of docs/domain-choices.md and `kestrel import --help`. */
export const IMPORT_PRESETS: readonly ImportPreset[] = [
  {
    id: 'vnpy',
    label: 'vnpy CSV export',
    description: 'vnpy DataManager / kestrel export: a header naming datetime, open, high, low, close, volume, turnover, open_interest',
    form: { format: 'csv', columns: '', datetimeFormat: '', tz: '', exchangeTz: '', header: 'use' },
  },
  {
    id: 'backtrader',
    label: 'backtrader (positional)',
    description: 'rows date,time,open,high,low,close,volume,openinterest under a header that lacks Time: skip it, columns by position',
    form: { format: 'csv', columns: 'date=0,time=1,open=2,high=3,low=4,close=5,volume=6,openInterest=7', datetimeFormat: '', tz: '', exchangeTz: '', header: 'skip' },
  },
  {
    id: 'freqtrade',
    label: 'freqtrade JSON (epoch ms)',
    description: 'a JSON array of [ms epoch, open, high, low, close, volume], UTC',
    form: { format: 'json', columns: 'datetime=0,open=1,high=2,low=3,close=4,volume=5', datetimeFormat: 'epoch-ms', tz: 'UTC', exchangeTz: '', header: 'use' },
  },
];

export const EMPTY_IMPORT_FORM: ImportForm = {
  format: 'csv',
  symbol: '',
  exchange: '',
  interval: '1m',
  columns: '',
  datetimeFormat: '',
  tz: '',
  exchangeTz: '',
  header: 'use',
};

export interface ChosenFile {
  name: string;
  size: number;
  content: string;
}

export interface ImportState {
  form: ImportForm;
  file: ChosenFile | null;
  running: boolean;
  result: ImportBarsResult | null;
  error: string | null;
  /** Per field (`symbol`, `columns`, `content` for bad rows …), from the host's answer. */
  fieldErrors: Record<string, string[]>;
}

export interface DataState {
  overview: BarOverviewResult | null;
  overviewLoading: boolean;
  overviewError: string | null;
  /** Wall ms of the last overview answer. */
  loadedAt: number | null;
  selected: string | null;
  gaps: BarGapsResult | null;
  gapsLoading: boolean;
  gapsError: string | null;
  import: ImportState;

  loadOverview(): Promise<void>;
  select(vtSymbol: string | null): void;
  setForm(change: Partial<ImportForm>): void;
  applyPreset(id: string): void;
  chooseFile(file: ChosenFile | null): void;
  runImport(): Promise<void>;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Field errors of an API error, grouped by field path. */
export function fieldErrorMap(fields: readonly FieldError[] | undefined): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const f of fields ?? []) (map[f.path] ??= []).push(f.message);
  return map;
}

/** "5 min", "1 h 30 min", "2 d 3 h": a gap's length at a glance. */
export function formatGapMinutes(minutes: number): string {
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  if (h < 24) return minutes % 60 === 0 ? `${h} h` : `${h} h ${minutes % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

/** The format a file name suggests: JSON for *.json, CSV otherwise. */
export function formatOfFileName(name: string): 'csv' | 'json' {
  return name.toLowerCase().endsWith('.json') ? 'json' : 'csv';
}

/** The request for the form and file; undefined where the trader left a field empty. */
export function importParams(form: ImportForm, file: ChosenFile): ImportBarsParams {
  const optional = (v: string): string | undefined => (v.trim() === '' ? undefined : v.trim());
  const params: ImportBarsParams = {
    fileName: file.name,
    content: file.content,
    format: form.format,
    symbol: form.symbol.trim(),
    exchange: form.exchange.trim(),
    interval: form.interval,
    header: form.header,
  };
  const columns = optional(form.columns);
  const datetimeFormat = optional(form.datetimeFormat);
  const tz = optional(form.tz);
  const exchangeTz = optional(form.exchangeTz);
  if (columns !== undefined) params.columns = columns;
  if (datetimeFormat !== undefined) params.datetimeFormat = datetimeFormat;
  if (tz !== undefined) params.tz = tz;
  if (exchangeTz !== undefined) params.exchangeTz = exchangeTz;
  return params;
}

const idleImport: ImportState = { form: EMPTY_IMPORT_FORM, file: null, running: false, result: null, error: null, fieldErrors: {} };

export function createDataStore(api: () => DataApi, now: () => number = Date.now): StoreApi<DataState> {
  return createStore<DataState>((set, get) => {
    let overviewSeq = 0;
    let gapsSeq = 0;
    const loadGaps = async (vtSymbol: string): Promise<void> => {
      const seq = ++gapsSeq;
      set({ gapsLoading: true, gapsError: null, gaps: get().gaps?.vtSymbol === vtSymbol ? get().gaps : null });
      try {
        const gaps = await api().barGaps({ vtSymbol });
        if (seq === gapsSeq) set({ gaps, gapsLoading: false });
      } catch (error) {
        if (seq === gapsSeq) set({ gapsError: errorText(error), gapsLoading: false, gaps: null });
      }
    };
    return {
      overview: null,
      overviewLoading: false,
      overviewError: null,
      loadedAt: null,
      selected: null,
      gaps: null,
      gapsLoading: false,
      gapsError: null,
      import: idleImport,

      async loadOverview() {
        const seq = ++overviewSeq;
        set({ overviewLoading: true });
        try {
          const overview = await api().barOverview({});
          if (seq !== overviewSeq) return;
          set({ overview, overviewLoading: false, overviewError: null, loadedAt: now() });
        } catch (error) {
          if (seq === overviewSeq) set({ overviewLoading: false, overviewError: errorText(error) });
        }
      },

      select(vtSymbol) {
        if (vtSymbol === get().selected) return;
        set({ selected: vtSymbol, gaps: null, gapsError: null });
        if (vtSymbol) void loadGaps(vtSymbol);
      },

      setForm(change) {
        const imp = get().import;
        const fieldErrors = { ...imp.fieldErrors };
        for (const k of Object.keys(change)) delete fieldErrors[k];
        set({ import: { ...imp, form: { ...imp.form, ...change }, fieldErrors } });
      },

      applyPreset(id) {
        const preset = IMPORT_PRESETS.find((p) => p.id === id);
        if (!preset) return;
        const imp = get().import;
        set({ import: { ...imp, form: { ...imp.form, ...preset.form }, fieldErrors: {}, error: null } });
      },

      chooseFile(file) {
        const imp = get().import;
        const form = file ? { ...imp.form, format: formatOfFileName(file.name) } : imp.form;
        const tooLarge = file && file.content.length > MAX_IMPORT_CONTENT_CHARS;
        set({
          import: {
            ...imp,
            file,
            form,
            result: null,
            error: tooLarge ? `${file.name} is larger than 50 MB: import it with \`kestrel import --file …\`` : null,
            fieldErrors: {},
          },
        });
      },

      async runImport() {
        const imp = get().import;
        if (imp.running) return;
        if (!imp.file) {
          set({ import: { ...imp, error: 'choose a file first', fieldErrors: { content: ['choose a file first'] } } });
          return;
        }
        const missing: Record<string, string[]> = {};
        if (imp.form.symbol.trim() === '') missing['symbol'] = ['the symbol is empty'];
        if (imp.form.exchange.trim() === '') missing['exchange'] = ['the exchange is empty'];
        if (Object.keys(missing).length > 0) {
          set({ import: { ...imp, error: 'give the symbol and the exchange the bars belong to', fieldErrors: missing } });
          return;
        }
        set({ import: { ...imp, running: true, error: null, result: null, fieldErrors: {} } });
        try {
          const result = await api().importBars(importParams(imp.form, imp.file));
          set({ import: { ...get().import, running: false, result } });
          await get().loadOverview();
          // A re-import of the selected symbol may have filled its gaps.
          const selected = get().selected;
          if (selected && selected === result.vtSymbol) void loadGaps(selected);
        } catch (error) {
          const fields = error instanceof ApiError ? error.fields : undefined;
          const status = error instanceof ApiError ? error.status : undefined;
          const message =
            status === 403
              ? `Refused by the host (403): ${errorText(error)}`
              : status === 409
                ? `Not imported (409): ${errorText(error)}`
                : errorText(error);
          set({ import: { ...get().import, running: false, error: message, fieldErrors: fieldErrorMap(fields) } });
        }
      },
    };
  });
}

let defaultStore: StoreApi<DataState> | null = null;

/** The app's Data store, on the app's API. */
export function dataStore(): StoreApi<DataState> {
  defaultStore ??= createDataStore(getApi);
  return defaultStore;
}

export function useData<T>(select: (state: DataState) => T): T {
  return useStore(dataStore(), select);
}
