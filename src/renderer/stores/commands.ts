import { create } from 'zustand';
import type { CommandResult, KestrelApi } from '../../shared/api.js';

export type CommandKind = 'start' | 'stop' | 'restart';

export interface CommandNote {
  kind: 'error' | 'ok';
  command: CommandKind;
  text: string;
  at: number;
}

interface CommandsState {
  pending: Record<string, CommandKind>;
  notes: Record<string, CommandNote>;
  run(api: Pick<KestrelApi, 'startVariant' | 'stopVariant' | 'restartVariant'>, variant: string, kind: CommandKind): Promise<void>;
  dismiss(variant: string): void;
}

/**
 * The host's refusal, in words a trader can act on. A 403 from the headless host means it
 * was started without --allow-control: say so instead of showing "Forbidden".
 */
export function describeCommandError(error: unknown): string {
  const status = typeof error === 'object' && error !== null && 'status' in error ? error.status : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (status === 403) {
    const hint = message.includes('--allow-control') ? '' : ' Control commands need a host started with --allow-control.';
    return `Refused by the host (403): ${message.replace(/\.?$/, '.')}${hint}`;
  }
  if (typeof status === 'number') return `Failed (${status}): ${message}`;
  return `Failed: ${message}`;
}

export const useCommands = create<CommandsState>((set, get) => ({
  pending: {},
  notes: {},
  async run(api, variant, kind) {
    if (get().pending[variant]) return;
    set({ pending: { ...get().pending, [variant]: kind } });
    let note: CommandNote;
    try {
      const call =
        kind === 'start' ? api.startVariant : kind === 'stop' ? api.stopVariant : api.restartVariant;
      const result: CommandResult = await call({ variant });
      note = { kind: result.ok ? 'ok' : 'error', command: kind, text: result.message, at: Date.now() };
    } catch (error) {
      note = { kind: 'error', command: kind, text: describeCommandError(error), at: Date.now() };
    }
    const pending = { ...get().pending };
    delete pending[variant];
    set({ pending, notes: { ...get().notes, [variant]: note } });
  },
  dismiss(variant) {
    const notes = { ...get().notes };
    delete notes[variant];
    set({ notes });
  },
}));
