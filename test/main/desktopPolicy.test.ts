import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { describe, expect, it } from 'vitest';
import { flipDesktopFuses } from '../../scripts/flip-fuses.js';
import { registerIpcHandlers, registerIpcStreams } from '../../src/main/electron/ipcBridge.js';
import {
  APP_ENTRY_URL,
  DESKTOP_FUSES,
  allowPermission,
  appAssetPath,
  confirmationFor,
  contentSecurityPolicy,
  contentTypeOf,
  isTrustedSender,
  mayOpenExternal,
} from '../../src/main/desktopPolicy.js';
import { ipcChannel, ipcStreamChannel, type EntryName } from '../../src/shared/api.js';
import { freshDir, waitFor } from '../helpers.js';
import { ipcPair } from './ipcPair.js';
import { harnessPerTest, type Harness } from './workstationHarness.js';

/** The desktop shell's decisions, under plain Node: src/main/electron only wires them into Electron. */

const DEV = 'http://localhost:5173/';
/** Where Electron's binary announces its fuse wire (@electron/fuses' SENTINEL). */
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';

describe('which frame may call the IPC channels', () => {
  it('packaged: the entry page on app://kestrel only; never file://, another host or page', () => {
    expect(isTrustedSender(APP_ENTRY_URL, null)).toBe(true);
    expect(isTrustedSender(`${APP_ENTRY_URL}#/logs`, null)).toBe(true);
    expect(isTrustedSender('app://kestrel/', null)).toBe(true);
    for (const url of [
      'file:///opt/kestrel/out/renderer/index.html',
      'app://evil/index.html',
      'app://kestrel/other.html',
      'app://kestrel/index.html?x=1',
      'https://kestrel/index.html',
      'about:blank',
      '',
      'not a url',
    ]) {
      expect(isTrustedSender(url, null), url).toBe(false);
    }
  });

  it('development: the dev server URL exactly, not a prefix of it', () => {
    expect(isTrustedSender(DEV, DEV)).toBe(true);
    expect(isTrustedSender(`${DEV}#/trades`, DEV)).toBe(true);
    for (const url of ['http://localhost:5173.evil.example/', 'http://localhost:51730/', 'http://localhost:5173/evil/', 'https://localhost:5173/', APP_ENTRY_URL]) {
      expect(isTrustedSender(url, DEV), url).toBe(false);
    }
  });
});

describe('permissions, external links and the app:// protocol', () => {
  it('denies every permission request', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'clipboard-sanitized-write', 'midiSysex', 'openExternal', 'fullscreen', 'unknown']) {
      expect(allowPermission(p, APP_ENTRY_URL), p).toBe(false);
    }
  });

  it('opens only https links to allowlisted origins in the system browser', () => {
    expect(mayOpenExternal('https://www.tradingview.com/')).toBe(true);
    for (const url of [
      'https://evil.example/',
      'http://www.tradingview.com/',
      'https://www.tradingview.com.evil.example/',
      'https://user:pw@www.tradingview.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'smb://host/share',
      'not a url',
    ]) {
      expect(mayOpenExternal(url), url).toBe(false);
    }
  });

  it('serves files of the renderer folder only', () => {
    expect(appAssetPath('app://kestrel/')).toBe('index.html');
    expect(appAssetPath('app://kestrel/index.html#/logs')).toBe('index.html');
    expect(appAssetPath('app://kestrel/assets/index-abc.js?v=1')).toBe('assets/index-abc.js');
    expect(appAssetPath('app://kestrel/a%20b.css')).toBe('a b.css');
    // URL parsing folds dot segments before we see them: what is left stays inside the folder.
    expect(appAssetPath('app://kestrel/../../etc/passwd')).toBe('etc/passwd');
    expect(appAssetPath('app://kestrel/%2e%2e/%2e%2e/etc/passwd')).toBe('etc/passwd');
    for (const url of ['app://kestrel/..%2f..%2fetc/passwd', 'app://kestrel/a%5c..%5c..%5cx', 'app://kestrel/x%00.js', 'app://kestrel/assets//x.js', 'app://other/index.html', 'file:///index.html', 'app://kestrel/%E0%A4%A']) {
      expect(appAssetPath(url), url).toBeNull();
    }
    expect(contentTypeOf('assets/index-abc.js')).toMatch(/^text\/javascript/);
    expect(contentTypeOf('index.html')).toMatch(/^text\/html/);
    expect(contentTypeOf('x.exe')).toBe('application/octet-stream');
  });
});

describe('the desktop Content-Security-Policy', () => {
  it('packaged: the page connects nowhere (it talks over IPC) and runs only its own scripts', () => {
    const csp = contentSecurityPolicy(null);
    const directives = new Map(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
    expect(directives.get('connect-src')).toBe("'none'");
    expect(directives.get('script-src')).toBe("'self'");
    expect(directives.get('object-src')).toBe("'none'");
    expect(directives.get('frame-ancestors')).toBe("'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*|ws:(?!\/\/)/);
  });

  it("the page's own meta policy (both hosts) reaches no other host: no bare ws:", () => {
    const html = readFileSync(join(import.meta.dirname, '..', '..', 'src', 'renderer', 'index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? '';
    const connect = meta.split(';').map((d) => d.trim()).find((d) => d.startsWith('connect-src'));
    expect(connect).toBe("connect-src 'self'");
  });

  it('development: adds the dev server and its hot-reload socket, nothing else', () => {
    const csp = contentSecurityPolicy(DEV);
    expect(csp).toContain("connect-src 'self' ws://localhost:5173;");
    expect(csp).not.toMatch(/ws: |ws:;|\*/);
    // A hostile value cannot add a directive: only a parsed host goes in.
    expect(contentSecurityPolicy('http://x; script-src *')).not.toContain('script-src *');
  });
});

describe('the control model: risky commands ask the user first', () => {
  it('halting is never asked; resuming, starting, stopping, restarting, saving settings and importing are', () => {
    expect(confirmationFor('setTradingHalted', { halted: true })).toBeNull();
    expect(confirmationFor('setTradingHalted', { halted: false, variant: 'rb-15m' })?.message).toContain('rb-15m');
    expect(confirmationFor('setTradingHalted', { halted: false })?.message).toContain('every variant');
    const asked: EntryName[] = ['startVariant', 'stopVariant', 'restartVariant', 'updateSettings', 'importBars'];
    for (const entry of asked) expect(confirmationFor(entry, { variant: 'v', fileName: 'f.csv' }), entry).not.toBeNull();
    const silent: EntryName[] = ['listVariants', 'getSnapshot', 'acknowledgeAlert', 'getSettings', 'testBarSource'];
    for (const entry of silent) expect(confirmationFor(entry, {}), entry).toBeNull();
  });

  it('fuses: no RunAsNode, no NODE_OPTIONS or --inspect, encrypted cookies, the app archive only', () => {
    expect(DESKTOP_FUSES).toMatchObject({
      RunAsNode: false,
      EnableNodeOptionsEnvironmentVariable: false,
      EnableNodeCliInspectArguments: false,
      EnableCookieEncryption: true,
      OnlyLoadAppFromAsar: true,
    });
  });

  it('the packaging step flips them in a binary (a fuse wire laid out as Electron ships it)', async () => {
    const tmp = freshDir('fuses');
    try {
      // Electron's own defaults: RunAsNode, NODE_OPTIONS, --inspect and file:// privileges on; the rest off.
      const wire = Buffer.from([1, 8, ...'10110001'].map((c) => (typeof c === 'number' ? c : c.charCodeAt(0))));
      const binary = join(tmp.dir, 'electron');
      writeFileSync(binary, Buffer.concat([Buffer.from('\x7fELF…code…'), Buffer.from(FUSE_SENTINEL), wire, Buffer.from('…more code…')]));
      const flipped = await flipDesktopFuses(binary, 'linux');
      expect(flipped).toEqual(DESKTOP_FUSES);
      const read = await getCurrentFuseWire(binary);
      const on = (o: FuseV1Options): boolean => read[o] === '1'.charCodeAt(0);
      expect(on(FuseV1Options.RunAsNode)).toBe(false);
      expect(on(FuseV1Options.EnableNodeOptionsEnvironmentVariable)).toBe(false);
      expect(on(FuseV1Options.EnableNodeCliInspectArguments)).toBe(false);
      expect(on(FuseV1Options.EnableCookieEncryption)).toBe(true);
      expect(on(FuseV1Options.OnlyLoadAppFromAsar)).toBe(true);
      // A file that is not an Electron binary is refused, not silently "flipped".
      const notElectron = join(tmp.dir, 'not-electron');
      writeFileSync(notElectron, 'plain bytes');
      await expect(flipDesktopFuses(notElectron, 'linux')).rejects.toThrow(/sentinel/);
    } finally {
      tmp.remove();
    }
  });
});

describe('the IPC bridge applies the policy', () => {
  const harness = harnessPerTest('desktop-ipc');
  const start = async (): Promise<{ harness: Harness; dataDir: string }> => {
    const h = await harness({ controlEnabled: true, settings: { demo: { enabled: false, speed: 60, seed: 1 }, variants: [] } });
    return { harness: h, dataDir: h.dataDir };
  };

  it('a stream can be cancelled only by our own frame', async () => {
    const { harness: h, dataDir } = await start();
    const log = join(dataDir, 'logs', 'probe', 'strategy.log');
    mkdirSync(join(dataDir, 'logs', 'probe'), { recursive: true });
    writeFileSync(log, '{"time":"2024-01-02 09:30:00","level":"INFO","message":"first"}\n');
    const trusted = (url: string): boolean => isTrustedSender(url, null);
    const pair = ipcPair(APP_ENTRY_URL);
    registerIpcStreams(pair.main, h.workstation.streams, trusted);
    const items: unknown[] = [];
    const ends: unknown[] = [];
    pair.renderer.on(ipcStreamChannel('tailLog', 'item'), (_e, p) => items.push(p));
    pair.renderer.on(ipcStreamChannel('tailLog', 'end'), (_e, p) => ends.push(p));
    const running = pair.renderer.invoke(ipcStreamChannel('tailLog', 'start'), { id: 's1', params: { file: 'probe/strategy.log', last: 1 } });
    await waitFor('the first line', () => items.length >= 1);

    const evil = pair.rendererAt('https://evil.example/');
    expect(await evil.invoke(ipcStreamChannel('tailLog', 'cancel'), { id: 's1' })).toMatchObject({ ok: false, status: 403 });
    appendFileSync(log, '{"time":"2024-01-02 09:31:00","level":"INFO","message":"second"}\n');
    await waitFor('the stream goes on after the refused cancel', () => items.length >= 2);
    expect(ends).toEqual([]);

    expect(await pair.renderer.invoke(ipcStreamChannel('tailLog', 'cancel'), { id: 's1' })).toMatchObject({ ok: true });
    await running;
    expect(ends).toEqual([{ id: 's1', error: 'cancelled' }]);
  });

  it('a command the user declines never runs (409); one confirmed runs and is audited as usual', async () => {
    const { harness: h } = await start();
    const asked: EntryName[] = [];
    let answer = false;
    const pair = ipcPair(APP_ENTRY_URL);
    registerIpcHandlers(pair.main, h.workstation.handlers, (url) => isTrustedSender(url, null), (entry, params) => {
      if (confirmationFor(entry, params)) asked.push(entry);
      return Promise.resolve(confirmationFor(entry, params) === null || answer);
    });
    const resume = (): Promise<unknown> => pair.renderer.invoke(ipcChannel('setTradingHalted'), { halted: false });
    expect(await resume()).toMatchObject({ ok: false, status: 409 });
    expect(h.alerts.some((a) => a.title === 'Trading resumed')).toBe(false);
    // Halting is not asked: the kill switch acts at once.
    expect(await pair.renderer.invoke(ipcChannel('setTradingHalted'), { halted: true })).toMatchObject({ ok: true });
    answer = true;
    expect(await resume()).toMatchObject({ ok: true });
    await waitFor('the resume alert', () => h.alerts.some((a) => a.title === 'Trading resumed'));
    expect(asked).toEqual(['setTradingHalted', 'setTradingHalted']);
    // Invalid params are refused before anyone is asked.
    expect(await pair.renderer.invoke(ipcChannel('setTradingHalted'), { halted: 'no' })).toMatchObject({ ok: false, status: 400 });
    expect(asked).toHaveLength(2);
  });
});
