import { create } from 'zustand';
import { ApiError, type KestrelApi } from '../../shared/api.js';
import type { BacktestJobInput, BacktestProgress, BacktestQueueInfo, BacktestResultView, BacktestSummary } from '../../shared/backtest.js';
import type { SweepView } from '../../shared/contract/backtests.js';
import { getApi } from '../api/index.js';
import { errorText, fieldErrorMap } from './data.js';

/**
 * The Backtests screens' state: the list (queue and history) kept live from the
 * `backtestUpdated` / `backtestProgress` events, the form's field errors, the open result, the
 * runs chosen for comparison and the open sweep. Every number is an API answer.
 */
export type BacktestsApi = Pick<
  KestrelApi,
  'listBacktests' | 'getBacktestQueue' | 'getBacktest' | 'startBacktest' | 'pauseBacktest' | 'resumeBacktest' | 'cancelBacktest' | 'rerunBacktest' | 'getSweep' | 'exportBacktest'
>;

export type BacktestView = { kind: 'list' } | { kind: 'result'; id: string } | { kind: 'compare' } | { kind: 'sweep'; id: string };

export interface BacktestsState {
  runs: BacktestSummary[];
  /** Where jobs run; null until read. Remote queues offer no pause (its reason is shown on the button). */
  queueInfo: BacktestQueueInfo | null;
  progress: Record<string, BacktestProgress>;
  listError: string | null;
  submitting: boolean;
  formError: string | null;
  fieldErrors: Record<string, string[]>;
  view: BacktestView;
  result: BacktestResultView | null;
  resultError: string | null;
  compareIds: string[];
  compared: BacktestResultView[];
  sweep: SweepView | null;
  commandError: string | null;

  load(): Promise<void>;
  updated(run: BacktestSummary): void;
  progressed(p: BacktestProgress): void;
  submit(job: BacktestJobInput): Promise<string | null>;
  command(action: 'pause' | 'resume' | 'cancel' | 'rerun', id: string): Promise<void>;
  open(view: BacktestView): Promise<void>;
  toggleCompare(id: string): void;
}

const ACTIVE = new Set(['queued', 'running', 'paused']);
export const isActive = (run: BacktestSummary): boolean => ACTIVE.has(run.status);

export function createBacktestsStore(api: () => BacktestsApi) {
  return create<BacktestsState>((set, get) => ({
    runs: [],
    queueInfo: null,
    progress: {},
    listError: null,
    submitting: false,
    formError: null,
    fieldErrors: {},
    view: { kind: 'list' },
    result: null,
    resultError: null,
    compareIds: [],
    compared: [],
    sweep: null,
    commandError: null,

    async load() {
      try {
        const [runs, queueInfo] = await Promise.all([api().listBacktests({}), api().getBacktestQueue({})]);
        set({ runs, queueInfo, listError: null });
      } catch (error) {
        set({ listError: errorText(error) });
      }
    },

    updated(run) {
      const runs = get().runs;
      const at = runs.findIndex((r) => r.id === run.id);
      set({ runs: at < 0 ? [run, ...runs] : runs.map((r, i) => (i === at ? run : r)) });
      const view = get().view;
      // A finished run that is open (or part of the open sweep) is read again, whole.
      if (!isActive(run) && ((view.kind === 'result' && view.id === run.id) || (view.kind === 'sweep' && run.sweepId === view.id))) void get().open(view);
    },

    progressed(p) {
      set({ progress: { ...get().progress, [p.id]: p } });
    },

    async submit(job) {
      set({ submitting: true, formError: null, fieldErrors: {} });
      try {
        const { id } = await api().startBacktest(job);
        set({ submitting: false });
        await get().load();
        return id;
      } catch (error) {
        const fields = error instanceof ApiError ? error.fields : undefined;
        set({ submitting: false, formError: errorText(error), fieldErrors: fieldErrorMap(fields) });
        return null;
      }
    },

    async command(action, id) {
      try {
        const a = api();
        if (action === 'pause') await a.pauseBacktest({ id });
        else if (action === 'resume') await a.resumeBacktest({ id });
        else if (action === 'cancel') await a.cancelBacktest({ id });
        else await a.rerunBacktest({ id });
        set({ commandError: null });
      } catch (error) {
        set({ commandError: errorText(error) });
      }
    },

    async open(view) {
      set({ view, resultError: null });
      try {
        if (view.kind === 'result') set({ result: await api().getBacktest({ id: view.id }) });
        else if (view.kind === 'sweep') set({ sweep: await api().getSweep({ id: view.id }) });
        else if (view.kind === 'compare') set({ compared: await Promise.all(get().compareIds.map((id) => api().getBacktest({ id }))) });
      } catch (error) {
        set({ resultError: errorText(error) });
      }
    },

    toggleCompare(id) {
      const ids = get().compareIds;
      set({ compareIds: ids.includes(id) ? ids.filter((x) => x !== id) : [...ids, id] });
    },
  }));
}

export const useBacktests = createBacktestsStore(() => getApi());
