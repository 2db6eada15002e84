import { create } from 'zustand';
import type { KestrelApi, VariantSummary } from '../../shared/api.js';
import { describeCommandError } from './commands.js';

/** The kill switch's key in the stores: the command without a variant halts them all. */
export const ALL = '*';

export interface HaltNote {
  kind: 'ok' | 'error';
  halted: boolean;
  text: string;
  at: number;
}

interface HaltState {
  /** Per variant (or ALL): the halt state asked for while the command is on its way. */
  pending: Record<string, boolean>;
  notes: Record<string, HaltNote>;
  run(api: Pick<KestrelApi, 'setTradingHalted'>, variant: string | null, halted: boolean): Promise<void>;
  dismiss(key: string): void;
}

/**
 * Halt / resume trading (the kill switch): for one variant, or for all supervised ones.
 * The host answers 403 when it was started without --allow-control; the note says so.
 */
export const useHalt = create<HaltState>((set, get) => ({
  pending: {},
  notes: {},
  async run(api, variant, halted) {
    const key = variant ?? ALL;
    if (get().pending[key] !== undefined) return;
    set({ pending: { ...get().pending, [key]: halted } });
    let note: HaltNote;
    try {
      const result = await api.setTradingHalted(variant ? { variant, halted } : { halted });
      note = { kind: result.ok ? 'ok' : 'error', halted, text: result.message, at: Date.now() };
    } catch (error) {
      note = { kind: 'error', halted, text: describeCommandError(error), at: Date.now() };
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

/** Statuses in which a worker runs and could send orders, unless halted. */
const LIVE: ReadonlySet<VariantSummary['status']> = new Set(['starting', 'restoring', 'running', 'degraded', 'halted', 'stale']);

export interface KillSwitchState {
  /** Supervised variants with a live worker. */
  live: number;
  /** Of those, how many have the kill switch on (whatever else their status says). */
  halted: number;
  /** 'on': every live variant halted; 'partial': some; 'off': none. */
  state: 'on' | 'partial' | 'off';
}

/**
 * What the kill switch shows, from the variants' statuses: external publishers are not Kestrel's
 * to halt, stopped or crashed workers send nothing anyway.
 */
export function killSwitchState(summaries: readonly VariantSummary[]): KillSwitchState {
  let live = 0;
  let halted = 0;
  for (const s of summaries) {
    if (s.external || !LIVE.has(s.status)) continue;
    live += 1;
    if (s.halted) halted += 1;
  }
  return { live, halted, state: halted === 0 ? 'off' : halted === live ? 'on' : 'partial' };
}
