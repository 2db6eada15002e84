import {
  ApiError,
  entryNames,
  eventNames,
  ipcChannel,
  ipcEventChannel,
  ipcStreamChannel,
  parseParams,
  parseStreamParams,
  streamNames,
  type ApiHandlers,
  type CallContext,
  type EntryName,
  type IpcReply,
  type StreamHandlers,
} from '../../shared/api.js';
import type { EventBus } from '../workstation/eventBus.js';

/** The part of Electron's ipcMain used here; typed locally so tests run without Electron. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}
export interface IpcInvokeEventLike {
  senderFrame: { url: string } | null;
  sender: { send(channel: string, payload: unknown): void; isDestroyed?(): boolean };
}
export interface WebContentsLike {
  send(channel: string, payload: unknown): void;
  isDestroyed(): boolean;
}

/** Asks the user before a command runs (a native dialog on the desktop); resolves true to go ahead. */
export type ConfirmCommand = (entry: EntryName, params: unknown) => Promise<boolean>;

function untrusted(event: IpcInvokeEventLike, isTrustedSender: (frameUrl: string) => boolean): IpcReply | null {
  const url = event.senderFrame?.url ?? '';
  return isTrustedSender(url) ? null : { ok: false, status: 403, error: `IPC from an untrusted frame (${url}) refused` };
}

/**
 * Registers one ipcMain handler per contract entry. Every call's sender is checked
 * (only our own renderer's frames may call), params are validated by the contract, and
 * errors come back as values so the renderer sees the same statuses as over REST. With
 * `confirm`, a command the user declines is answered 409 and never reaches its handler.
 */
export function registerIpcHandlers(
  ipcMain: IpcMainLike,
  handlers: ApiHandlers,
  isTrustedSender: (frameUrl: string) => boolean,
  confirm?: ConfirmCommand,
): () => void {
  // The desktop user owns the machine: commands are allowed, and still audited (src/main/desktopPolicy.ts).
  const ctx: CallContext = { origin: 'ipc', controlAllowed: true };
  for (const name of entryNames) {
    ipcMain.handle(ipcChannel(name), async (event, params): Promise<IpcReply> => {
      const refused = untrusted(event, isTrustedSender);
      if (refused) return refused;
      try {
        const handler = handlers[name as EntryName] as (p: unknown, c: CallContext) => Promise<unknown>;
        const parsed = parseParams(name, params);
        if (confirm && !(await confirm(name as EntryName, parsed))) {
          return { ok: false, status: 409, error: `${name} cancelled: not confirmed by the user` };
        }
        return { ok: true, result: await handler(parsed, ctx) };
      } catch (err) {
        if (err instanceof ApiError) {
          return err.fields
            ? { ok: false, status: err.status, error: err.message, fields: err.fields }
            : { ok: false, status: err.status, error: err.message };
        }
        return { ok: false, status: 500, error: err instanceof Error ? err.message : String(err) };
      }
    });
  }
  return () => {
    for (const name of entryNames) ipcMain.removeHandler(ipcChannel(name));
  };
}

/**
 * Streams over IPC: `start` begins one (identified by the renderer's id), items and the end
 * go back to the sending frame only, `cancel` aborts it. A closed window aborts its streams.
 */
export function registerIpcStreams(
  ipcMain: IpcMainLike,
  handlers: StreamHandlers,
  isTrustedSender: (frameUrl: string) => boolean,
): () => void {
  const running = new Map<string, AbortController>();
  const ctx: CallContext = { origin: 'ipc', controlAllowed: true };
  for (const name of streamNames) {
    ipcMain.handle(ipcStreamChannel(name, 'start'), async (event, raw): Promise<IpcReply> => {
      const refused = untrusted(event, isTrustedSender);
      if (refused) return refused;
      const { id, params } = (raw ?? {}) as { id?: string; params?: unknown };
      if (typeof id !== 'string') return { ok: false, status: 400, error: `${name}: a stream needs an id` };
      const abort = new AbortController();
      running.set(id, abort);
      const send = (part: 'item' | 'end', payload: unknown): void => {
        if (event.sender.isDestroyed?.()) abort.abort();
        else event.sender.send(ipcStreamChannel(name, part), payload);
      };
      let error: string | null = null;
      try {
        const handler = handlers[name] as (p: unknown, e: (i: unknown) => void, s: AbortSignal, c: CallContext) => Promise<void>;
        await handler(parseStreamParams(name, params), (item) => {
          if (!abort.signal.aborted) send('item', { id, item });
        }, abort.signal, ctx);
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
      running.delete(id);
      send('end', { id, error: abort.signal.aborted && error === null ? 'cancelled' : error });
      return { ok: true, result: null };
    });
    ipcMain.handle(ipcStreamChannel(name, 'cancel'), (event, raw): Promise<IpcReply> => {
      // Stream ids are the renderer's own: another frame must not cancel a search it did not start.
      const refused = untrusted(event, isTrustedSender);
      if (refused) return Promise.resolve(refused);
      const { id } = (raw ?? {}) as { id?: string };
      if (id) running.get(id)?.abort();
      return Promise.resolve({ ok: true, result: null });
    });
  }
  return () => {
    for (const abort of running.values()) abort.abort();
    for (const name of streamNames) {
      ipcMain.removeHandler(ipcStreamChannel(name, 'start'));
      ipcMain.removeHandler(ipcStreamChannel(name, 'cancel'));
    }
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
