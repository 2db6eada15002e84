#!/usr/bin/env node
// `npm start`: the desktop app. Electron (from v45) fetches its binary at first launch, not
// at install; where it cannot be fetched (an offline machine, CI) this says so in one line
// and points to the headless workstation, which runs the same code in a browser tab.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// Resolving the electron package downloads its binary on first use; do it in a child so
// that a failed download is summarised in one line instead of a downloader's stack trace.
const probe = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], {
  cwd: root,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
});
const electronPath = probe.status === 0 ? probe.stdout.trim() : '';
if (!electronPath || !existsSync(electronPath)) {
  const reason = /fetch failed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT/.test(probe.stderr ?? '') ? 'no network to download it' : 'download or install failed';
  console.error(
    `Kestrel desktop: the Electron binary could not be fetched on this machine (${reason}); ` +
      'run `npm run serve` for the headless workstation in your browser.',
  );
  process.exit(1);
}

const build = spawnSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);

// better-sqlite3 is built for Node's ABI (tests and `npm run serve` use it); Electron needs
// its own copy of the native binding, built once against Electron's headers.
const electronVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
const bindingDir = join(root, '.electron-native', electronVersion);
const binding = join(bindingDir, 'better_sqlite3.node');
if (!existsSync(binding)) {
  console.error(`Kestrel desktop: building better-sqlite3 for Electron ${electronVersion} (once)…`);
  const work = mkdtempSync(join(tmpdir(), 'kestrel-sqlite-'));
  cpSync(join(root, 'node_modules', 'better-sqlite3'), work, { recursive: true });
  const gyp = spawnSync(
    'npx',
    ['--yes', 'node-gyp', 'rebuild', '--release', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers'],
    { cwd: work, stdio: 'inherit' },
  );
  if (gyp.status !== 0) {
    console.error('Kestrel desktop: could not build better-sqlite3 for Electron; `npm run serve` still works.');
    process.exit(1);
  }
  mkdirSync(bindingDir, { recursive: true });
  cpSync(join(work, 'build', 'Release', 'better_sqlite3.node'), binding);
  rmSync(work, { recursive: true, force: true });
}

const child = spawn(electronPath, [join(root, 'out', 'main', 'index.js'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, KESTREL_SQLITE_BINDING: binding },
});
child.on('exit', (code) => process.exit(code ?? 0));
