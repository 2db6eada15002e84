import type { IpcInvokeEventLike, IpcMainLike } from '../../src/main/electron/ipcBridge.js';
import type { IpcRendererLike } from '../../src/preload/bridge.js';

export interface IpcPair {
  main: IpcMainLike;
  /** The renderer of the frame given to ipcPair(). */
  renderer: IpcRendererLike;
  /** Another frame talking to the same ipcMain (e.g. an injected iframe). */
  rendererAt(frameUrl: string): IpcRendererLike;
  channels(): string[];
}

/**
 * Electron's ipcMain/ipcRenderer pair, reduced to what the bridge uses: handlers by channel,
 * invoked with a sender frame URL. The code under test (registerIpcHandlers, buildBridge)
 * is the shipped code; only Electron's transport is replaced.
 */
export function ipcPair(frameUrl: string): IpcPair {
  const handlers = new Map<string, (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
  const rendererAt = (url: string): IpcRendererLike => {
    const listeners = new Map<string, Set<(event: unknown, payload: unknown) => void>>();
    const sender = {
      send: (channel: string, payload: unknown) => {
        for (const l of listeners.get(channel) ?? []) l({}, structuredClone(payload));
      },
    };
    return {
      invoke: async (channel, ...args) => {
        const h = handlers.get(channel);
        if (!h) throw new Error(`No handler registered for '${channel}'`);
        // Structured clone, as Electron does across processes.
        return structuredClone(await h({ senderFrame: { url }, sender }, ...args.map((a) => structuredClone(a))));
      },
      on: (channel, listener) => {
        let set = listeners.get(channel);
        if (!set) listeners.set(channel, (set = new Set()));
        set.add(listener);
      },
      removeListener: (channel, listener) => {
        listeners.get(channel)?.delete(listener);
      },
    };
  };
  return {
    main: {
      handle: (channel, listener) => void handlers.set(channel, listener),
      removeHandler: (channel) => void handlers.delete(channel),
    },
    renderer: rendererAt(frameUrl),
    rendererAt,
    channels: () => [...handlers.keys()].sort(),
  };
}
