import { create } from 'zustand';
import type { VariantSummary, VariantUpdate } from '../../shared/api.js';
import type { SignalState, Snapshot } from '../../shared/snapshot.js';

/** A worker that came back with a new process: shown on the row so a trader notices. */
export interface RestartNote {
  fromPid: number | null;
  toPid: number | null;
  restarts: number;
  /** Wall ms when the UI saw it. */
  at: number;
}

/** One instrument of a variant as the screens list it: which contract, and its signal state. */
export interface InstrumentSignals {
  vtSymbol: string;
  signals: SignalState;
}

/** How long a "restarted" note stays on a row. */
export const RESTART_NOTE_MS = 5 * 60_000;

export interface VariantsState {
  summaries: Record<string, VariantSummary>;
  /** Display order: as the host lists them. */
  order: string[];
  /** Each instrument of the variant with its signal state, from the latest live update (or its snapshot before any). */
  instruments: Record<string, InstrumentSignals[]>;
  /** The instrument (vtSymbol) the trader chose to look at, per variant; the first one when absent. */
  chosenInstruments: Record<string, string>;
  /** Bar source per variant as the snapshot states it (more specific than the summary). */
  snapshotSources: Record<string, string>;
  restartNotes: Record<string, RestartNote>;
  loaded: boolean;
  loadError: string | null;
  /** Wall ms when the UI last received anything about variants. */
  lastUpdateAt: number | null;
  replaceAll(list: readonly VariantSummary[], nowMs: number): void;
  applyUpdate(update: VariantUpdate, nowMs: number): void;
  /** A snapshot fetched for a variant no update has described yet: its instruments until one arrives. */
  seedInstruments(snapshot: Snapshot): void;
  chooseInstrument(variant: string, vtSymbol: string): void;
  remove(variant: string): void;
  setLoadError(message: string): void;
  setSnapshotSource(variant: string, source: string): void;
}

/**
 * A restart is a new process for the same variant: the pid moved from one live process to
 * another, or the supervisor counted one more restart. Stop-then-start (pid → null → pid)
 * is the trader's own doing and is not flagged.
 */
export function detectRestart(prev: VariantSummary | undefined, next: VariantSummary, nowMs: number): RestartNote | null {
  if (!prev) return null;
  const pidMoved = prev.pid !== null && next.pid !== null && prev.pid !== next.pid;
  const counted = next.restarts > prev.restarts;
  if (!pidMoved && !counted) return null;
  return { fromPid: prev.pid, toPid: next.pid, restarts: next.restarts, at: nowMs };
}

/** True when `a` describes an earlier snapshot than `b` (both wall-clock ISO times). */
function isOlder(a: VariantSummary, b: VariantSummary): boolean {
  if (a.updatedAt === null || b.updatedAt === null) return false;
  const ta = Date.parse(a.updatedAt);
  const tb = Date.parse(b.updatedAt);
  return Number.isFinite(ta) && Number.isFinite(tb) && ta < tb;
}

function mergeSummary(
  state: Pick<VariantsState, 'summaries' | 'restartNotes'>,
  incoming: VariantSummary,
  nowMs: number,
): { summaries: Record<string, VariantSummary>; restartNotes: Record<string, RestartNote> } {
  const prev = state.summaries[incoming.variant];
  if (prev && isOlder(incoming, prev)) return { summaries: state.summaries, restartNotes: state.restartNotes };
  const note = detectRestart(prev, incoming, nowMs);
  return {
    summaries: { ...state.summaries, [incoming.variant]: incoming },
    restartNotes: note ? { ...state.restartNotes, [incoming.variant]: note } : state.restartNotes,
  };
}

export const useVariants = create<VariantsState>((set, get) => ({
  summaries: {},
  order: [],
  instruments: {},
  chosenInstruments: {},
  snapshotSources: {},
  restartNotes: {},
  loaded: false,
  loadError: null,
  lastUpdateAt: null,
  replaceAll(list, nowMs) {
    const state = get();
    const summaries: Record<string, VariantSummary> = {};
    let restartNotes = state.restartNotes;
    for (const incoming of list) {
      const prev = state.summaries[incoming.variant];
      // A list answer can be older than an event that overtook it: keep the newer one.
      const next = prev && isOlder(incoming, prev) ? prev : incoming;
      const note = detectRestart(prev, next, nowMs);
      if (note) restartNotes = { ...restartNotes, [next.variant]: note };
      summaries[next.variant] = next;
    }
    set({
      summaries,
      restartNotes,
      order: list.map((s) => s.variant),
      loaded: true,
      loadError: null,
      lastUpdateAt: nowMs,
    });
  },
  applyUpdate(update, nowMs) {
    const state = get();
    const variant = update.summary.variant;
    const merged = mergeSummary(state, update.summary, nowMs);
    const instruments = update.instruments.map((i) => ({ vtSymbol: i.vtSymbol, signals: i.signals }));
    set({
      ...merged,
      order: state.order.includes(variant) ? state.order : [...state.order, variant],
      instruments: instruments.length > 0 ? { ...state.instruments, [variant]: instruments } : state.instruments,
      lastUpdateAt: nowMs,
    });
  },
  seedInstruments(snapshot) {
    const state = get();
    if (state.instruments[snapshot.variant] || snapshot.instruments.length === 0) return;
    const instruments = snapshot.instruments.map((i) => ({ vtSymbol: i.vtSymbol, signals: i.signals }));
    set({ instruments: { ...state.instruments, [snapshot.variant]: instruments } });
  },
  chooseInstrument(variant, vtSymbol) {
    if (get().chosenInstruments[variant] === vtSymbol) return;
    set({ chosenInstruments: { ...get().chosenInstruments, [variant]: vtSymbol } });
  },
  remove(variant) {
    const state = get();
    const summaries = { ...state.summaries };
    delete summaries[variant];
    const instruments = { ...state.instruments };
    delete instruments[variant];
    set({ summaries, instruments, order: state.order.filter((v) => v !== variant) });
  },
  setLoadError(message) {
    set({ loadError: message });
  },
  setSnapshotSource(variant, source) {
    if (get().snapshotSources[variant] === source) return;
    set({ snapshotSources: { ...get().snapshotSources, [variant]: source } });
  },
}));

/** The source a trader must be told about: the snapshot's when known, else the summary's. */
export function sourceOf(state: Pick<VariantsState, 'summaries' | 'snapshotSources'>, variant: string): string | null {
  return state.snapshotSources[variant] ?? state.summaries[variant]?.source ?? null;
}
