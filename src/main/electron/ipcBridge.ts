import {
  ApiError,
  entryNames,
  eventNames,
  ipcChannel,
  ipcEventChannel,
  parseParams,
  type ApiHandlers,
  type CallContext,
  type EntryName,
  type IpcReply,
} from '../../shared/api.js';
import type { EventBus } from '../workstation/eventBus.js';

/** The part of Electron's ipcMain used here; typed locally so tests run without Electron. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}
export interface IpcInvokeEventLike {
  senderFrame: { url: string } | null;
}
export interface WebContentsLike {
  send(channel: string, payload: unknown): void;
  isDestroyed(): boolean;
}

/**
 * Registers one ipcMain handler per contract entry. Every call's sender is checked
 * (only our own renderer's frames may call), params are validated by the contract, and
 * errors come back as values so the renderer sees the same statuses as over REST.
 */
export function registerIpcHandlers(
  ipcMain: IpcMainLike,
  handlers: ApiHandlers,
  isTrustedSender: (frameUrl: string) => boolean,
): () => void {
  // The desktop user owns the machine: commands are allowed, and still audited.
  const ctx: CallContext = { origin: 'ipc', controlAllowed: true };
  for (const name of entryNames) {
    ipcMain.handle(ipcChannel(name), async (event, params): Promise<IpcReply> => {
      const url = event.senderFrame?.url ?? '';
      if (!isTrustedSender(url)) return { ok: false, status: 403, error: `IPC from an untrusted frame (${url}) refused` };
      try {
        const handler = handlers[name as EntryName] as (p: unknown, c: CallContext) => Promise<unknown>;
        return { ok: true, result: await handler(parseParams(name, params), ctx) };
      } catch (err) {
        if (err instanceof ApiError) return { ok: false, status: err.status, error: err.message };
        return { ok: false, status: 500, error: err instanceof Error ? err.message : String(err) };
      }
    });
  }
  return () => {
    for (const name of entryNames) ipcMain.removeHandler(ipcChannel(name));
  };
}

/** Forwards every contract event to the windows' renderers. */
export function forwardEvents(bus: EventBus, windows: () => WebContentsLike[]): () => void {
  const known = new Set<string>(eventNames);
  return bus.onAny((name, payload) => {
    if (!known.has(name)) return;
    for (const wc of windows()) if (!wc.isDestroyed()) wc.send(ipcEventChannel(name), payload);
  });
}
