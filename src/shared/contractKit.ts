import { z } from 'zod';

/**
 * The building blocks of the contract (src/shared/api.ts): entry kinds, route helpers and the
 * error type. Domain areas declare their entries with these in src/shared/contract/*.ts.
 */

export type HttpMethod = 'GET' | 'POST';
export interface RestRoute {
  readonly method: HttpMethod;
  /** Path with `:param` placeholders filled from the params object. */
  readonly path: string;
}

export type EntryKind = 'query' | 'command';
export interface ContractEntry<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly kind: EntryKind;
  readonly params: P;
  readonly result: R;
  readonly rest: RestRoute;
  readonly summary: string;
}

export function query<P extends z.ZodType, R extends z.ZodType>(
  params: P,
  result: R,
  path: string,
  summary: string,
): ContractEntry<P, R> {
  return { kind: 'query', params, result, rest: { method: 'GET', path }, summary };
}

/** Commands never write strategy state themselves: they ask the supervisor, and are audited. */
export function command<P extends z.ZodType, R extends z.ZodType>(
  params: P,
  result: R,
  path: string,
  summary: string,
): ContractEntry<P, R> {
  return { kind: 'command', params, result, rest: { method: 'POST', path }, summary };
}

/**
 * A stream: a query whose answer arrives item by item and can be cancelled (a log search,
 * a live tail). Served as SSE over REST and as item/end messages over IPC.
 */
export interface StreamEntry<P extends z.ZodType = z.ZodType, I extends z.ZodType = z.ZodType> {
  readonly kind: 'stream';
  readonly params: P;
  readonly item: I;
  readonly rest: RestRoute;
  readonly summary: string;
}

export function stream<P extends z.ZodType, I extends z.ZodType>(
  params: P,
  item: I,
  path: string,
  summary: string,
): StreamEntry<P, I> {
  return { kind: 'stream', params, item, rest: { method: 'GET', path }, summary };
}

/** Who is calling: hosts fill it in; the workstation audits commands with it. */
export interface CallContext {
  readonly origin: 'ipc' | 'rest' | 'websocket' | 'cli';
  readonly controlAllowed: boolean;
}

/** An error a caller can act on; `status` follows HTTP so every host can map it. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 500 | 503,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Fills `:param` placeholders; the rest of the params become the query string or JSON body. */
export function fillPath(path: string, params: Record<string, unknown>): { path: string; rest: Record<string, unknown> } {
  const rest: Record<string, unknown> = { ...params };
  const filled = path.replace(/:([A-Za-z]+)/g, (_m, key: string) => {
    const value = rest[key];
    delete rest[key];
    return encodeURIComponent(String(value));
  });
  return { path: filled, rest };
}


/**
 * A boolean parameter: a real boolean from typed clients (IPC, the renderer's client) and
 * "true"/"false"/"1"/"0" from a query string.
 */
export const boolParam = z.union([z.boolean(), z.stringbool()]);
