import { timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  ApiError,
  contract,
  entryNames,
  parseParams,
  parseStreamParams,
  streamNames,
  streams,
  type ApiHandlers,
  type StreamHandlers,
  type StreamName,
  type CallContext,
  type EntryName,
  type EventName,
} from '../../shared/api.js';
import type { EventBus } from '../workstation/eventBus.js';
import { CONTENT_SECURITY_POLICY, allowedHostNames, decodedPath, hostAllowed, originAllowed, parseJsonObject } from './requestGuards.js';

export interface ApiServerOptions {
  handlers: ApiHandlers;
  streams: StreamHandlers;
  bus: EventBus;
  token: string;
  controlEnabled: boolean;
  /** The built renderer (out/renderer); null serves the API only. */
  rendererDir: string | null;
  host?: string;
  port?: number;
  /** Names beside loopback and the bound address that the Host header may carry (a reverse proxy's). */
  allowedHosts?: readonly string[];
  /**
   * A command refused because control is off, before its body is read: the workstation audits
   * it with what the path names and gives the error to answer.
   */
  refuseCommand?: (name: EntryName, pathParams: Record<string, string>, ctx: CallContext) => ApiError;
  /** Bytes queued for one WebSocket or SSE client before it is dropped as too slow (default 4 MB). */
  maxClientBufferBytes?: number;
  /** One line per dropped client and refused upgrade (stderr headless). */
  log?: (line: string) => void;
  /** Between two `event: heartbeat` frames of a stream (the first goes at once); 15 s by default. */
  streamHeartbeatMs?: number;
}

interface Route {
  name: EntryName;
  method: string;
  pattern: RegExp;
  keys: string[];
}

/** Every command's JSON body; an entry may declare a larger one (`maxBodyBytes`, the import's file). */
const MAX_BODY_BYTES = 1024 * 1024;
const SSE_KEEPALIVE_MS = 15_000;
/** The page never sends a WebSocket frame; anything larger than this is not ours. */
const WS_MAX_PAYLOAD_BYTES = 16 * 1024;
const DEFAULT_MAX_CLIENT_BUFFER_BYTES = 4 * 1024 * 1024;
/** The event stream's paths: ours, and the one web clients of trading bots call (seed 002). */
const EVENT_STREAM_PATHS = new Set(['/api/events', '/api/sse/events']);

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** REST routes come from the contract: one per entry, nothing written by hand. */
export function compileRoutes(): Route[] {
  return entryNames.map((name) => {
    const keys: string[] = [];
    const source = contract[name].rest.path.replace(/:([A-Za-z]+)/g, (_m, key: string) => {
      keys.push(key);
      return '([^/]+)';
    });
    return { name, method: contract[name].rest.method, pattern: new RegExp(`^${source}$`), keys };
  });
}

/**
 * The headless host's face: the built renderer, REST under /api, events over WebSocket
 * (/api/ws) and SSE (/api/events, and its alias /api/sse/events, for EventSource, which cannot
 * send headers: hence `?token=`). Bound to 127.0.0.1 unless told otherwise; every /api request needs the token.
 */
export class ApiServer {
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly routes = compileRoutes();
  private readonly sseClients = new Set<ServerResponse>();
  private readonly tokenBytes: Buffer;
  private readonly allowedHosts: Set<string>;
  private readonly maxClientBuffer: number;
  private unsubscribe: (() => void) | null = null;
  private keepalive: NodeJS.Timeout | null = null;

  constructor(private readonly opts: ApiServerOptions) {
    this.tokenBytes = Buffer.from(opts.token);
    this.allowedHosts = allowedHostNames(opts.host ?? '127.0.0.1', opts.allowedHosts);
    this.maxClientBuffer = opts.maxClientBufferBytes ?? DEFAULT_MAX_CLIENT_BUFFER_BYTES;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // An answer before the body was read closes the connection instead of draining the upload.
        if (!req.complete) res.shouldKeepAlive = false;
        this.fail(res, err);
      });
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD_BYTES });
    this.server.on('upgrade', (req, socket, head) => {
      const refuse = (status: string): void => {
        socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
        socket.destroy();
      };
      if (!hostAllowed(req, this.allowedHosts) || !originAllowed(req)) {
        this.opts.log?.(`WebSocket refused: Host ${JSON.stringify(req.headers.host ?? null)}, Origin ${JSON.stringify(req.headers.origin ?? null)}`);
        refuse('403 Forbidden');
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/api/ws' || !this.authorized(req, url)) {
        refuse('401 Unauthorized');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        // A frame over maxPayload is an error on the socket: without a listener it would end the process.
        ws.on('error', (err) => this.opts.log?.(`WebSocket connection closed: ${err.message}`));
        this.wss.emit('connection', ws, req);
      });
    });
  }

  async listen(): Promise<{ host: string; port: number; url: string }> {
    const host = this.opts.host ?? '127.0.0.1';
    await new Promise<void>((ok, fail) => {
      this.server.once('error', fail);
      this.server.listen(this.opts.port ?? 0, host, () => ok());
    });
    this.unsubscribe = this.opts.bus.onAny((name, payload) => this.broadcast(name, payload));
    this.keepalive = setInterval(() => {
      for (const res of this.sseClients) this.writeSse(res, ': keepalive\n\n', 'event stream');
    }, SSE_KEEPALIVE_MS);
    const port = (this.server.address() as AddressInfo).port;
    return { host, port, url: `http://${host}:${port}/?token=${encodeURIComponent(this.opts.token)}` };
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    if (this.keepalive) clearInterval(this.keepalive);
    for (const res of this.sseClients) res.end();
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    await new Promise<void>((ok) => {
      this.server.close(() => ok());
      this.server.closeAllConnections();
    });
  }

  private broadcast(name: EventName, payload: unknown): void {
    const frame = JSON.stringify({ event: name, payload });
    for (const ws of this.wss.clients) {
      if (ws.readyState !== 1) continue;
      if (ws.bufferedAmount > this.maxClientBuffer) {
        this.opts.log?.(`WebSocket client dropped: ${ws.bufferedAmount} bytes unread (at most ${this.maxClientBuffer})`);
        ws.terminate();
      } else ws.send(frame);
    }
    const sse = `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;
    for (const res of this.sseClients) this.writeSse(res, sse, 'event stream');
  }

  /** A client that does not read would otherwise hold every event in memory: past the cap it is dropped. */
  private writeSse(res: ServerResponse, text: string, what: string): boolean {
    if (res.writableLength > this.maxClientBuffer) {
      this.opts.log?.(`SSE client dropped (${what}): ${res.writableLength} bytes unread (at most ${this.maxClientBuffer})`);
      this.sseClients.delete(res);
      res.destroy();
      return false;
    }
    res.write(text);
    return true;
  }

  private authorized(req: IncomingMessage, url: URL): boolean {
    const header = req.headers.authorization;
    const given = header?.startsWith('Bearer ') ? header.slice(7) : url.searchParams.get('token');
    if (!given) return false;
    const bytes = Buffer.from(given);
    return bytes.length === this.tokenBytes.length && timingSafeEqual(bytes, this.tokenBytes);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req, this.allowedHosts)) {
      throw new ApiError(403, `this workstation is not served under the name in the Host header; allowed: ${[...this.allowedHosts].join(', ')} (add one with --allow-host)`);
    }
    if (!originAllowed(req)) throw new ApiError(403, `requests from the page at ${req.headers.origin ?? ''} are refused: only the workstation's own page may call it`);
    const url = new URL(req.url ?? '/', 'http://localhost');
    decodedPath(url.pathname);
    if (!url.pathname.startsWith('/api/')) {
      this.serveStatic(url.pathname, res);
      return;
    }
    if (!this.authorized(req, url)) throw new ApiError(401, 'a valid token is required (Authorization: Bearer <token> or ?token=)');
    if (EVENT_STREAM_PATHS.has(url.pathname) && req.method === 'GET') {
      this.openSse(res);
      return;
    }
    const streamName = streamNames.find((n) => streams[n].rest.path === url.pathname);
    if (streamName && req.method === 'GET') {
      await this.serveStream(streamName, url, req, res);
      return;
    }
    const route = this.routes.find((r) => r.method === req.method && r.pattern.test(url.pathname));
    if (!route) {
      const pathKnown = this.routes.some((r) => r.pattern.test(url.pathname));
      throw new ApiError(pathKnown ? 400 : 404, pathKnown ? `${req.method ?? ''} is not allowed on ${url.pathname}` : `no API route ${url.pathname}`);
    }
    const match = route.pattern.exec(url.pathname);
    const pathParams: Record<string, string> = {};
    route.keys.forEach((key, i) => {
      pathParams[key] = decodedPath(match?.[i + 1] ?? '');
    });
    const ctx: CallContext = { origin: 'rest', controlAllowed: this.opts.controlEnabled };
    if (contract[route.name].kind === 'command' && !this.opts.controlEnabled) {
      // Refused before a byte of the body is read: a read-only host never buffers an upload.
      throw this.opts.refuseCommand?.(route.name, pathParams, ctx) ?? new ApiError(403, 'control is disabled');
    }
    const params: Record<string, unknown> = {};
    if (route.method === 'GET') {
      for (const [k, v] of url.searchParams) if (k !== 'token') params[k] = v;
    } else {
      Object.assign(params, await readJsonBody(req, contract[route.name].maxBodyBytes ?? MAX_BODY_BYTES));
    }
    Object.assign(params, pathParams);
    const result = await this.invoke(route.name, params, ctx);
    const textType = contract[route.name].restText;
    if (textType !== undefined && typeof result === 'string') {
      res.writeHead(200, { 'content-type': textType, 'cache-control': 'no-store' });
      res.end(result);
      return;
    }
    this.json(res, 200, result);
  }

  private invoke(name: EntryName, params: unknown, ctx: CallContext): Promise<unknown> {
    const handler = this.opts.handlers[name] as (p: unknown, c: CallContext) => Promise<unknown>;
    return handler(parseParams(name, params), ctx);
  }

  /**
   * A stream as SSE: `event: item` per item, then one `event: end` (`{"error": null}` or the
   * reason). The handler is aborted when the client goes away, so a cancelled search stops.
   */
  private async serveStream(name: StreamName, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const params: Record<string, unknown> = {};
    for (const [k, v] of url.searchParams) if (k !== 'token') params[k] = v;
    const valid = parseStreamParams(name, params);
    const abort = new AbortController();
    req.on('close', () => abort.abort());
    res.on('close', () => abort.abort());
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': kestrel stream\n\n');
    // A heartbeat at once and then at an interval: clients (and proxies) see the stream alive between items.
    const heartbeat = (): void => {
      if (!abort.signal.aborted && !res.writableEnded) res.write(`event: heartbeat\ndata: ${JSON.stringify({ time: new Date().toISOString() })}\n\n`);
    };
    heartbeat();
    const beating = setInterval(heartbeat, this.opts.streamHeartbeatMs ?? SSE_KEEPALIVE_MS);
    abort.signal.addEventListener('abort', () => clearInterval(beating));
    const emit = (item: unknown): void => {
      if (!abort.signal.aborted && !this.writeSse(res, `event: item\ndata: ${JSON.stringify(item)}\n\n`, name)) abort.abort();
    };
    const handler = this.opts.streams[name] as (p: unknown, e: (i: unknown) => void, s: AbortSignal, c: CallContext) => Promise<void>;
    let error: string | null = null;
    try {
      await handler(valid, emit, abort.signal, { origin: 'rest', controlAllowed: this.opts.controlEnabled });
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    clearInterval(beating);
    if (!res.writableEnded) res.end(`event: end\ndata: ${JSON.stringify({ error })}\n\n`);
  }

  private openSse(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write(': kestrel events\n\n');
    this.sseClients.add(res);
    res.on('close', () => this.sseClients.delete(res));
  }

  private serveStatic(pathname: string, res: ServerResponse): void {
    const root = this.opts.rendererDir;
    if (!root || !existsSync(join(root, 'index.html'))) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('The renderer is not built: run `npm run build`, then reload.\n');
      return;
    }
    const rel = normalize(decodedPath(pathname)).replace(/^([/\\])+/, '');
    let file = resolve(root, rel === '' ? 'index.html' : rel);
    if (file !== resolve(root) && !file.startsWith(resolve(root) + sep)) {
      res.writeHead(403).end();
      return;
    }
    if (!existsSync(file) || statSync(file).isDirectory()) file = join(root, 'index.html');
    const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
    const headers: Record<string, string> = { 'content-type': type, 'x-content-type-options': 'nosniff' };
    if (type.startsWith('text/html')) {
      headers['content-security-policy'] = CONTENT_SECURITY_POLICY;
      headers['cache-control'] = 'no-store';
    }
    res.writeHead(200, headers);
    createReadStream(file).pipe(res);
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(text);
  }

  private fail(res: ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    if (err instanceof ApiError) this.json(res, err.status, err.fields ? { error: err.message, fields: err.fields } : { error: err.message });
    else this.json(res, 500, { error: err instanceof Error ? err.message : String(err) });
  }
}

async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const tooLarge = (): ApiError =>
    maxBytes === MAX_BODY_BYTES
      ? new ApiError(400, 'request body too large')
      : new ApiError(413, `request body too large: at most ${Math.floor(maxBytes / (1024 * 1024))} MB`);
  // A large upload is refused before it is read when its declared size already says so.
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(buf);
  }
  if (size === 0) return {};
  return parseJsonObject(Buffer.concat(chunks).toString('utf8'));
}

export type { WebSocket };
