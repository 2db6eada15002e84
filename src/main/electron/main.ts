/**
 * The desktop entry. Thin on purpose: it creates the window, tray and IPC bridge and hands
 * everything else to the Workstation, the same code the headless host runs.
 */
import { app, BrowserWindow, Menu, Tray, dialog, ipcMain, nativeImage, protocol, session, shell } from 'electron';
import { readFile } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KESTREL_VERSION } from '../../shared/version.js';
import { SettingsError, loadSettings } from '../workstation/settingsFile.js';
import { InstanceLock, InstanceLockedError } from '../workstation/instanceLock.js';
import { Workstation } from '../workstation/workstation.js';
import {
  APP_ENTRY_URL,
  APP_SCHEME,
  allowPermission,
  appAssetPath,
  confirmationFor,
  contentSecurityPolicy,
  contentTypeOf,
  isTrustedSender,
  mayOpenExternal,
} from '../desktopPolicy.js';
import { ElectronHost } from './electronHost.js';
import { forwardEvents, registerIpcHandlers, registerIpcStreams, type ConfirmCommand } from './ipcBridge.js';

// Every decision below is made in ../desktopPolicy.ts (tested under plain Node); this file wires it in.
const devServerUrl = process.env.ELECTRON_RENDERER_URL ?? null;
const rendererDir = join(import.meta.dirname, '..', 'renderer');
const csp = contentSecurityPolicy(devServerUrl);
const trusted = (frameUrl: string): boolean => isTrustedSender(frameUrl, devServerUrl);

// Must precede app ready: app:// behaves like https (secure context, same-origin rules), unlike file://.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

/** Serves the built renderer on app://kestrel/, with the CSP as a real header. */
async function serveApp(request: Request): Promise<Response> {
  const asset = appAssetPath(request.url);
  if (asset === null) return new Response('not found', { status: 404 });
  try {
    const body = await readFile(join(rendererDir, ...asset.split('/')));
    return new Response(body, { headers: { 'content-type': contentTypeOf(asset), 'content-security-policy': csp, 'x-content-type-options': 'nosniff' } });
  } catch {
    return new Response('not found', { status: 404 });
  }
}

let quitting = false;
let tray: Tray | null = null;

async function main(): Promise<void> {
  await app.whenReady();
  // The file electron-store kept (userData/settings.json), now with the headless host's safe writes.
  let loaded;
  try {
    loaded = loadSettings(app.getPath('userData'));
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    // Never start on defaults over the trader's file: say which file and why, and stop.
    dialog.showErrorBox('Kestrel cannot start', `${err.message}\n\nMend the file (or move it away to start on defaults).`);
    app.exit(2);
    return;
  }
  const { settings, store: settingsStore } = loaded;
  const dataDir = settings.dataDir ?? join(app.getPath('userData'), 'data');
  // A `kestrel serve` may hold the same data directory: one workstation trades it, never two.
  mkdirSync(dataDir, { recursive: true });
  try {
    await InstanceLock.acquire(dataDir);
  } catch (err) {
    dialog.showErrorBox('Kestrel', err instanceof InstanceLockedError ? err.message : String(err));
    app.exit(2);
    return;
  }

  protocol.handle(APP_SCHEME, serveApp);
  // The dev server's responses get the same policy as a header (app:// responses carry it already).
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback, details) => callback(allowPermission(permission, details.requestingUrl)));
  session.defaultSession.setPermissionCheckHandler((_contents, permission, requestingOrigin) => allowPermission(permission, requestingOrigin));
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.on('will-navigate', (e) => e.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (mayOpenExternal(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });

  const windows: BrowserWindow[] = [];
  const host = new ElectronHost(join(import.meta.dirname, 'worker.js'), (alert) => tray?.setToolTip(`Kestrel: ${alert.title}`));
  const workstation = new Workstation({ host, dataDir, settings, controlEnabled: true, version: KESTREL_VERSION, settingsStore });
  const confirm: ConfirmCommand = async (entry, params) => {
    const question = confirmationFor(entry, params);
    if (!question) return true;
    const options = { type: 'question' as const, title: question.title, message: question.message, buttons: ['Cancel', question.confirm], defaultId: 0, cancelId: 0, noLink: true };
    const parent = BrowserWindow.getFocusedWindow() ?? windows[0];
    const { response } = parent ? await dialog.showMessageBox(parent, options) : await dialog.showMessageBox(options);
    return response === 1;
  };
  registerIpcHandlers(ipcMain, workstation.handlers, trusted, confirm);
  registerIpcStreams(ipcMain, workstation.streams, trusted);
  forwardEvents(workstation.bus, () => windows.map((w) => w.webContents));
  await workstation.start();

  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    title: 'Kestrel',
    webPreferences: {
      preload: join(import.meta.dirname, '..', 'preload', 'index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  windows.push(win);
  // A second launch focuses this window instead of starting another workstation.
  app.on('second-instance', () => {
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  });
  // Minimise-to-tray: closing the window hides it; workers keep running until Quit.
  win.on('close', (event) => {
    if (!quitting) {
      event.preventDefault();
      win.hide();
    }
  });
  await win.loadURL(devServerUrl ?? APP_ENTRY_URL);

  tray = new Tray(nativeImage.createFromPath(join(import.meta.dirname, '..', '..', 'resources', 'tray.png')));
  tray.setToolTip('Kestrel');
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Show Kestrel', click: () => win.show() },
      { type: 'separator' },
      { label: 'Quit (stops all strategies)', click: () => app.quit() },
    ]),
  );
  tray.on('click', () => win.show());

  app.on('before-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    void workstation.shutdown('quit').finally(() => {
      host.killAll();
      app.exit(0);
    });
  });
}

if (app.requestSingleInstanceLock()) {
  main().catch((err: unknown) => {
    console.error('Kestrel failed to start:', err);
    app.exit(1);
  });
} else {
  app.quit();
}
