/**
 * The desktop entry. Thin on purpose: it creates the window, tray and IPC bridge and hands
 * everything else to the Workstation, the same code the headless host runs.
 */
import { app, BrowserWindow, Menu, Tray, dialog, ipcMain, nativeImage, session, shell } from 'electron';
import Store from 'electron-store';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { settingsSchema } from '../../shared/config.js';
import { KESTREL_VERSION } from '../../shared/version.js';
import type { SettingsStore } from '../workstation/settingsStore.js';
import { InstanceLock, InstanceLockedError } from '../workstation/instanceLock.js';
import { Workstation } from '../workstation/workstation.js';
import { ElectronHost } from './electronHost.js';
import { forwardEvents, registerIpcHandlers, registerIpcStreams } from './ipcBridge.js';

const rendererUrl = process.env.ELECTRON_RENDERER_URL;
const rendererFile = join(import.meta.dirname, '..', 'renderer', 'index.html');

function isTrustedSender(frameUrl: string): boolean {
  if (rendererUrl) return frameUrl.startsWith(rendererUrl);
  return frameUrl.startsWith('file://') && decodeURIComponent(new URL(frameUrl).pathname).endsWith('/renderer/index.html');
}

let quitting = false;
let tray: Tray | null = null;

async function main(): Promise<void> {
  await app.whenReady();
  const store = new Store<Record<string, unknown>>({ name: 'settings' });
  const parsed = settingsSchema.safeParse(store.store);
  const settings = parsed.success ? parsed.data : settingsSchema.parse({});
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

  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [
          "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'",
        ],
      },
    });
  });

  const windows: BrowserWindow[] = [];
  const host = new ElectronHost(join(import.meta.dirname, 'worker.js'), (alert) => tray?.setToolTip(`Kestrel: ${alert.title}`));
  const settingsStore: SettingsStore = {
    path: store.path,
    read: () => store.store,
    write: (value) => {
      store.store = value as Record<string, unknown>;
    },
  };
  const workstation = new Workstation({ host, dataDir, settings, controlEnabled: true, version: KESTREL_VERSION, settingsStore });
  registerIpcHandlers(ipcMain, workstation.handlers, isTrustedSender);
  registerIpcStreams(ipcMain, workstation.streams, isTrustedSender);
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
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  // Minimise-to-tray: closing the window hides it; workers keep running until Quit.
  win.on('close', (event) => {
    if (!quitting) {
      event.preventDefault();
      win.hide();
    }
  });
  if (rendererUrl) await win.loadURL(rendererUrl);
  else await win.loadFile(rendererFile);

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
    void workstation.stop().finally(() => {
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
