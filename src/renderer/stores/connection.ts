import { create } from 'zustand';
import type { Status } from '../../shared/api.js';

export type ConnectionState = 'connecting' | 'open' | 'closed';

interface ConnectionStore {
  state: ConnectionState;
  /** Wall ms when the event stream last (re)opened after having been lost; null if never lost. */
  reopenedAt: number | null;
  everClosed: boolean;
  /** The host's own description, when it has answered getStatus. */
  status: Status | null;
  statusError: string | null;
  setState(next: ConnectionState, nowMs: number): void;
  setStatus(status: Status): void;
  setStatusError(message: string): void;
}

export const useConnection = create<ConnectionStore>((set, get) => ({
  state: 'connecting',
  reopenedAt: null,
  everClosed: false,
  status: null,
  statusError: null,
  setState(next, nowMs) {
    const prev = get();
    if (prev.state === next) return;
    set({
      state: next,
      everClosed: prev.everClosed || next === 'closed',
      reopenedAt: next === 'open' && prev.everClosed ? nowMs : prev.reopenedAt,
    });
  },
  setStatus(status) {
    set({ status, statusError: null });
  },
  setStatusError(message) {
    set({ statusError: message });
  },
}));
