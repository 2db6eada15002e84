import type { IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';
import { ApiError } from '../../shared/api.js';

/**
 * What the headless host checks about a request before it does anything with it: which names
 * it may be addressed by (DNS rebinding), where a browser page calling it comes from, and what a
 * JSON body may hold. Pure functions of the request, so the server applies them in one place.
 */

/**
 * The page's CSP, written once from constants: nothing from the request goes into a header.
 * CSP3 lets `'self'` match ws:// on the page's own host and port, which is all the page opens.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', '[::]']);

/** `::1` → `[::1]`, as URL.hostname spells an IPv6 literal. */
function hostnameForm(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower;
}

/**
 * The names a Host header may carry: loopback, the bound address (every local interface's
 * address when bound to a wildcard) and the names the user configured (a reverse proxy's).
 */
export function allowedHostNames(boundAddress: string, configured: readonly string[] = []): Set<string> {
  const names = new Set(LOOPBACK_NAMES);
  const bound = hostnameForm(boundAddress);
  if (WILDCARD_ADDRESSES.has(bound)) {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(hostnameForm(a.address));
  } else {
    names.add(bound);
  }
  for (const name of configured) names.add(hostnameForm(name));
  return names;
}

/** The host name of a Host header value (`name[:port]`), or null when it is not one. */
export function hostNameOf(header: string | undefined): string | null {
  if (!header || !/^[A-Za-z0-9.\-[\]:]+$/.test(header)) return null;
  try {
    return new URL(`http://${header}`).hostname;
  } catch {
    return null;
  }
}

export function hostAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const name = hostNameOf(req.headers.host);
  return name !== null && allowed.has(name);
}

/**
 * A browser names the page that opened a request in `Origin`; only the workstation's own page
 * (same host and port as the request's, already allowlisted) may call it. Clients that are not
 * browsers send no Origin and are left to the token.
 */
export function originAllowed(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === (req.headers.host ?? '').toLowerCase();
  } catch {
    return false;
  }
}

/** The request path decoded, or a 400 when its percent-escapes are not UTF-8 (`/%E0%A4%A`). */
export function decodedPath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    throw new ApiError(400, 'malformed URL: its percent-escapes are not valid UTF-8');
  }
}

/** Keys that reach an object's prototype when copied with Object.assign or a spread into a setter. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A command's JSON body as a plain object. A key that names the prototype is refused at any depth:
 * `{"__proto__":{"halted":true}}` would otherwise become every params object's `halted`.
 */
export function parseJsonObject(text: string): Record<string, unknown> {
  let refusedKey: string | null = null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (key, value: unknown) => {
      if (PROTOTYPE_KEYS.has(key)) refusedKey ??= key;
      return value;
    });
  } catch {
    throw new ApiError(400, 'the request body must be a JSON object');
  }
  if (refusedKey !== null) throw new ApiError(400, `the request body holds the key "${refusedKey}", which is refused (it names an object's prototype)`);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ApiError(400, 'the request body must be a JSON object');
  return parsed as Record<string, unknown>;
}
