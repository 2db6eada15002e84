import {
  ApiError,
  apiErrorToData,
  entryNames,
  eventNames,
  events,
  ipcChannel,
  ipcEventChannel,
  ipcStreamChannel,
  streamNames,
  streams,
  type EntryName,
  type EventName,
  type IpcReply,
  type KestrelApi,
  type StreamEnd,
  type StreamName,
  type Unsubscribe,
} from '../shared/api.js';

/** The part of Electron's ipcRenderer the bridge uses; typed here so tests need no Electron. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
}

/**
 * The object the preload exposes as `window.kestrel`: one named function per contract
 * entry and one subscription per event, generated from the contract. The page never gets
 * ipcRenderer or a generic invoke(channel, …).
 */
export function buildBridge(ipc: IpcRendererLike, opts: { errorsAsData?: boolean } = {}): KestrelApi {
  const calls = Object.fromEntries(
    entryNames.map((name: EntryName) => [
      name,
      async (params: unknown) => {
        const reply = (await ipc.invoke(ipcChannel(name), params ?? {})) as IpcReply;
        if (reply.ok) return reply.result;
        // An ApiError, as the browser's client throws: the same `status` and field errors on both hosts.
        // Across the contextBridge it travels as data (see apiErrorToData); the page rebuilds it.
        const error = new ApiError(reply.status as ApiError['status'], reply.error, reply.fields);
        if (opts.errorsAsData) return Promise.reject(apiErrorToData(error));
        throw error;
      },
    ]),
  );
  const subscriptions = Object.fromEntries(
    eventNames.map((name: EventName) => [
      name,
      (listener: (payload: unknown) => void): Unsubscribe => {
        const wrapped = (_e: unknown, payload: unknown): void => {
          const parsed = events[name].safeParse(payload);
          if (parsed.success) listener(parsed.data);
        };
        ipc.on(ipcEventChannel(name), wrapped);
        return () => {
          ipc.removeListener(ipcEventChannel(name), wrapped);
        };
      },
    ]),
  );
  let nextStreamId = 0;
  const streamMethods = Object.fromEntries(
    streamNames.map((name: StreamName) => [
      name,
      (params: unknown, onItem: (item: unknown) => void, onEnd?: StreamEnd): Unsubscribe => {
        const id = `${Date.now().toString(36)}-${(nextStreamId++).toString(36)}`;
        let ended = false;
        const onItemMessage = (_e: unknown, message: unknown): void => {
          const m = message as { id?: string; item?: unknown };
          if (m.id !== id) return;
          const parsed = streams[name].item.safeParse(m.item);
          if (parsed.success) onItem(parsed.data);
        };
        const onEndMessage = (_e: unknown, message: unknown): void => {
          const m = message as { id?: string; error?: string | null };
          if (m.id !== id || ended) return;
          ended = true;
          ipc.removeListener(ipcStreamChannel(name, 'item'), onItemMessage);
          ipc.removeListener(ipcStreamChannel(name, 'end'), onEndMessage);
          onEnd?.(m.error ?? null);
        };
        ipc.on(ipcStreamChannel(name, 'item'), onItemMessage);
        ipc.on(ipcStreamChannel(name, 'end'), onEndMessage);
        void ipc.invoke(ipcStreamChannel(name, 'start'), { id, params: params ?? {} });
        return () => {
          void ipc.invoke(ipcStreamChannel(name, 'cancel'), { id });
        };
      },
    ]),
  );
  return { ...calls, events: subscriptions, streams: streamMethods } as unknown as KestrelApi;
}

