/**
 * `npm run bench`: runs every bench/*.bench.ts module in this one process and prints
 * its figures. A module exports `run(): Promise<BenchFigure[]>`. Figures are printed,
 * never asserted.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchFigure } from './figure.js';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const modules = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

for (const file of modules) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { run: () => Promise<BenchFigure[]> };
  console.log(`\n# ${file}`);
  const figures = await mod.run();
  for (const f of figures) {
    const peer = f.peer ? `   (${f.peer.name}: ${fmt(f.peer.value)} ${f.unit}; ratio ${(f.value / f.peer.value).toFixed(2)}x)` : '';
    console.log(`${f.name.padEnd(52)} ${fmt(f.value).padStart(14)} ${f.unit}${peer}`);
    if (f.note) console.log(`    ${f.note}`);
  }
}

function fmt(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(3);
}
