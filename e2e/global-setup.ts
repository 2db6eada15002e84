import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * `bin/kestrel.js` builds only when nothing is built, so a build left over from older
 * sources would be tested instead of the code at hand. Rebuild when any source is newer
 * (KESTREL_E2E_SKIP_BUILD=1 skips this and tests out/ as it is).
 */
const root = resolve(import.meta.dirname, '..');
const outputs = [join(root, 'out', 'main', 'cli.js'), join(root, 'out', 'renderer', 'index.html')];
const inputs = [join(root, 'src'), join(root, 'electron.vite.config.ts'), join(root, 'package.json')];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export default function globalSetup(): void {
  // For a run against a build made otherwise (e.g. while other sources are mid-edit).
  if (process.env.KESTREL_E2E_SKIP_BUILD === '1') return;
  const builtAt = Math.min(...outputs.map((o) => (existsSync(o) ? statSync(o).mtimeMs : 0)));
  const sourcesAt = Math.max(...inputs.map(newestMtime));
  if (builtAt > 0 && builtAt >= sourcesAt) return;
  process.stderr.write('e2e: sources are newer than out/: running electron-vite build\n');
  const viteBin = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  const result = spawnSync(process.execPath, [viteBin, 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`electron-vite build failed (exit ${result.status ?? result.signal})`);
}
