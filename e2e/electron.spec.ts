import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';

/**
 * The desktop app through Playwright's Electron driver. Electron fetches its binary at first
 * launch; on a machine that cannot (this CI has no network beyond the package registries)
 * the test is skipped and says why. Everything it would check also runs through the
 * headless host in the other specs.
 */
const root = join(import.meta.dirname, '..');
const pathFile = join(root, 'node_modules', 'electron', 'path.txt');
const binary = existsSync(pathFile) ? join(root, 'node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim()) : null;
const binaryPresent = binary !== null && existsSync(binary);

test.describe('desktop (Electron)', () => {
  test.skip(!binaryPresent, 'the Electron binary is not on this machine (it is fetched at first launch and could not be downloaded here)');

  test('opens the window with the preload bridge and lists the demo variants', async () => {
    const userData = mkdtempSync(join(tmpdir(), 'kestrel-electron-'));
    const app = await electron.launch({
      executablePath: binary as string,
      args: [join(root, 'out', 'main', 'index.js'), `--user-data-dir=${userData}`],
      env: { ...process.env, KESTREL_SQLITE_BINDING: process.env.KESTREL_SQLITE_BINDING ?? '' },
    });
    const window = await app.firstWindow();
    const bridge = await window.evaluate(() => Object.keys((window as unknown as { kestrel: object }).kestrel).sort());
    expect(bridge).toContain('listVariants');
    expect(bridge).not.toContain('invoke');
    await expect(window.getByText('demo-15m')).toBeVisible({ timeout: 60_000 });
    // Served from app://, not file:// (src/main/desktopPolicy.ts).
    expect(window.url()).toMatch(/^app:\/\/kestrel\/index\.html/);
    // Every permission request is denied.
    expect(await window.evaluate(() => Notification.requestPermission())).toBe('denied');
    // connect-src 'none': the page talks over IPC only and can reach no server.
    const reached = await window.evaluate(async () => {
      try {
        await fetch('http://127.0.0.1:9/');
        return 'reached';
      } catch {
        return 'blocked';
      }
    });
    expect(reached).toBe('blocked');
    await app.close();
  });
});
