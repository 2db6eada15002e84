/**
 * `kestrel analyze` on 100 k and 1 M one-minute bars (a session-calendar random walk, SQLite):
 * its peak RSS (GNU time's maximum resident set) beside an empty Node process's, and its
 * throughput in one-minute bars per second written as CSV (to /dev/null), whole process
 * included, beside the target (issue 13 item 5: ≥ 1 M bars/s; constant memory).
 *
 * Runs the built CLI (`node bin/kestrel.js`): build first (`npx electron-vite build`). The bar
 * files are generated once into bench/.data/ (gitignored) and reused.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { storedBarAt } from '../src/core/backtest/columnarBars.js';
import { SqliteBarStore } from '../src/io/sqliteBarStore.js';
import type { StoredBar } from '../src/shared/bar.js';
import { generateBarColumns } from './barColumns.js';
import type { BenchFigure } from './figure.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DATA_DIR = join(ROOT, 'bench', '.data');
const SIZES = [100_000, 1_000_000];
const TARGET_BARS_PER_S = 1_000_000;

function dataDirFor(bars: number): string {
  const dir = join(DATA_DIR, `analyze-${bars}`);
  if (existsSync(join(dir, 'kestrel.db'))) return dir;
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const store = SqliteBarStore.open(join(tmp, 'kestrel.db'));
  const c = generateBarColumns(bars);
  let batch: StoredBar[] = [];
  for (let i = 0; i < c.length; i++) {
    batch.push(storedBarAt(c, i, 'rb8888', 'SHFE'));
    if (batch.length === 50_000) {
      store.writeSync(batch);
      batch = [];
    }
  }
  if (batch.length > 0) store.writeSync(batch);
  store.close();
  renameSync(tmp, dir);
  return dir;
}

/** Peak RSS (MB) and wall seconds of a command, from GNU time. */
function measured(args: string[]): { rssMb: number; seconds: number } {
  const res = spawnSync('/usr/bin/time', ['-f', '%M %e', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const last = res.stderr.trim().split('\n').at(-1) ?? '';
  const [kb, s] = last.split(' ').map(Number);
  if (res.status !== 0 || kb === undefined || s === undefined || Number.isNaN(kb)) throw new Error(`${args.join(' ')} failed: ${res.stderr}`);
  return { rssMb: kb / 1024, seconds: s };
}

export async function run(): Promise<BenchFigure[]> {
  if (!existsSync(join(ROOT, 'out', 'main', 'cli.js'))) throw new Error('build first: npx electron-vite build');
  const figures: BenchFigure[] = [];
  const bare = measured(['node', '-e', '']);
  for (const bars of SIZES) {
    const dir = dataDirFor(bars);
    const run = measured(['node', 'bin/kestrel.js', 'analyze', '--vt-symbol', 'rb8888.SHFE', '--window', '15', '--format', 'csv', '--data-dir', dir]);
    const label = bars.toLocaleString('en-US');
    figures.push({ name: `analyze ${label} bars → CSV: peak RSS`, value: run.rssMb, unit: 'MB', peer: { name: 'node -e ""', value: bare.rssMb } });
    figures.push({
      name: `analyze ${label} bars → CSV: throughput`,
      value: bars / run.seconds,
      unit: 'bars/s',
      peer: { name: 'target, issue 13 item 5', value: TARGET_BARS_PER_S },
      note: `${run.seconds.toFixed(2)} s wall, process start included`,
    });
    // The floor under analyze: reading the rows alone from SQLite (better-sqlite3, keyset chunks), in this process.
    const store = SqliteBarStore.open(join(dir, 'kestrel.db'), { readonly: true });
    let read = 0;
    const t0 = process.hrtime.bigint();
    for (const chunk of store.loadRangeSync({ symbol: 'rb8888', exchange: 'SHFE', interval: '1m' })) read += chunk.length;
    const readSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    store.close();
    figures.push({
      name: `bar store read alone, ${label} bars`,
      value: read / readSeconds,
      unit: 'bars/s',
      peer: { name: 'analyze → CSV, same bars', value: bars / run.seconds },
      note: 'SqliteBarStore.loadRangeSync: rows to bars, nothing else',
    });
  }
  return figures;
}
