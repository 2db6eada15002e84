import { createStore, useStore, type StoreApi } from 'zustand';
import { ApiError, fieldErrorsOfIssues, type KestrelApi } from '../../shared/api.js';
import { settingsSchema, variantConfigSchema, type BarSource, type Settings, type VariantConfig } from '../../shared/config.js';
import type { SettingsSection, SettingsView, TestBarSourceResult, UpdateSettingsResult } from '../../shared/contract/settings.js';
import { getApi } from '../api/index.js';
import { errorText, fieldErrorMap } from './data.js';

/** What the Settings screen needs from the API (the whole KestrelApi satisfies it). */
export type SettingsApi = Pick<KestrelApi, 'getSettings' | 'updateSettings' | 'testBarSource'>;

export const SECTION_LABELS: Record<SettingsSection, string> = {
  dataDir: 'data directory',
  barSource: 'bar source',
  demo: 'demo',
  variants: 'variants',
  supervisor: 'supervisor',
  metrics: 'metrics',
  alerts: 'alert channels',
  allocation: 'allocation groups',
  shutdown: 'shutdown',
  backtest: 'backtest queue',
};

export interface SettingsState {
  view: SettingsView | null;
  loading: boolean;
  loadError: string | null;
  /** What the form shows and edits; saved as a whole. */
  draft: Settings | null;
  /** Per dotted field path (`barSource.url`, `variants.0.windowMinutes`): client checks and the host's answer. */
  fieldErrors: Record<string, string[]>;
  saving: boolean;
  saveResult: UpdateSettingsResult | null;
  saveError: string | null;
  testing: boolean;
  testResult: TestBarSourceResult | null;
  testError: string | null;

  load(): Promise<void>;
  edit(change: (draft: Settings) => Settings): void;
  setBarSource(source: BarSource): void;
  addVariant(): void;
  removeVariant(index: number): void;
  updateVariant(index: number, change: (variant: VariantConfig) => VariantConfig): void;
  reset(): void;
  save(): Promise<void>;
  testBarSource(): Promise<void>;
}

/** The form's draft checked with the very schema the host uses; each issue on its field. */
export function validateDraft(draft: Settings): Record<string, string[]> {
  const result = settingsSchema.safeParse(draft);
  const errors = result.success ? {} : fieldErrorMap(fieldErrorsOfIssues(result.error.issues));
  draft.variants.forEach((v, i) => {
    const first = draft.variants.findIndex((o) => o.name === v.name);
    if (first !== i) (errors[`variants.${i}.name`] ??= []).push(`variant ${first + 1} is already named "${v.name}"`);
  });
  return errors;
}

/** A new variant row: a name not yet taken, the defaults of the schema. */
export function newVariant(existing: readonly VariantConfig[]): VariantConfig {
  let n = existing.length + 1;
  while (existing.some((v) => v.name === `variant-${n}`)) n++;
  return variantConfigSchema.parse({ name: `variant-${n}`, vtSymbol: 'rb9999.SIM', windowMinutes: 15 });
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function isDirty(state: Pick<SettingsState, 'view' | 'draft'>): boolean {
  return state.view !== null && state.draft !== null && !sameJson(state.view.settings, state.draft);
}

export function createSettingsStore(api: () => SettingsApi): StoreApi<SettingsState> {
  return createStore<SettingsState>((set, get) => {
    /** Editing a field clears its messages (and, once saved, the "saved" note). */
    const editing = (draft: Settings, paths: readonly string[]): Partial<SettingsState> => {
      const fieldErrors = { ...get().fieldErrors };
      for (const key of Object.keys(fieldErrors)) if (paths.some((p) => key === p || key.startsWith(`${p}.`))) delete fieldErrors[key];
      return { draft, fieldErrors, saveError: null };
    };
    return {
      view: null,
      loading: false,
      loadError: null,
      draft: null,
      fieldErrors: {},
      saving: false,
      saveResult: null,
      saveError: null,
      testing: false,
      testResult: null,
      testError: null,

      async load() {
        set({ loading: true });
        try {
          const view = await api().getSettings({});
          set({ view, draft: structuredClone(view.settings), loading: false, loadError: null, fieldErrors: {} });
        } catch (error) {
          set({ loading: false, loadError: errorText(error) });
        }
      },

      edit(change) {
        const draft = get().draft;
        if (!draft) return;
        const next = change(structuredClone(draft));
        // Which top-level sections moved decides which messages go.
        const paths = (Object.keys(next) as (keyof Settings)[]).filter((k) => !sameJson(next[k], draft[k]));
        set(editing(next, paths));
      },

      setBarSource(source) {
        get().edit((d) => ({ ...d, barSource: source }));
        set({ testResult: null, testError: null });
      },

      addVariant() {
        get().edit((d) => ({ ...d, variants: [...d.variants, newVariant(d.variants)] }));
      },

      removeVariant(index) {
        const draft = get().draft;
        if (!draft) return;
        // Row numbers move: messages of every variant row are stale.
        set(editing({ ...draft, variants: draft.variants.filter((_v, i) => i !== index) }, ['variants']));
      },

      updateVariant(index, change) {
        const draft = get().draft;
        const current = draft?.variants[index];
        if (!draft || !current) return;
        const variants = draft.variants.map((v, i) => (i === index ? change(structuredClone(v)) : v));
        set(editing({ ...draft, variants }, [`variants.${index}`]));
      },

      reset() {
        const view = get().view;
        if (!view) return;
        set({ draft: structuredClone(view.settings), fieldErrors: {}, saveError: null, saveResult: null });
      },

      async save() {
        const draft = get().draft;
        if (!draft || get().saving) return;
        const local = validateDraft(draft);
        if (Object.keys(local).length > 0) {
          set({ fieldErrors: local, saveError: 'not saved: correct the fields marked below', saveResult: null });
          return;
        }
        set({ saving: true, saveError: null, saveResult: null, fieldErrors: {} });
        try {
          const saveResult = await api().updateSettings({ settings: draft });
          const view = get().view;
          set({
            saving: false,
            saveResult,
            draft: structuredClone(saveResult.settings),
            view: view ? { ...view, settings: saveResult.settings, restartNeeded: saveResult.restartNeeded, storedAt: saveResult.storedAt } : view,
          });
        } catch (error) {
          const fields = error instanceof ApiError ? error.fields : undefined;
          const status = error instanceof ApiError ? error.status : undefined;
          const message = status === 403 ? `Refused by the host (403): ${errorText(error)}` : errorText(error);
          set({ saving: false, saveError: fields ? 'not saved: correct the fields marked below' : message, fieldErrors: fieldErrorMap(fields) });
        }
      },

      async testBarSource() {
        const draft = get().draft;
        if (!draft || get().testing) return;
        set({ testing: true, testResult: null, testError: null });
        try {
          const testResult = await api().testBarSource({ barSource: draft.barSource });
          set({ testing: false, testResult });
        } catch (error) {
          const status = error instanceof ApiError ? error.status : undefined;
          set({ testing: false, testError: status === 403 ? `Refused by the host (403): ${errorText(error)}` : errorText(error) });
        }
      },
    };
  });
}

let defaultStore: StoreApi<SettingsState> | null = null;

/** The app's Settings store, on the app's API. */
export function settingsStore(): StoreApi<SettingsState> {
  defaultStore ??= createSettingsStore(getApi);
  return defaultStore;
}

export function useSettings<T>(select: (state: SettingsState) => T): T {
  return useStore(settingsStore(), select);
}
