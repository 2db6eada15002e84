/**
 * Every security decision of the desktop shell, as pure functions: which frame may call the
 * IPC channels, which permission a page gets, which link leaves the app, which file the app://
 * protocol serves, the Content-Security-Policy, which command asks the user first, and the
 * Electron fuses flipped at packaging. src/main/electron only wires these into Electron, so
 * they are tested under plain Node (no Electron binary needed).
 *
 * The desktop's control model: the user at the keyboard owns the workstation, so commands
 * are served over IPC (no token, unlike the headless host), audited with origin "ipc". They are
 * the same contract entries as over REST, validated by the same schemas and run by the same
 * handlers (imports and settings included). What a page cannot do is act on the user's behalf
 * silently: a command that resumes or interrupts trading, rewrites the settings or writes bars
 * waits for the user's "yes" in a native dialog, which no script in the page can answer.
 */
import type { EntryName } from '../shared/api.js';

/** The renderer is served from app://kestrel/, a standard, secure scheme of our own (not file://). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'kestrel';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** The page's document, fragment left out: the hash only routes between screens, it loads nothing. */
function documentOf(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search}`;
}

/**
 * Only the app's own page may call the IPC channels: in development the exact dev-server URL
 * (origin, path and query; a prefix would let http://localhost:5173.evil.example through), in
 * a packaged app the entry page on app://kestrel.
 */
export function isTrustedSender(frameUrl: string, devServerUrl: string | null): boolean {
  const frame = parse(frameUrl);
  if (!frame) return false;
  if (devServerUrl !== null) {
    const dev = parse(devServerUrl);
    return dev !== null && documentOf(frame) === documentOf(dev);
  }
  return frame.protocol === `${APP_SCHEME}:` && frame.host === APP_HOST && (frame.pathname === '/index.html' || frame.pathname === '/') && frame.search === '';
}

/**
 * Permission requests (camera, microphone, geolocation, notifications, clipboard, MIDI, …):
 * every one is denied. The UI needs none — alerts become notifications in the main process,
 * not the page — so there is nothing to allow, and no prompt a page could trick a user into.
 */
export function allowPermission(_permission: string, _requestingUrl: string): boolean {
  return false;
}

/** Links the app may hand to the system browser: each exact origin the UI links to. */
export const EXTERNAL_ORIGINS: readonly string[] = ['https://www.tradingview.com'];

/** shell.openExternal gets https links to the allowlisted origins only, with no credentials in them. */
export function mayOpenExternal(url: string): boolean {
  const u = parse(url);
  if (!u || u.protocol !== 'https:' || u.username !== '' || u.password !== '') return false;
  return EXTERNAL_ORIGINS.includes(u.origin);
}

/**
 * The file under the built renderer folder that an app:// request names, as '/'-joined
 * segments; null for anything else (another host, a path that climbs out, encoded slashes or
 * NUL). `/` is the entry page.
 */
export function appAssetPath(requestUrl: string): string | null {
  const u = parse(requestUrl);
  if (!u || u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  const raw = u.pathname === '/' ? '/index.html' : u.pathname;
  const segments: string[] = [];
  for (const encoded of raw.split('/').slice(1)) {
    let segment: string;
    try {
      segment = decodeURIComponent(encoded);
    } catch {
      return null;
    }
    // URL parsing already folds "." and ".."; what is left that climbs or hides a separator is refused.
    if (segment === '' || segment === '.' || segment === '..' || /[\\/\0]/.test(segment)) return null;
    segments.push(segment);
  }
  return segments.length > 0 ? segments.join('/') : null;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
  woff: 'font/woff',
  map: 'application/json',
};

/** By extension, for the files the renderer build emits; anything else is opaque bytes. */
export function contentTypeOf(assetPath: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(assetPath)?.[1]?.toLowerCase() ?? '';
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

/**
 * The Content-Security-Policy of the desktop page, from constants only (nothing from a request
 * goes into it). The page talks to the workstation through the preload's IPC bridge, so it
 * connects nowhere: connect-src 'none'. In development the dev server's own origin and its
 * hot-reload WebSocket are added, and nothing else.
 */
export function contentSecurityPolicy(devServerUrl: string | null): string {
  let connect = "'none'";
  if (devServerUrl !== null) {
    // The page is served by the dev server then, so 'self' is its origin; ws:// is its hot reload.
    const dev = parse(devServerUrl);
    if (dev && (dev.protocol === 'http:' || dev.protocol === 'https:')) connect = `'self' ${dev.protocol === 'https:' ? 'wss' : 'ws'}://${dev.host}`;
  }
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export interface Confirmation {
  title: string;
  /** The question, naming what will change. */
  message: string;
  /** The button that goes ahead (the other one cancels, and is the default). */
  confirm: string;
}

function variantOf(params: unknown): string {
  const v = (params as { variant?: unknown } | null)?.variant;
  return typeof v === 'string' ? v : 'every variant';
}

/**
 * Which commands from the page ask the user first, and what they say. Halting is never asked
 * (the kill switch must act at once); resuming trading, interrupting a running strategy,
 * rewriting the settings and writing bars into the store are. Params are the validated ones.
 */
export function confirmationFor(entry: EntryName, params: unknown): Confirmation | null {
  const p = (params ?? {}) as Record<string, unknown>;
  switch (entry) {
    case 'setTradingHalted':
      return p['halted'] === false
        ? { title: 'Resume trading', message: `Resume trading for ${variantOf(params)}? Orders will be sent again.`, confirm: 'Resume trading' }
        : null;
    case 'startVariant':
      return { title: 'Start variant', message: `Start ${variantOf(params)}? It trades as soon as it has restored.`, confirm: 'Start' };
    case 'stopVariant':
      return { title: 'Stop variant', message: `Stop ${variantOf(params)}? Its open positions stay as they are, unmanaged.`, confirm: 'Stop' };
    case 'restartVariant':
      return { title: 'Restart variant', message: `Restart ${variantOf(params)}? It stops and restores from its saved state.`, confirm: 'Restart' };
    case 'updateSettings':
      return { title: 'Save settings', message: 'Save the new settings? Some take effect only after a restart.', confirm: 'Save' };
    case 'importBars':
      return {
        title: 'Import bars',
        message: `Import ${typeof p['fileName'] === 'string' ? p['fileName'] : 'the file'} into the bar store? Bars with the same time are replaced.`,
        confirm: 'Import',
      };
    default:
      return null;
  }
}

/**
 * Electron fuses flipped in the packaged binary (names of @electron/fuses' FuseV1Options):
 * the app cannot be turned into a plain Node (RunAsNode, NODE_OPTIONS, --inspect), cookies are
 * encrypted at rest, and only the app's own archive is loaded, checked against its hash.
 */
export const DESKTOP_FUSES = {
  RunAsNode: false,
  EnableCookieEncryption: true,
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  EnableEmbeddedAsarIntegrityValidation: true,
  OnlyLoadAppFromAsar: true,
  GrantFileProtocolExtraPrivileges: false,
} as const satisfies Record<string, boolean>;
