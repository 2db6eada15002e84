import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BarStoreConfigError,
  BarStoreReadOnlyError,
  BarStoreUnavailableError,
  type BarKey,
  type BarStore,
} from '../../src/io/barStore.js';
import { MysqlBarStore, parseMysqlUrl } from '../../src/io/mysqlBarStore.js';
import { openBarStore } from '../../src/io/openBarStore.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import type { OhlcvBar } from '../../src/shared/bar.js';
import {
  MYSQL_ADMIN,
  collect,
  createTempDir,
  createTempMysqlDb,
  makeBars,
  ohlcvOf,
  startFlakyProxy,
  type TempDir,
  type TempMysqlDb,
} from './storeFixtures.js';

const T0 = Date.UTC(2024, 0, 2, 9, 0, 0) / 1000; // 2024-01-02 09:00:00 local
const RB: BarKey = { symbol: 'rb2501', exchange: 'SHFE', interval: '1m' };
const IF: BarKey = { symbol: 'IF2501', exchange: 'CFFEX', interval: '1m' };

let dir: TempDir;
let db: TempMysqlDb;

beforeAll(async () => {
  dir = createTempDir();
  db = await createTempMysqlDb();
});
afterAll(async () => {
  dir.remove();
  await db.drop();
});

type Factory = () => Promise<BarStore>;
let sqliteSeq = 0;
const factories: [string, Factory][] = [
  ['sqlite', async () => SqliteBarStore.open(join(dir.path, `bars${++sqliteSeq}.db`))],
  [
    'mysql',
    async () => {
      const store = await MysqlBarStore.connect(db.url);
      // Each case starts from empty tables in the shared per-file database.
      const c = await mysql.createConnection({ ...MYSQL_ADMIN, database: db.name });
      await c.query('DELETE FROM dbbardata');
      await c.query('DELETE FROM dbbaroverview');
      await c.end();
      return store;
    },
  ],
];

describe.each(factories)('%s bar store', (kind, open) => {
  it('round-trips bars: loadRange in chunks equals what was written, per key', async () => {
    const store = await open();
    try {
      expect(store.kind).toBe(kind);
      const rb = makeBars('rb2501', 'SHFE', T0, 2_500);
      const ifBars = makeBars('IF2501', 'CFFEX', T0 + 30, 700, { basePrice: 4000 });
      // Written out of order and interleaved: the store, not the writer, sorts.
      const mixed = [...rb.slice(1000), ...ifBars, ...rb.slice(0, 1000)];
      expect(await store.write(mixed)).toBe(3_200);

      const all = await collect(store.loadRange(RB, { chunkSize: 300 }));
      expect(all.items).toEqual(rb.map(ohlcvOf));
      expect(all.chunkSizes).toEqual([...Array(8).fill(300), 100]);

      const ifAll = await collect(store.loadRange(IF));
      expect(ifAll.items).toEqual(ifBars.map(ohlcvOf));
      expect(ifAll.chunkSizes).toEqual([700]);

      // Inclusive bounds.
      const from = T0 + 10 * 60;
      const to = T0 + 19 * 60;
      const part = await collect(store.loadRange(RB, { from, to, chunkSize: 4 }));
      expect(part.items.map((b) => b.time)).toEqual(Array.from({ length: 10 }, (_, i) => from + i * 60));
      expect(part.chunkSizes).toEqual([4, 4, 2]);

      // A chunk size that divides the range exactly ends without an empty chunk.
      const exact = await collect(store.loadRange(RB, { from, to, chunkSize: 5 }));
      expect(exact.chunkSizes).toEqual([5, 5]);

      expect(await collect(store.loadRange({ ...RB, symbol: 'nothing' }))).toEqual({ items: [], chunkSizes: [] });
    } finally {
      await store.close();
    }
  });

  it('loadLast, loadAfter and lastTime agree with the written series', async () => {
    const store = await open();
    try {
      const rb = makeBars('rb2501', 'SHFE', T0, 1_000);
      await store.write(rb);
      const whole = (await collect(store.loadRange(RB, { chunkSize: 97 }))).items;
      expect(await store.loadLast(RB, 1_000)).toEqual(whole);
      expect(await store.loadLast(RB, 5_000)).toEqual(whole);
      expect(await store.loadLast(RB, 3)).toEqual(rb.slice(-3).map(ohlcvOf));
      // `before` is strict.
      expect(await store.loadLast(RB, 2, { before: rb[10]!.time })).toEqual([rb[8], rb[9]].map((b) => ohlcvOf(b!)));
      expect(await store.loadLast(RB, 0)).toEqual([]);

      expect(await store.loadAfter(RB, rb[995]!.time, 10)).toEqual(rb.slice(996).map(ohlcvOf));
      expect(await store.loadAfter(RB, rb[100]!.time, 2)).toEqual([rb[101], rb[102]].map((b) => ohlcvOf(b!)));
      expect(await store.loadAfter(RB, rb[999]!.time, 10)).toEqual([]);
      // A time between two bars: the next bar follows.
      expect((await store.loadAfter(RB, rb[5]!.time + 30, 1))[0]?.time).toBe(rb[6]!.time);

      expect(await store.lastTime(RB)).toBe(rb[999]!.time);
      expect(await store.lastTime(IF)).toBeNull();

      // A follower sees new rows appended after its last time.
      const more = makeBars('rb2501', 'SHFE', rb[999]!.time + 60, 3);
      await store.write(more);
      expect(await store.loadAfter(RB, rb[999]!.time, 100)).toEqual(more.map(ohlcvOf));
    } finally {
      await store.close();
    }
  });

  it('loadLast of more bars than a chunk reads the same as a small one would', async () => {
    const store = await open();
    try {
      const rb = makeBars('rb2501', 'SHFE', T0, 25_000);
      await store.write(rb);
      expect(await store.loadLast(RB, 21_000, { before: rb[24_000]!.time })).toEqual(rb.slice(3_000, 24_000).map(ohlcvOf));
      expect(await store.loadLast(RB, 30_000)).toEqual(rb.map(ohlcvOf));
      expect(await store.loadLast(RB, 10_001)).toEqual(rb.slice(-10_001).map(ohlcvOf));
    } finally {
      await store.close();
    }
  });

  it('re-writing is idempotent, replaces values on the unique key, and keeps the overview right', async () => {
    const store = await open();
    try {
      const rb = makeBars('rb2501', 'SHFE', T0, 600);
      await store.write(rb);
      await store.write(rb);
      expect(await store.overview()).toEqual([
        {
          symbol: 'rb2501',
          exchange: 'SHFE',
          interval: '1m',
          count: 600,
          start: '2024-01-02 09:00:00',
          end: '2024-01-02 18:59:00',
        },
      ]);

      // Same keys, new prices: replaced, not added.
      const corrected = rb.slice(100, 110).map((b) => ({ ...b, close: b.close + 100, high: b.high + 100 }));
      expect(await store.write(corrected)).toBe(10);
      const after = await store.loadLast(RB, 600);
      expect(after).toHaveLength(600);
      expect(after.slice(100, 110)).toEqual(corrected.map(ohlcvOf));
      expect(after[99]).toEqual(ohlcvOf(rb[99]!));

      // Earlier history and a second key: start moves, the other key gets its own row.
      const earlier = makeBars('rb2501', 'SHFE', T0 - 86_400, 60);
      await store.write([...earlier, ...makeBars('IF2501', 'CFFEX', T0, 5)]);
      expect(await store.overview()).toEqual([
        {
          symbol: 'IF2501',
          exchange: 'CFFEX',
          interval: '1m',
          count: 5,
          start: '2024-01-02 09:00:00',
          end: '2024-01-02 09:04:00',
        },
        {
          symbol: 'rb2501',
          exchange: 'SHFE',
          interval: '1m',
          count: 660,
          start: '2024-01-01 09:00:00',
          end: '2024-01-02 18:59:00',
        },
      ]);
      expect(await store.write([])).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('refuses a non-finite price and stores nothing of that batch', async () => {
    const store = await open();
    try {
      const rb = makeBars('rb2501', 'SHFE', T0, 10);
      rb[7] = { ...rb[7]!, close: Number.NaN };
      await expect(store.write(rb)).rejects.toThrow(/bar 7 .*close NaN is not a finite number/);
      expect(await store.loadLast(RB, 100)).toEqual([]);
      expect(await store.overview()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('SQLite and MySQL give identical reads', () => {
  it('for the same written bars', async () => {
    const sqlite = SqliteBarStore.open(join(dir.path, 'same.db'));
    const other = await createTempMysqlDb();
    const my = await MysqlBarStore.connect(other.url);
    try {
      // Awkward floats, a day boundary, a month end and a leap day.
      const bars = [
        ...makeBars('rb2501', 'SHFE', Date.UTC(2024, 1, 28, 23, 50) / 1000, 1_500),
        ...makeBars('rb2501', 'SHFE', Date.UTC(2024, 0, 31, 23, 58) / 1000, 5),
      ].map((b, i) => ({ ...b, close: b.close + 0.1 + i * 1e-7, turnover: b.turnover / 3 }));
      await sqlite.write(bars);
      await my.write(bars);
      const a = await collect(sqlite.loadRange(RB, { chunkSize: 256 }));
      const b = await collect(my.loadRange(RB, { chunkSize: 256 }));
      expect(b.items).toEqual(a.items);
      expect(a.items).toHaveLength(1_505);
      expect(a.items.map((x) => x.close)).toEqual(
        [...bars].sort((x, y) => x.time - y.time).map((x) => x.close),
      );
      expect(await my.loadLast(RB, 77, { before: a.items[500]!.time })).toEqual(
        await sqlite.loadLast(RB, 77, { before: a.items[500]!.time }),
      );
      expect(await my.overview()).toEqual(await sqlite.overview());
    } finally {
      await sqlite.close();
      await my.close();
      await other.drop();
    }
  });
});

describe('SqliteBarStore', () => {
  it('opens a vnpy database.db read-only, reads it as vnpy wrote it, and refuses to write', async () => {
    const path = join(dir.path, 'database.db');
    // vnpy_sqlite's tables exactly as peewee creates them.
    const vnpy = new Database(path);
    vnpy.exec(`CREATE TABLE IF NOT EXISTS "dbbardata" ("id" INTEGER NOT NULL PRIMARY KEY, "symbol" VARCHAR(255) NOT NULL, "exchange" VARCHAR(255) NOT NULL, "datetime" DATETIME NOT NULL, "interval" VARCHAR(255) NOT NULL, "volume" REAL NOT NULL, "turnover" REAL NOT NULL, "open_interest" REAL NOT NULL, "open_price" REAL NOT NULL, "high_price" REAL NOT NULL, "low_price" REAL NOT NULL, "close_price" REAL NOT NULL);
      CREATE UNIQUE INDEX IF NOT EXISTS "dbbardata_symbol_exchange_interval_datetime" ON "dbbardata" ("symbol", "exchange", "interval", "datetime");
      CREATE TABLE IF NOT EXISTS "dbbaroverview" ("id" INTEGER NOT NULL PRIMARY KEY, "symbol" VARCHAR(255) NOT NULL, "exchange" VARCHAR(255) NOT NULL, "interval" VARCHAR(255) NOT NULL, "count" INTEGER NOT NULL, "start" DATETIME NOT NULL, "end" DATETIME NOT NULL);
      CREATE UNIQUE INDEX IF NOT EXISTS "dbbaroverview_symbol_exchange_interval" ON "dbbaroverview" ("symbol", "exchange", "interval");`);
    // As vnpy's save_bar_data does: INSERT OR REPLACE with str(datetime), then the overview row.
    const insert = vnpy.prepare(
      `INSERT OR REPLACE INTO "dbbardata" ("symbol", "exchange", "datetime", "interval", "volume", "turnover", "open_interest", "open_price", "high_price", "low_price", "close_price") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const rows: [string, number, number, number, number, number, number, number][] = [
      ['2024-01-02 21:00:00', 3601, 3605, 3599, 3603.5, 120, 4_324_200, 1_500_000],
      ['2024-01-02 21:01:00', 3603.5, 3604, 3602, 3602, 80, 2_881_600, 1_500_010],
      ['2024-01-02 21:02:00', 3602, 3608, 3601, 3607, 95.5, 3_444_650, 1_500_020],
    ];
    for (const r of rows) insert.run('rb2501', 'SHFE', r[0], '1m', r[5], r[6], r[7], r[1], r[2], r[3], r[4]);
    vnpy
      .prepare(
        `INSERT INTO "dbbaroverview" ("symbol", "exchange", "interval", "count", "start", "end") VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run('rb2501', 'SHFE', '1m', 3, '2024-01-02 21:00:00', '2024-01-02 21:02:00');
    vnpy.close();
    const before = readFileSync(path);
    const mtime = statSync(path).mtimeMs;

    const store = SqliteBarStore.open(path, { readonly: true });
    try {
      expect(store.description).toBe(`SQLite ${path} (read-only)`);
      const expected: OhlcvBar[] = rows.map((r) => ({
        time: Date.parse(`${r[0].replace(' ', 'T')}Z`) / 1000,
        open: r[1],
        high: r[2],
        low: r[3],
        close: r[4],
        volume: r[5],
        turnover: r[6],
        openInterest: r[7],
      }));
      expect((await collect(store.loadRange(RB))).items).toEqual(expected);
      expect(await store.loadLast(RB, 2)).toEqual(expected.slice(1));
      expect(await store.overview()).toEqual([
        { symbol: 'rb2501', exchange: 'SHFE', interval: '1m', count: 3, start: '2024-01-02 21:00:00', end: '2024-01-02 21:02:00' },
      ]);
      await expect(store.write(makeBars('rb2501', 'SHFE', T0, 1))).rejects.toThrow(BarStoreReadOnlyError);
      await expect(store.write(makeBars('rb2501', 'SHFE', T0, 1))).rejects.toThrow(
        `SQLite ${path} (read-only) is opened read-only; bars cannot be written to it`,
      );
    } finally {
      await store.close();
    }
    // Not a byte changed, and no WAL switch left behind.
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(statSync(path).mtimeMs).toBe(mtime);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('says what is wrong with a missing file or a file that is not a bar database', () => {
    const missing = join(dir.path, 'nope', 'database.db');
    expect(() => SqliteBarStore.open(missing, { readonly: true })).toThrow(BarStoreUnavailableError);
    expect(() => SqliteBarStore.open(missing, { readonly: true })).toThrow(`SQLite bar database ${missing} does not exist`);

    const other = join(dir.path, 'other.db');
    const o = new Database(other);
    o.exec('CREATE TABLE t (x)');
    o.close();
    expect(() => SqliteBarStore.open(other, { readonly: true })).toThrow(
      `SQLite file ${other} has no dbbardata table: it is not a vnpy bar database`,
    );
  });

  it('creates the store in WAL mode and offers synchronous reads for warm-up', () => {
    const store = SqliteBarStore.open(join(dir.path, 'wal.db'));
    try {
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      const rb = makeBars('rb2501', 'SHFE', T0, 50);
      store.writeSync(rb);
      expect(store.loadLastSync(RB, 50)).toEqual(rb.map(ohlcvOf));
      expect([...store.loadRangeSync(RB, { chunkSize: 20 })].map((c) => c.length)).toEqual([20, 20, 10]);
      expect(store.lastTimeSync(RB)).toBe(rb[49]!.time);
    } finally {
      store.closeSync();
    }
  });
});

describe('openBarStore', () => {
  it('--data-dir D means D/kestrel.db, created when absent', async () => {
    const dataDir = join(dir.path, 'fresh', 'data');
    const store = await openBarStore({ dataDir });
    try {
      expect(store.kind).toBe('sqlite');
      expect(store.description).toBe(`SQLite ${join(dataDir, 'kestrel.db')}`);
      expect(existsSync(join(dataDir, 'kestrel.db'))).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('wants exactly one store', async () => {
    await expect(openBarStore({})).rejects.toThrow(BarStoreConfigError);
    await expect(openBarStore({ dataDir: dir.path, mysqlUrl: db.url })).rejects.toThrow(/give only one bar store/);
  });

  it('opens MySQL from a URL and describes it without a password', async () => {
    const store = await openBarStore({ mysqlUrl: db.url });
    try {
      expect(store.kind).toBe('mysql');
      expect(store.description).toBe(`MySQL root@127.0.0.1:3306/${db.name}`);
    } finally {
      await store.close();
    }
  });
});

describe('MysqlBarStore', () => {
  it('parses and validates URLs', () => {
    expect(parseMysqlUrl('mysql://root@127.0.0.1/test')).toEqual({
      user: 'root',
      password: '',
      host: '127.0.0.1',
      port: 3306,
      database: 'test',
    });
    expect(parseMysqlUrl('mysql://vnpy:p%40ss%3Aw@db.local:3307/vnpy')).toEqual({
      user: 'vnpy',
      password: 'p@ss:w',
      host: 'db.local',
      port: 3307,
      database: 'vnpy',
    });
    expect(() => parseMysqlUrl('127.0.0.1:3306/test')).toThrow(BarStoreConfigError);
    expect(() => parseMysqlUrl('postgres://root@h/test')).toThrow(/must start with mysql:\/\//);
    expect(() => parseMysqlUrl('mysql://root@127.0.0.1:3306/')).toThrow(/database name is missing/);
    expect(() => parseMysqlUrl('mysql://127.0.0.1:3306/test')).toThrow(/the user is missing/);
    expect(() => parseMysqlUrl('mysql://root:secret@127.0.0.1:99999/test')).toThrow(BarStoreConfigError);
    // The password never appears in a message.
    try {
      parseMysqlUrl('mysql://root:secret@127.0.0.1:3306/');
      expect.unreachable();
    } catch (err) {
      expect(String(err)).not.toContain('secret');
      expect(String(err)).toContain('mysql://root:***@127.0.0.1:3306/');
    }
  });

  it('reports an unreachable server as BarStoreUnavailableError saying where', async () => {
    const err = await MysqlBarStore.connect('mysql://root@127.0.0.1:1/test').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BarStoreUnavailableError);
    expect((err as Error).message).toBe(
      'MySQL at 127.0.0.1:1 refused the connection (ECONNREFUSED); check that the server is running',
    );
  });

  it('reports a missing database and a refused user clearly', async () => {
    await expect(MysqlBarStore.connect('mysql://root@127.0.0.1:3306/kestrel_no_such_db_x')).rejects.toThrow(
      'MySQL at 127.0.0.1:3306 has no database "kestrel_no_such_db_x"; create it first (CREATE DATABASE `kestrel_no_such_db_x`)',
    );
    await expect(MysqlBarStore.connect(`mysql://kestrel_nobody:wrong@127.0.0.1:3306/${db.name}`)).rejects.toThrow(
      /MySQL at 127.0.0.1:3306 denied access to user "kestrel_nobody"/,
    );
  });

  it('a read-only store on a database without vnpy tables says so; on vnpy tables it refuses writes', async () => {
    const empty = await createTempMysqlDb();
    try {
      await expect(MysqlBarStore.connect(empty.url, { readonly: true })).rejects.toThrow(
        /has no dbbardata table: it is not a vnpy bar database/,
      );
      await (await MysqlBarStore.connect(empty.url)).close();
      const ro = await MysqlBarStore.connect(empty.url, { readonly: true });
      await expect(ro.write(makeBars('rb2501', 'SHFE', T0, 1))).rejects.toThrow(BarStoreReadOnlyError);
      await ro.close();
    } finally {
      await empty.drop();
    }
  });

  it('reads a database vnpy_mysql created, read-only, with or without its overview table', async () => {
    const vnpy = await createTempMysqlDb();
    const c = await mysql.createConnection({ ...MYSQL_ADMIN, database: vnpy.name });
    try {
      // peewee's DDL for vnpy_mysql's DbBarData, and rows as its save_bar_data writes them.
      await c.query(
        'CREATE TABLE IF NOT EXISTS `dbbardata` (`id` INTEGER AUTO_INCREMENT NOT NULL PRIMARY KEY, `symbol` VARCHAR(255) NOT NULL, `exchange` VARCHAR(255) NOT NULL, `datetime` DATETIME NOT NULL, `interval` VARCHAR(255) NOT NULL, `volume` DOUBLE NOT NULL, `turnover` DOUBLE NOT NULL, `open_interest` DOUBLE NOT NULL, `open_price` DOUBLE NOT NULL, `high_price` DOUBLE NOT NULL, `low_price` DOUBLE NOT NULL, `close_price` DOUBLE NOT NULL)',
      );
      await c.query('CREATE UNIQUE INDEX `dbbardata_symbol_exchange_interval_datetime` ON `dbbardata` (`symbol`, `exchange`, `interval`, `datetime`)');
      await c.query(
        'INSERT INTO `dbbardata` (`symbol`, `exchange`, `datetime`, `interval`, `volume`, `turnover`, `open_interest`, `open_price`, `high_price`, `low_price`, `close_price`) VALUES ' +
          "('rb2501', 'SHFE', '2024-01-02 21:00:00', '1m', 120, 4324200, 1500000, 3601, 3605, 3599, 3603.5), " +
          "('rb2501', 'SHFE', '2024-01-02 21:01:00', '1m', 80, 2881600, 1500010, 3603.5, 3604, 3602, 3602)",
      );
      const store = await MysqlBarStore.connect(vnpy.url, { readonly: true });
      try {
        expect(store.description).toBe(`MySQL root@127.0.0.1:3306/${vnpy.name} (read-only)`);
        expect(await store.loadLast(RB, 5)).toEqual([
          { time: Date.UTC(2024, 0, 2, 21, 0) / 1000, open: 3601, high: 3605, low: 3599, close: 3603.5, volume: 120, turnover: 4324200, openInterest: 1500000 },
          { time: Date.UTC(2024, 0, 2, 21, 1) / 1000, open: 3603.5, high: 3604, low: 3602, close: 3602, volume: 80, turnover: 2881600, openInterest: 1500010 },
        ]);
        expect(await store.overview()).toEqual([
          { symbol: 'rb2501', exchange: 'SHFE', interval: '1m', count: 2, start: '2024-01-02 21:00:00', end: '2024-01-02 21:01:00' },
        ]);
      } finally {
        await store.close();
      }
      const [tables] = await c.query<mysql.RowDataPacket[]>('SHOW TABLES');
      expect(tables).toHaveLength(1);
    } finally {
      await c.end();
      await vnpy.drop();
    }
  });

  it('survives a lost connection: the operation in flight is retried once on a fresh connection', async () => {
    const proxy = await startFlakyProxy();
    const store = await MysqlBarStore.connect(`mysql://root@127.0.0.1:${proxy.port}/${db.name}`);
    try {
      const rb = makeBars('rb2501', 'SHFE', T0, 20);
      await store.write(rb);
      proxy.loseOpenConnections();
      expect(await store.loadLast(RB, 20)).toEqual(rb.map(ohlcvOf));
      proxy.loseOpenConnections();
      expect(await store.write(rb)).toBe(20);
      proxy.loseOpenConnections();
      expect((await collect(store.loadRange(RB, { chunkSize: 7 }))).items).toEqual(rb.map(ohlcvOf));
      expect((await store.overview())[0]?.count).toBe(20);
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it('a server that goes away for good gives BarStoreUnavailableError, not a crash', async () => {
    const proxy = await startFlakyProxy();
    const store = await MysqlBarStore.connect(`mysql://root@127.0.0.1:${proxy.port}/${db.name}`);
    const port = proxy.port;
    await proxy.close();
    try {
      const err = await store.loadLast(RB, 5).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BarStoreUnavailableError);
      expect((err as Error).message).toMatch(new RegExp(`^MySQL at 127\\.0\\.0\\.1:${port} `));
    } finally {
      await store.close();
    }
  });

});
