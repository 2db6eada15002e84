/**
 * Reading 1-minute bars from the bar stores, in rows/s, each beside a peer measured in the same
 * process on the same rows:
 *   SQLite: SqliteBarStore.loadRange (async chunks → OhlcvBar objects) vs a raw better-sqlite3
 *           `.raw().iterate()` of the same SELECT with no conversion at all (the floor).
 *   MariaDB: MysqlBarStore.loadRange (keyset-paginated chunks → OhlcvBar objects) vs one raw
 *           mysql2 query of the same rows (rowsAsArray, no conversion).
 * And the restore warm-up: 50 instruments × 18,000 one-minute bars from SQLite through
 * AnalysisPipeline (N = 30) into ready signal state.
 *
 * ~1 M generated rows are written once into a temp SQLite file and a temp MariaDB database
 * (127.0.0.1:3306, root), both removed afterwards. Set KESTREL_BENCH_ROWS to change the count.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { AnalysisPipeline } from '../src/core/analysisPipeline.js';
import type { BarKey } from '../src/io/barStore.js';
import { MysqlBarStore } from '../src/io/mysqlBarStore.js';
import { SqliteBarStore } from '../src/io/sqliteBarStore.js';
import type { StoredBar } from '../src/shared/bar.js';
import { bestOf, bestOfAsync, type BenchFigure } from './figure.js';

const ROWS = Number(process.env.KESTREL_BENCH_ROWS ?? 1_000_000);
const WARMUP_INSTRUMENTS = 50;
const WARMUP_BARS = 18_000;
const T0 = Date.UTC(2021, 0, 4, 9, 0) / 1000;
const SELECT_SQL =
  'SELECT `datetime`, `open_price`, `high_price`, `low_price`, `close_price`, `volume`, `turnover`, `open_interest` ' +
  'FROM `dbbardata` WHERE `symbol` = ? AND `exchange` = ? AND `interval` = ? ORDER BY `datetime`';

/** A seeded random walk: 1-minute bars without gaps (the read path does not care about sessions). */
function* randomWalk(symbol: string, exchange: string, count: number, seed: number): Generator<StoredBar[]> {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 4_294_967_296;
  };
  let price = 3000 + seed * 10;
  let batch: StoredBar[] = [];
  for (let i = 0; i < count; i++) {
    const open = price;
    const close = Math.round((open + (rand() - 0.5) * 8) * 2) / 2;
    const high = Math.max(open, close) + Math.round(rand() * 6) / 2;
    const low = Math.min(open, close) - Math.round(rand() * 6) / 2;
    const volume = 50 + Math.floor(rand() * 500);
    batch.push({ symbol, exchange, interval: '1m', time: T0 + i * 60, open, high, low, close, volume, turnover: volume * close * 10, openInterest: 100_000 + i });
    price = close;
    if (batch.length === 50_000) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function sqliteFigures(dir: string): Promise<BenchFigure[]> {
  const store = SqliteBarStore.open(join(dir, 'bench.db'));
  const key: BarKey = { symbol: 'rb8888', exchange: 'SHFE', interval: '1m' };
  try {
    for (const batch of randomWalk(key.symbol, key.exchange, ROWS, 1)) store.writeSync(batch);
    for (let i = 0; i < WARMUP_INSTRUMENTS; i++) {
      for (const batch of randomWalk(`w${i}`, 'DCE', WARMUP_BARS, i + 2)) store.writeSync(batch);
    }

    let n = 0;
    const loadRange = await bestOfAsync(3, async () => {
      n = 0;
      for await (const chunk of store.loadRange(key)) n += chunk.length;
    });
    if (n !== ROWS) throw new Error(`SQLite loadRange read ${n} rows, expected ${ROWS}`);
    const raw = store.db.prepare(SELECT_SQL.replaceAll('`', '"')).raw(true);
    let m = 0;
    const floor = bestOf(3, () => {
      m = 0;
      for (const _row of raw.iterate(key.symbol, key.exchange, key.interval)) m++;
    });
    if (m !== ROWS) throw new Error(`raw iterate read ${m} rows, expected ${ROWS}`);
    const sync = bestOf(3, () => {
      for (const _chunk of store.loadRangeSync(key)) {
        /* reading is the work */
      }
    });

    // Restore warm-up: read each instrument's history and replay it into signal state.
    let windows = 0;
    const warmup = bestOf(3, () => {
      windows = 0;
      for (let i = 0; i < WARMUP_INSTRUMENTS; i++) {
        const k: BarKey = { symbol: `w${i}`, exchange: 'DCE', interval: '1m' };
        const pipeline = new AnalysisPipeline({ windowMinutes: 30 });
        for (const bar of store.loadLastSync(k, WARMUP_BARS)) {
          pipeline.pushMinuteValues(bar.time, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.turnover, bar.openInterest);
        }
        pipeline.signalState();
        windows += pipeline.windowBarCount;
      }
    });
    const warmupAsync = await bestOfAsync(3, async () => {
      for (let i = 0; i < WARMUP_INSTRUMENTS; i++) {
        const k: BarKey = { symbol: `w${i}`, exchange: 'DCE', interval: '1m' };
        const pipeline = new AnalysisPipeline({ windowMinutes: 30 });
        for await (const chunk of store.loadRange(k)) for (const bar of chunk) pipeline.pushMinute(bar);
        pipeline.signalState();
      }
    });

    return [
      {
        name: 'SQLite loadRange (async chunks → OhlcvBar)',
        value: ROWS / loadRange,
        unit: 'rows/s',
        peer: { name: 'better-sqlite3 raw().iterate(), no conversion', value: ROWS / floor },
        note: `${ROWS.toLocaleString('en-US')} rows, chunks of 10,000, best of 3; target ≥ 1,000,000 rows/s`,
      },
      {
        name: 'SQLite loadRangeSync (warm-up path)',
        value: ROWS / sync,
        unit: 'rows/s',
        peer: { name: 'better-sqlite3 raw().iterate(), no conversion', value: ROWS / floor },
      },
      {
        name: `warm-up ${WARMUP_INSTRUMENTS}×${WARMUP_BARS.toLocaleString('en-US')} 1m bars → signal state (N=30)`,
        value: warmup,
        unit: 's',
        note: `loadLastSync + AnalysisPipeline.pushMinuteValues, ${windows.toLocaleString('en-US')} window bars in all; async loadRange + pushMinute: ${warmupAsync.toFixed(3)} s; target < 1 s`,
      },
    ];
  } finally {
    store.closeSync();
  }
}

async function mysqlFigures(): Promise<BenchFigure[]> {
  const admin = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };
  const name = `kestrel_t_bench_${process.pid}`;
  const c = await mysql.createConnection(admin);
  await c.query(`CREATE DATABASE \`${name}\``);
  await c.end();
  const store = await MysqlBarStore.connect(`mysql://root@127.0.0.1:3306/${name}`);
  const key: BarKey = { symbol: 'rb8888', exchange: 'SHFE', interval: '1m' };
  const rawConn = await mysql.createConnection({ ...admin, database: name, dateStrings: true });
  try {
    const t0 = process.hrtime.bigint();
    for (const batch of randomWalk(key.symbol, key.exchange, ROWS, 1)) await store.write(batch);
    const writeSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

    let n = 0;
    const loadRange = await bestOfAsync(3, async () => {
      n = 0;
      for await (const chunk of store.loadRange(key)) n += chunk.length;
    });
    if (n !== ROWS) throw new Error(`MySQL loadRange read ${n} rows, expected ${ROWS}`);
    let m = 0;
    const raw = await bestOfAsync(3, async () => {
      const [rows] = await rawConn.query({ sql: SELECT_SQL, values: [key.symbol, key.exchange, key.interval], rowsAsArray: true });
      m = (rows as unknown[]).length;
    });
    if (m !== ROWS) throw new Error(`raw mysql2 query read ${m} rows, expected ${ROWS}`);
    return [
      {
        name: 'MariaDB loadRange (keyset chunks → OhlcvBar)',
        value: ROWS / loadRange,
        unit: 'rows/s',
        peer: { name: 'mysql2 one raw query, rowsAsArray, no conversion', value: ROWS / raw },
        note: `${ROWS.toLocaleString('en-US')} rows, chunks of 10,000, best of 3; target ≥ 300,000 rows/s`,
      },
      {
        name: 'MariaDB write (batched upsert, one transaction per 50k)',
        value: ROWS / writeSeconds,
        unit: 'rows/s',
      },
    ];
  } finally {
    await rawConn.end();
    await store.close();
    const d = await mysql.createConnection(admin);
    await d.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await d.end();
  }
}

export async function run(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-bench-'));
  try {
    const figures = await sqliteFigures(dir);
    figures.push(...(await mysqlFigures()));
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
