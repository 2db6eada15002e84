/**
 * The Data screen's server side: scanning a long 1-minute series for gaps, and importing a file
 * of the largest size the API takes (50 MB) through REST into SQLite.
 * `node --import tsx bench/run.ts dataScreen`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TradingCalendar } from '../src/core/market/tradingCalendar.js';
import { findBarGaps } from '../src/io/barGaps.js';
import { SqliteBarStore } from '../src/io/sqliteBarStore.js';
import { ApiServer } from '../src/main/node/apiServer.js';
import { NodeHost } from '../src/main/node/nodeHost.js';
import { openSettingsFile } from '../src/main/workstation/settingsFile.js';
import { Workstation } from '../src/main/workstation/workstation.js';
import type { StoredBar } from '../src/shared/bar.js';
import { settingsSchema } from '../src/shared/config.js';
import { MAX_IMPORT_CONTENT_CHARS } from '../src/shared/contract/data.js';
import { formatDatetime, parseDatetime } from '../src/shared/time.js';
import type { BenchFigure } from './figure.js';

const GAP_BARS = 500_000;

async function gapScan(dir: string): Promise<BenchFigure[]> {
  const store = SqliteBarStore.open(join(dir, 'gaps.db'));
  const calendar = new TradingCalendar();
  let t = calendar.firstOpenMinuteAtOrAfter(parseDatetime('2018-01-02 09:00:00') as number);
  let batch: StoredBar[] = [];
  let written = 0;
  let removed = 0;
  for (let i = 0; written < GAP_BARS; i++) {
    // About one minute in 997 missing, as a recorder that drops the odd minute.
    if (i % 997 === 500) removed++;
    else {
      batch.push({ symbol: 'rb9999', exchange: 'SHFE', interval: '1m', time: t, open: 3600, high: 3601, low: 3599, close: 3600, volume: 1, turnover: 0, openInterest: 0 });
      written++;
    }
    if (batch.length === 50_000) {
      store.writeSync(batch);
      batch = [];
    }
    t = calendar.nextOpenMinute(t);
  }
  if (batch.length > 0) store.writeSync(batch);
  const key = { symbol: 'rb9999', exchange: 'SHFE', interval: '1m' as const };
  const t0 = process.hrtime.bigint();
  const scan = await findBarGaps(store, key);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  store.closeSync();
  return [
    {
      name: `gap scan, ${GAP_BARS.toLocaleString('en-US')} SQLite bars (China sessions)`,
      value: seconds * 1000,
      unit: 'ms',
      note: `${Math.round(GAP_BARS / seconds).toLocaleString('en-US')} bars/s; ${scan.totalGaps} gaps found of ${removed} minutes removed`,
    },
  ];
}

async function restImport(dir: string): Promise<BenchFigure[]> {
  const dataDir = join(dir, 'import');
  const host = new NodeHost(undefined, () => undefined);
  const settings = settingsSchema.parse({ demo: { enabled: false } });
  const workstation = new Workstation({ host, dataDir, settings, controlEnabled: true, version: 'bench', settingsStore: openSettingsFile(dir) });
  await workstation.start();
  const server = new ApiServer({ handlers: workstation.handlers, streams: workstation.streams, bus: workstation.bus, token: 't', controlEnabled: true, rendererDir: null });
  const { port } = await server.listen();
  try {
    const lines = ['datetime,open,high,low,close,volume,turnover,open_interest'];
    let size = lines[0]!.length + 1;
    let time = parseDatetime('2010-01-04 00:00:00') as number;
    for (let i = 0; ; i++) {
      const open = 3600 + (i % 37) * 0.5;
      const line = `${formatDatetime(time)},${open},${open + 2.5},${open - 2},${open + 1},${100 + (i % 91)},${(100 + (i % 91)) * open * 10},${50000 + i}`;
      if (size + line.length + 1 > MAX_IMPORT_CONTENT_CHARS - 100) break;
      lines.push(line);
      size += line.length + 1;
      time += 60;
    }
    const content = lines.join('\n');
    const rows = lines.length - 1;
    let peakRss = process.memoryUsage().rss;
    const baseRss = peakRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 20);
    const t0 = process.hrtime.bigint();
    const res = await fetch(`http://127.0.0.1:${port}/api/data/import`, {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: JSON.stringify({ fileName: 'big.csv', content, format: 'csv', symbol: 'big', exchange: 'SHFE' }),
    });
    const body = (await res.json()) as { rowsWritten?: number; error?: string };
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    clearInterval(sampler);
    if (res.status !== 200) throw new Error(`import answered ${res.status}: ${body.error ?? ''}`);
    return [
      {
        name: `REST import, ${(content.length / 1024 / 1024).toFixed(1)} MB CSV (${rows.toLocaleString('en-US')} rows) into SQLite`,
        value: seconds,
        unit: 's',
        note: `${Math.round(rows / seconds).toLocaleString('en-US')} rows/s end to end; rows written ${body.rowsWritten ?? 0}; RSS rose by at most ${Math.round((peakRss - baseRss) / 1024 / 1024)} MB (client and server in one process)`,
      },
    ];
  } finally {
    await server.close();
    await workstation.stop();
    host.killAll();
  }
}

export async function run(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-bench-data-'));
  try {
    return [...(await gapScan(dir)), ...(await restImport(dir))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
