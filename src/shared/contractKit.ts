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
  /** A larger request body than the REST server's default limit (an uploaded file). */
  readonly maxBodyBytes?: number;
  /**
   * The REST answer is the result string itself with this content type, not JSON (the
   * Prometheus text exposition). Over IPC the string is the result as it is.
   */
  readonly restText?: string;
}

export function query<P extends z.ZodType, R extends z.ZodType>(
  params: P,
  result: R,
  path: string,
  summary: string,
  options: { restText?: string } = {},
): ContractEntry<P, R> {
  return { kind: 'query', params, result, rest: { method: 'GET', path }, summary, ...(options.restText === undefined ? {} : { restText: options.restText }) };
}

/** Commands never write strategy state themselves: they ask the supervisor, and are audited. */
export function command<P extends z.ZodType, R extends z.ZodType>(
  params: P,
  result: R,
  path: string,
  summary: string,
  options: { maxBodyBytes?: number } = {},
): ContractEntry<P, R> {
  return {
    kind: 'command',
    params,
    result,
    rest: { method: 'POST', path },
    summary,
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
  };
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

/** One field a request got wrong: `path` as zod gives it, dotted (`barSource.url`, `variants.0.windowMinutes`). */
export interface FieldError {
  path: string;
  message: string;
}

/**
 * An error a caller can act on; `status` follows HTTP so every host can map it. `fields`, when
 * given, says which fields were wrong, so a form can show each message next to its field; it
 * travels as `fields` in the REST error body and in the IPC reply.
 */
export class ApiError extends Error {
  readonly fields: FieldError[] | undefined;
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 500 | 503,
    message: string,
    fields?: readonly FieldError[],
  ) {
    super(message);
    this.name = 'ApiError';
    this.fields = fields && fields.length > 0 ? fields.map((f) => ({ path: f.path, message: f.message })) : undefined;
  }
}

/**
 * An ApiError as plain data. Electron's contextBridge hands an Error thrown in the preload to
 * the page as a new Error with the message only (no `status`, no `fields`); plain data crosses
 * whole, so the preload rejects with this and the page turns it back into an ApiError.
 */
export interface ApiErrorData {
  kestrelApiError: true;
  status: number;
  message: string;
  fields?: FieldError[];
}

export function apiErrorToData(err: ApiError): ApiErrorData {
  return { kestrelApiError: true, status: err.status, message: err.message, ...(err.fields ? { fields: err.fields } : {}) };
}

/** The ApiError that `apiErrorToData` described; anything else is returned as it is. */
export function apiErrorFromData(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || !('kestrelApiError' in value) || value.kestrelApiError !== true) return value;
  const data = value as Partial<ApiErrorData>;
  return new ApiError(
    (typeof data.status === 'number' ? data.status : 500) as ApiError['status'],
    typeof data.message === 'string' ? data.message : 'request failed',
    fieldErrorsOf(data.fields),
  );
}

/** `fields` of an error body or IPC reply, when it is a well-formed list; else undefined. */
export function fieldErrorsOf(value: unknown): FieldError[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const fields: FieldError[] = [];
  for (const item of value) {
    if (item === null || typeof item !== 'object') continue;
    const { path, message } = item as { path?: unknown; message?: unknown };
    if (typeof path === 'string' && typeof message === 'string') fields.push({ path, message });
  }
  return fields.length > 0 ? fields : undefined;
}

/** Every issue of a failed zod parse as a field error; `prefix` is prepended to each path. */
export function fieldErrorsOfIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): FieldError[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return { path: prefix && path ? `${prefix}.${path}` : prefix || path, message: issue.message };
  });
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
