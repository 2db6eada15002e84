import { apiErrorFromData, entryNames, type KestrelApi, type Unsubscribe } from '../../shared/api.js';
import { createHttpApi, type ConnectionState } from './httpApi.js';

declare global {
  interface Window {
    /** Present on desktop: the preload's contextBridge object, built from the same contract. */
    kestrel?: KestrelApi;
  }
}

const TOKEN_KEY = 'kestrel.token';

function pageToken(): string {
  const fromUrl = new URLSearchParams(window.location.search).get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

let api: KestrelApi | null = null;

/**
 * The preload's calls reject with plain data (an Error loses `status` and `fields` on the
 * contextBridge); the page gets an ApiError again, as from the browser's client.
 */
export function withApiErrors(bridge: KestrelApi): KestrelApi {
  const calls = Object.fromEntries(
    entryNames.map((name) => {
      const call = bridge[name] as (params: unknown) => Promise<unknown>;
      return [
        name,
        (params: unknown) =>
          call(params).catch((error: unknown) => {
            throw apiErrorFromData(error);
          }),
      ];
    }),
  );
  return { ...calls, events: bridge.events, streams: bridge.streams } as unknown as KestrelApi;
}
let watchConnection: ((listener: (state: ConnectionState) => void) => Unsubscribe) | null = null;

function init(): void {
  if (api) return;
  if (window.kestrel) {
    // IPC has no connection to lose: the preload is always there.
    api = withApiErrors(window.kestrel);
    watchConnection = (listener) => {
      listener('open');
      return () => undefined;
    };
    return;
  }
  const client = createHttpApi({ baseUrl: window.location.origin, token: pageToken() });
  api = client.api;
  watchConnection = client.onConnectionChange;
}

/** The API, whichever host serves this page; the UI cannot tell which. */
export function getApi(): KestrelApi {
  init();
  return api as KestrelApi;
}

export function onConnectionChange(listener: (state: ConnectionState) => void): Unsubscribe {
  init();
  return (watchConnection as (l: (s: ConnectionState) => void) => Unsubscribe)(listener);
}

/** 'desktop' when the preload bridge is present, else 'browser'. */
export function hostKind(): 'desktop' | 'browser' {
  return window.kestrel ? 'desktop' : 'browser';
}

export type { ConnectionState };
