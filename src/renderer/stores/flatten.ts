import { create } from 'zustand';
import type { KestrelApi } from '../../shared/api.js';
import { describeCommandError } from './commands.js';
import { ALL } from './halt.js';

export interface FlattenNote {
  kind: 'ok' | 'error';
  text: string;
  at: number;
}

interface FlattenState {
  /** Per variant (or ALL): a flatten on its way to the host. */
  pending: Record<string, true>;
  notes: Record<string, FlattenNote>;
  run(api: Pick<KestrelApi, 'flattenVariant'>, variant: string | null): Promise<void>;
  dismiss(key: string): void;
}

/**
 * Flatten, the emergency stop: halts one variant (or all) and closes every open position at
 * the next bar's open. Kept apart from the halt store because resuming does not undo it: the
 * positions are gone, and the note says what the host answered.
 */
export const useFlatten = create<FlattenState>((set, get) => ({
  pending: {},
  notes: {},
  async run(api, variant) {
    const key = variant ?? ALL;
    if (get().pending[key]) return;
    set({ pending: { ...get().pending, [key]: true } });
    let note: FlattenNote;
    try {
      const result = await api.flattenVariant(variant ? { variant } : {});
      note = { kind: result.ok ? 'ok' : 'error', text: result.message, at: Date.now() };
    } catch (error) {
      note = { kind: 'error', text: describeCommandError(error), at: Date.now() };
    }
    const pending = { ...get().pending };
    delete pending[key];
    set({ pending, notes: { ...get().notes, [key]: note } });
  },
  dismiss(key) {
    const notes = { ...get().notes };
    delete notes[key];
    set({ notes });
  },
}));
