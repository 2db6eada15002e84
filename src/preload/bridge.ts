import {
  entryNames,
  eventNames,
  events,
  ipcChannel,
  ipcEventChannel,
  type EntryName,
  type EventName,
  type IpcReply,
  type KestrelApi,
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
export function buildBridge(ipc: IpcRendererLike): KestrelApi {
  const calls = Object.fromEntries(
    entryNames.map((name: EntryName) => [
      name,
      async (params: unknown) => {
        const reply = (await ipc.invoke(ipcChannel(name), params ?? {})) as IpcReply;
        if (!reply.ok) throw Object.assign(new Error(reply.error), { status: reply.status });
        return reply.result;
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
  return { ...calls, events: subscriptions } as unknown as KestrelApi;
}

