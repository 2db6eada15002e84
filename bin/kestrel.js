#!/usr/bin/env node
// The `kestrel` command. It runs the built CLI (out/main/cli.js); on a fresh clone, where
// nothing is built yet, it builds once first so that `npx kestrel …` just works.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'out', 'main', 'cli.js');

if (!existsSync(cli)) {
  process.stderr.write('Kestrel is not built yet: building it once (electron-vite build)…\n');
  const viteBin = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  const result = spawnSync(process.execPath, [viteBin, 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0 || !existsSync(cli)) {
    process.stderr.write('kestrel: the build failed; run `npm run build` to see why\n');
    process.exit(1);
  }
}

const { runCli } = await import(pathToFileURL(cli).href);
const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() });
process.exitCode = code;
