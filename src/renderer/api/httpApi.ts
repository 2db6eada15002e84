import {
  ApiError,
  contract,
  fieldErrorsOf,
  entryNames,
  eventNames,
  events,
  fillPath,
  streamNames,
  streams,
  type EntryName,
  type EventName,
  type EventPayload,
  type KestrelApi,
  type ParamsOf,
  type ResultOf,
  type StreamEnd,
  type StreamName,
  type Unsubscribe,
} from '../../shared/api.js';

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface HttpApiOptions {
  /** e.g. http://127.0.0.1:7420 (no trailing slash) */
  baseUrl: string;
  token: string;
  /** Injected where the global is missing (Node 20 in tests uses the `ws` package). */
  WebSocketImpl?: typeof WebSocket;
  fetchImpl?: typeof fetch;
}

export interface HttpApi {
  api: KestrelApi;
  onConnectionChange(listener: (state: ConnectionState) => void): Unsubscribe;
  close(): void;
}

type AnyListener = (payload: unknown) => void;

/**
 * The headless host's client: queries and commands over REST, events over one WebSocket
 * that reconnects by itself. Built from the contract tables, so it has exactly one method
 * per contract entry and nothing generic.
 */
export function createHttpApi(opts: HttpApiOptions): HttpApi {
  const fetchImpl = opts.fetchImpl ?? fetch.bind(globalThis);
  const WS = opts.WebSocketImpl ?? globalThis.WebSocket;
  const listeners = new Map<EventName, Set<AnyListener>>();
  const connectionListeners = new Set<(state: ConnectionState) => void>();
  let state: ConnectionState = 'connecting';
  let socket: WebSocket | null = null;
  let closed = false;
  let retryMs = 500;

  const setState = (next: ConnectionState): void => {
    if (next === state) return;
    state = next;
    for (const l of connectionListeners) l(state);
  };

  async function call<K extends EntryName>(name: K, params: ParamsOf<K>): Promise<ResultOf<K>> {
    const entry = contract[name];
    const { path, rest } = fillPath(entry.rest.path, (params ?? {}) as Record<string, unknown>);
    let url = opts.baseUrl + path;
    const init: RequestInit = { method: entry.rest.method, headers: { authorization: `Bearer ${opts.token}` } };
    if (entry.rest.method === 'GET') {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(rest)) if (v !== undefined && v !== null) qs.set(k, String(v));
      const q = qs.toString();
      if (q) url += `?${q}`;
    } else {
      init.headers = { ...init.headers, 'content-type': 'application/json' };
      init.body = JSON.stringify(rest);
    }
    const res = await fetchImpl(url, init);
    const text = await res.text();
    if (res.ok && entry.restText !== undefined) return entry.result.parse(text) as ResultOf<K>;
    const body: unknown = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const message =
        body && typeof body === 'object' && 'error' in body && typeof body.error === 'string'
          ? body.error
          : `${res.status} ${res.statusText}`;
      const fields = body && typeof body === 'object' && 'fields' in body ? fieldErrorsOf(body.fields) : undefined;
      throw new ApiError(res.status as ApiError['status'], message, fields);
    }
    return entry.result.parse(body) as ResultOf<K>;
  }

  function connect(): void {
    if (closed || !WS) return;
    const wsUrl = `${opts.baseUrl.replace(/^http/, 'ws')}/api/ws?token=${encodeURIComponent(opts.token)}`;
    setState('connecting');
    const ws = new WS(wsUrl);
    socket = ws;
    ws.onopen = () => {
      retryMs = 500;
      setState('open');
    };
    ws.onmessage = (msg: MessageEvent) => {
      const frame = JSON.parse(String(msg.data)) as { event?: string; payload?: unknown };
      const name = frame.event as EventName | undefined;
      if (!name || !(name in events)) return;
      const parsed = events[name].safeParse(frame.payload);
      if (!parsed.success) return;
      for (const l of listeners.get(name) ?? []) l(parsed.data);
    };
    ws.onclose = () => {
      socket = null;
      if (closed) return;
      setState('closed');
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10_000);
    };
  }

  const methods = Object.fromEntries(
    entryNames.map((name) => [name, (params: ParamsOf<typeof name>) => call(name, params)]),
  );
  const eventMethods = Object.fromEntries(
    eventNames.map((name) => [
      name,
      (listener: AnyListener): Unsubscribe => {
        let set = listeners.get(name);
        if (!set) listeners.set(name, (set = new Set()));
        set.add(listener);
        return () => set.delete(listener);
      },
    ]),
  );
  /** A stream over SSE read with fetch, so it carries the token header and can be aborted. */
  function openStream(name: StreamName, params: Record<string, unknown>, onItem: AnyListener, onEnd?: StreamEnd): Unsubscribe {
    const abort = new AbortController();
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined && v !== null) qs.set(k, String(v));
    const entry = streams[name];
    let ended = false;
    const finish = (error: string | null): void => {
      if (ended) return;
      ended = true;
      onEnd?.(error);
    };
    void (async () => {
      try {
        const res = await fetchImpl(`${opts.baseUrl}${entry.rest.path}?${qs.toString()}`, {
          headers: { authorization: `Bearer ${opts.token}` },
          signal: abort.signal,
        });
        if (!res.ok || !res.body) {
          const text = await res.text();
          let message = `${res.status} ${res.statusText}`;
          try {
            const body = JSON.parse(text) as { error?: unknown };
            if (typeof body.error === 'string') message = body.error;
          } catch {
            // not JSON: keep the status line
          }
          finish(message);
          return;
        }
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const event = /^event: (.*)$/m.exec(frame)?.[1];
            const data = /^data: (.*)$/m.exec(frame)?.[1];
            if (!event || data === undefined) continue;
            if (event === 'item') {
              const parsed = entry.item.safeParse(JSON.parse(data));
              if (parsed.success) onItem(parsed.data);
            } else if (event === 'end') {
              finish((JSON.parse(data) as { error: string | null }).error);
            }
          }
        }
        finish(abort.signal.aborted ? 'cancelled' : null);
      } catch (err) {
        finish(abort.signal.aborted ? 'cancelled' : err instanceof Error ? err.message : String(err));
      }
    })();
    return () => abort.abort();
  }

  const streamMethods = Object.fromEntries(
    streamNames.map((name) => [
      name,
      (params: Record<string, unknown>, onItem: AnyListener, onEnd?: StreamEnd) => openStream(name, params, onItem, onEnd),
    ]),
  );
  const api = { ...methods, events: eventMethods, streams: streamMethods } as unknown as KestrelApi;
  connect();

  return {
    api,
    onConnectionChange(listener) {
      connectionListeners.add(listener);
      listener(state);
      return () => connectionListeners.delete(listener);
    },
    close() {
      closed = true;
      socket?.close();
      setState('closed');
    },
  };
}

export type { EventPayload };
