/**
 * Worker memory over a long run: one real worker process (the same entry the supervisor
 * forks) follows a SQLite bar store while this process writes 1,000,000 one-minute bars
 * into it in chunks; the worker's resident set size is read from /proc after each stage.
 * The worker is the built one (out/main/worker.js, what both hosts fork, with the hosts' V8
 * flags): from source it would also carry tsx's loader. Build first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedMarket } from '../src/core/market/simulatedMarket.js';
import { SqliteBarStore } from '../src/io/sqliteBarStore.js';
import { NodeHost } from '../src/main/node/nodeHost.js';
import { workerLaunchSchema } from '../src/shared/workerProtocol.js';
import { formatDatetime, parseDatetime } from '../src/shared/time.js';
import type { BenchFigure } from './figure.js';

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN');
  return kb / 1024;
}

/** What Node itself takes, measured now beside the worker. */
function bareNodeRssMb(): number {
  const out = spawnSync(process.execPath, ['-e', 'setTimeout(() => process.stdout.write(String(process.memoryUsage().rss)), 200)'], { encoding: 'utf8' });
  return Number(out.stdout) / 1048576;
}

function lastBarOf(dataDir: string): string | null {
  try {
    const snap = JSON.parse(readFileSync(join(dataDir, 'monitor', 'snapshot_mem-15m.json'), 'utf8')) as { instruments: { lastBarAt: string | null }[] };
    return snap.instruments[0]?.lastBarAt ?? null;
  } catch {
    return null;
  }
}

async function until(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function run(): Promise<BenchFigure[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kestrel-mem-'));
  const store = SqliteBarStore.open(join(dataDir, 'kestrel.db'));
  const market = new SimulatedMarket({
    seed: 9,
    instruments: [{ symbol: 'rb9999', exchange: 'SIM', startPrice: 3600, priceTick: 1, baseVolume: 1000 }],
    startTime: parseDatetime('2015-01-05 09:00:00') as number,
  });
  const write = async (minutes: number): Promise<string> => {
    let last = '';
    for (let done = 0; done < minutes; done += 20_000) {
      const bars = [];
      for (let i = 0; i < Math.min(20_000, minutes - done); i++) bars.push(...market.nextMinute());
      await store.write(bars);
      last = formatDatetime(bars[bars.length - 1]?.time ?? 0);
    }
    return last;
  };
  await write(20 * 345);
  // The shipped worker (out/main/worker.js, what both hosts fork); from source it would also carry tsx's loader.
  const built = join(import.meta.dirname, '..', 'out', 'main', 'worker.js');
  if (!existsSync(built)) throw new Error('build first: npx electron-vite build');
  const host = new NodeHost({ path: built, execArgv: [] });
  const worker = host.forkWorker(
    workerLaunchSchema.parse({
      variant: { name: 'mem-15m', vtSymbol: 'rb9999.SIM', windowMinutes: 15, pollMs: 20, params: { stopLoss: { unit: 'ticks', value: 30 }, takeProfit: { unit: 'ticks', value: 60 } } },
      dataDir,
      barSource: { kind: 'sqlite', path: join(dataDir, 'kestrel.db') },
      sourceLabel: 'replay',
    }),
  );
  const pid = worker.pid as number;
  const bare = bareNodeRssMb();
  const figures: BenchFigure[] = [];
  try {
    await until('restore', () => lastBarOf(dataDir) !== null, 60_000);
    let fed = 0;
    const t0 = Date.now();
    for (const stage of [100_000, 250_000, 500_000, 1_000_000]) {
      const last = await write(stage - fed);
      fed = stage;
      await until(`worker at ${last}`, () => lastBarOf(dataDir) === last, 300_000);
      if (typeof global.gc === 'function') global.gc();
      await new Promise((r) => setTimeout(r, 300));
      figures.push({ name: `worker RSS after ${stage.toLocaleString('en-US')} bars`, value: rssMb(pid), unit: 'MB', peer: { name: 'an idle node -e process', value: bare } });
    }
    const seconds = (Date.now() - t0) / 1000;
    figures.push({
      name: 'live follow throughput (store → strategy → journal)',
      value: 1_000_000 / seconds,
      unit: '1m bars/s',
      note: 'includes this process writing the bars into SQLite in 20k-row transactions',
    });
  } finally {
    worker.send({ type: 'stop' });
    await new Promise((r) => setTimeout(r, 500));
    host.killAll();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return figures;
}
