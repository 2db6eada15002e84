import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditJournal } from '../../src/io/auditJournal.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import type { StoredBar } from '../../src/shared/bar.js';
import type { BarGapsResult, BarOverviewResult, ImportBarsResult } from '../../src/shared/contract/data.js';
import { formatDatetime, parseDatetime } from '../../src/shared/time.js';
import { freshDir } from '../helpers.js';
import { createTempMysqlDb, MYSQL_ADMIN, type TempMysqlDb } from '../io/storeFixtures.js';
import { startHarness, type Harness } from './workstationHarness.js';

/**
 * The Data API through the real stack (Workstation + ApiServer over HTTP): the overview of the
 * configured store, gaps inside trading sessions, and imports of files made here.
 */

const DATA = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'data');
const BACKTRADER = join(DATA, 'backtrader_2006-01-02-volume-min-001.txt');
const haveBacktrader = existsSync(BACKTRADER);
if (!haveBacktrader) console.warn('../shared/data is absent (a fresh clone has none): the backtrader import through REST is skipped');

const t = (text: string): number => {
  const time = parseDatetime(text);
  if (time === null) throw new Error(`bad time ${text}`);
  return time;
};

function bar(symbol: string, exchange: string, time: number, i = 0): StoredBar {
  const open = 3500 + (i % 13);
  return { symbol, exchange, interval: '1m', time, open, high: open + 2, low: open - 2, close: open + 1, volume: 10 + (i % 7), turnover: 0, openInterest: 0 };
}

/** Every minute of the given 'HH:MM'–'HH:MM' sessions on a date, written by hand, not by the calendar under test. */
function sessionMinutes(date: string, sessions: readonly [string, string][]): number[] {
  const out: number[] = [];
  for (const [start, end] of sessions) {
    for (let m = t(`${date} ${start}:00`); m < t(`${date} ${end}:00`); m += 60) out.push(m);
  }
  return out;
}

const CHINA: [string, string][] = [
  ['09:00', '10:15'],
  ['10:30', '11:30'],
  ['13:30', '15:00'],
  ['21:00', '23:00'],
];

type Rest = <T>(path: string, body?: unknown) => Promise<{ status: number; body: T }>;
function restOf(h: Harness): Rest {
  return async <T>(path: string, body?: unknown) => {
    const res = await fetch(h.baseUrl + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${h.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
}

describe('bar overview and gaps of the configured SQLite store', () => {
  let tmp: { dir: string; remove(): void };
  let harness: Harness;
  let rest: Rest;
  const removed = new Set<number>();

  beforeAll(async () => {
    tmp = freshDir('data-gaps');
    // Thursday, Friday and (after a weekend) Monday, every session minute, then known minutes removed.
    const minutes = ['2024-03-07', '2024-03-08', '2024-03-11'].flatMap((d) => sessionMinutes(d, CHINA));
    const remove = (from: string, to: string): void => {
      for (let m = t(from); m <= t(to); m += 60) removed.add(m);
    };
    remove('2024-03-07 10:05:00', '2024-03-07 10:09:00'); // inside the first session
    remove('2024-03-07 10:14:00', '2024-03-07 10:14:00'); // last minute before the 10:15 break
    remove('2024-03-07 10:30:00', '2024-03-07 10:30:00'); // first minute after it
    remove('2024-03-07 22:58:00', '2024-03-07 22:59:00'); // end of the night session
    remove('2024-03-08 09:00:00', '2024-03-08 09:02:00'); // start of the next day session
    remove('2024-03-08 13:30:00', '2024-03-08 14:59:00'); // a whole session
    remove('2024-03-08 22:59:00', '2024-03-08 22:59:00'); // Friday night's last minute
    remove('2024-03-11 09:00:00', '2024-03-11 09:00:00'); // Monday's first
    remove('2024-03-11 14:00:00', '2024-03-11 14:00:00');
    const rb = minutes.filter((m) => !removed.has(m)).map((m, i) => bar('rb2405', 'SHFE', m, i));
    // A minute past the calendar's night end (products that trade to 01:00): no reference, no gap.
    rb.push(bar('rb2405', 'SHFE', t('2024-03-07 23:30:00')));

    const cffex = sessionMinutes('2024-03-07', [['09:30', '11:30'], ['13:00', '15:00']])
      .filter((m) => m !== t('2024-03-07 11:29:00') && m !== t('2024-03-07 13:00:00'))
      .map((m, i) => bar('IF2403', 'CFFEX', m, i));

    const btcGone = new Set(['00:10', '00:20', '00:21', '00:22', '00:40', '00:41'].map((hm) => t(`2024-03-07 ${hm}:00`)));
    const btc: StoredBar[] = [];
    for (let m = t('2024-03-07 00:00:00'); m < t('2024-03-07 02:00:00'); m += 60) if (!btcGone.has(m)) btc.push(bar('BTCUSDT', 'BINANCE', m));

    // Every third minute kept: 1,100 two-minute holes, more than the list keeps.
    const sparse: StoredBar[] = [];
    for (let i = 0; i <= 1100; i++) sparse.push(bar('SPARSE', 'BINANCE', t('2024-03-01 00:00:00') + i * 180));

    const store = SqliteBarStore.open(join(tmp.dir, 'kestrel.db'));
    store.writeSync([...rb, ...cffex, ...btc, ...sparse]);
    store.closeSync();
    harness = await startHarness({ dataDir: tmp.dir, controlEnabled: true, settings: { demo: { enabled: false } } });
    rest = restOf(harness);
  });

  afterAll(async () => {
    await harness?.stop();
    tmp?.remove();
  });

  it('the overview is the store’s own overview, with vtSymbols', async () => {
    const res = await rest<BarOverviewResult>('/api/data/overview');
    expect(res.status).toBe(200);
    const store = SqliteBarStore.open(join(tmp.dir, 'kestrel.db'), { readonly: true });
    const own = store.overviewSync();
    store.closeSync();
    expect(res.body.rows).toEqual(own.map((o) => ({ ...o, vtSymbol: `${o.symbol}.${o.exchange}` })));
    expect(res.body.rows.find((r) => r.vtSymbol === 'rb2405.SHFE')?.count).toBe(3 * 345 - removed.size + 1);
    expect(res.body.store).toEqual({ kind: 'sqlite', description: `SQLite ${join(tmp.dir, 'kestrel.db')}`, writable: true });
  });

  it('gaps inside sessions are exactly the removed minutes, never across a break, a night or a weekend', async () => {
    const res = await rest<BarGapsResult>('/api/data/gaps?vtSymbol=rb2405.SHFE');
    expect(res.status).toBe(200);
    expect(res.body.gaps).toEqual([
      { from: '2024-03-07 10:05:00', to: '2024-03-07 10:09:00', minutes: 5 },
      { from: '2024-03-07 10:14:00', to: '2024-03-07 10:14:00', minutes: 1 },
      { from: '2024-03-07 10:30:00', to: '2024-03-07 10:30:00', minutes: 1 },
      { from: '2024-03-07 22:58:00', to: '2024-03-07 22:59:00', minutes: 2 },
      { from: '2024-03-08 09:00:00', to: '2024-03-08 09:02:00', minutes: 3 },
      { from: '2024-03-08 22:59:00', to: '2024-03-08 22:59:00', minutes: 1 },
      { from: '2024-03-11 09:00:00', to: '2024-03-11 09:00:00', minutes: 1 },
      { from: '2024-03-11 14:00:00', to: '2024-03-11 14:00:00', minutes: 1 },
    ]);
    // Every removed minute is listed, except the session removed whole (counted, not listed).
    const wholeSession = 90;
    expect(res.body.missingMinutes).toBe(removed.size - wholeSession);
    expect(res.body).toMatchObject({
      totalGaps: 8,
      emptySessions: 1,
      truncated: false,
      firstBar: '2024-03-07 09:00:00',
      lastBar: '2024-03-11 22:59:00',
      calendar: { name: 'china-futures', minMinutes: 1 },
    });
    expect(res.body.barsScanned).toBe(3 * 345 - removed.size + 1);
  });

  it('a range: its edges are where the data starts and ends, not holes', async () => {
    const res = await rest<BarGapsResult>('/api/data/gaps?vtSymbol=rb2405.SHFE&from=2024-03-08&to=2024-03-08');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ gaps: [], totalGaps: 0, emptySessions: 1, firstBar: '2024-03-08 09:03:00', lastBar: '2024-03-08 22:58:00' });
    const bad = await rest<{ error: string; fields: { path: string }[] }>('/api/data/gaps?vtSymbol=rb2405.SHFE&from=2024-03-09&to=2024-03-08');
    expect(bad.status).toBe(400);
    expect(bad.body.fields[0]?.path).toBe('from');
  });

  it('CFFEX is judged on its own sessions (no 09:00 start, no night)', async () => {
    const res = await rest<BarGapsResult>('/api/data/gaps?vtSymbol=IF2403.CFFEX');
    expect(res.body.gaps).toEqual([
      { from: '2024-03-07 11:29:00', to: '2024-03-07 11:29:00', minutes: 1 },
      { from: '2024-03-07 13:00:00', to: '2024-03-07 13:00:00', minutes: 1 },
    ]);
    expect(res.body.calendar).toEqual({ name: 'cffex', sessions: ['09:30–11:30', '13:00–15:00'], minMinutes: 1 });
  });

  it('other exchanges: every minute expected, holes of two minutes or more', async () => {
    const res = await rest<BarGapsResult>('/api/data/gaps?vtSymbol=BTCUSDT.BINANCE');
    expect(res.body.gaps).toEqual([
      { from: '2024-03-07 00:20:00', to: '2024-03-07 00:22:00', minutes: 3 },
      { from: '2024-03-07 00:40:00', to: '2024-03-07 00:41:00', minutes: 2 },
    ]);
    expect(res.body.calendar.name).toBe('continuous');
  });

  it('the list stops at 1,000 gaps; the totals count them all', async () => {
    const res = await rest<BarGapsResult>('/api/data/gaps?vtSymbol=SPARSE.BINANCE');
    expect(res.body.gaps).toHaveLength(1000);
    expect(res.body).toMatchObject({ totalGaps: 1100, missingMinutes: 2200, truncated: true });
    expect(res.body.gaps[999]).toEqual({ from: formatDatetime(t('2024-03-01 00:00:00') + 999 * 180 + 60), to: formatDatetime(t('2024-03-01 00:00:00') + 999 * 180 + 120), minutes: 2 });
  });

  it('a symbol the store does not hold has no bars and no gaps', async () => {
    const res = await rest<BarGapsResult>('/api/data/gaps?vtSymbol=zz9999.DCE');
    expect(res.body).toMatchObject({ gaps: [], barsScanned: 0, firstBar: null, lastBar: null });
  });
});

const CSV = [
  'datetime,open,high,low,close,volume',
  '2024-03-07 09:00:00,3500,3503,3499,3502,10',
  '2024-03-07 09:01:00,3502,3504,3500,3501,12',
  '2024-03-07 09:02:00,3501,3501,3497,3498,9',
  '2024-03-07 09:03:00,3498,3500,3496,3499,15',
].join('\n');

describe('importing through REST', () => {
  let tmp: { dir: string; remove(): void };
  let harness: Harness;
  let rest: Rest;

  beforeAll(async () => {
    tmp = freshDir('data-import');
    harness = await startHarness({ dataDir: tmp.dir, controlEnabled: true, settings: { demo: { enabled: false } } });
    rest = restOf(harness);
  });
  afterAll(async () => {
    await harness?.stop();
    tmp?.remove();
  });

  const overviewRow = async (vtSymbol: string) =>
    (await rest<BarOverviewResult>('/api/data/overview')).body.rows.find((r) => r.vtSymbol === vtSymbol);

  it('a fresh data directory has an empty overview, not an error', async () => {
    const res = await rest<BarOverviewResult>('/api/data/overview');
    expect(res.status).toBe(200);
    expect(res.body.rows).toEqual([]);
  });

  it('a small CSV: counts right, stored, and a re-import changes nothing', async () => {
    const body = { fileName: 'rb.csv', content: CSV, format: 'csv', symbol: 'rb2405', exchange: 'SHFE' };
    const first = await rest<ImportBarsResult>('/api/data/import', body);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ ok: true, fileName: 'rb.csv', vtSymbol: 'rb2405.SHFE', interval: '1m', rowsRead: 4, rowsWritten: 4, first: '2024-03-07 09:00:00', last: '2024-03-07 09:03:00', outOfOrder: 0 });
    expect(await overviewRow('rb2405.SHFE')).toMatchObject({ count: 4, start: '2024-03-07 09:00:00', end: '2024-03-07 09:03:00' });
    const again = await rest<ImportBarsResult>('/api/data/import', body);
    expect(again.status).toBe(200);
    expect(await overviewRow('rb2405.SHFE')).toMatchObject({ count: 4 });
    const store = SqliteBarStore.open(join(tmp.dir, 'kestrel.db'), { readonly: true });
    const bars = store.loadLastSync({ symbol: 'rb2405', exchange: 'SHFE', interval: '1m' }, 10);
    store.closeSync();
    expect(bars.map((b) => [formatDatetime(b.time), b.open, b.high, b.low, b.close, b.volume])).toEqual(
      CSV.split('\n').slice(1).map((l) => l.split(',')).map(([d, ...n]) => [d, ...n.map(Number)]),
    );
  });

  it('a bad row: 400 naming the file, line and field, and nothing stored', async () => {
    const bad = CSV.replace('3504', 'abc');
    const res = await rest<{ error: string; fields: { path: string; message: string }[] }>('/api/data/import', {
      fileName: 'bad.csv',
      content: bad,
      format: 'csv',
      symbol: 'bad2405',
      exchange: 'SHFE',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('bad.csv:3: field "high": "abc" is not a number');
    expect(res.body.error).toContain('nothing was stored');
    expect(res.body.error).not.toContain('kestrel-import-');
    expect(res.body.fields).toEqual([{ path: 'content', message: 'bad.csv:3: field "high": "abc" is not a number' }]);
    expect(await overviewRow('bad2405.SHFE')).toBeUndefined();
  });

  it('a mapping that does not fit: 400 on the columns field', async () => {
    const res = await rest<{ error: string; fields: { path: string }[] }>('/api/data/import', {
      fileName: 'rb.csv',
      content: CSV,
      format: 'csv',
      symbol: 'rb2405',
      exchange: 'SHFE',
      columns: 'datetime=When,open=open,high=high,low=low,close=close',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('has no column "When"');
    expect(res.body.error).toContain('rb.csv');
    expect(res.body.fields[0]?.path).toBe('columns');
  });

  it.skipIf(!haveBacktrader)('the shared backtrader file (1.5 MB, over the default body limit), positional columns', async () => {
    const content = readFileSync(BACKTRADER, 'utf8');
    const rows = content.split(/\r?\n/).filter((l) => l.trim() !== '').slice(1);
    const [lastDate, lastTime] = rows[rows.length - 1]!.split(',');
    const body = {
      fileName: 'backtrader_2006-01-02-volume-min-001.txt',
      content,
      format: 'csv',
      symbol: 'ESTX50',
      exchange: 'EUREX',
      columns: 'date=0,time=1,open=2,high=3,low=4,close=5,volume=6,openInterest=7',
      header: 'skip',
    };
    expect(Buffer.byteLength(JSON.stringify(body))).toBeGreaterThan(1024 * 1024);
    const res = await rest<ImportBarsResult>('/api/data/import', body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ rowsRead: rows.length, rowsWritten: rows.length, first: '2006-01-02 09:01:00', last: `${lastDate} ${lastTime}` });
    expect(await overviewRow('ESTX50.EUREX')).toMatchObject({ count: rows.length });
    const again = await rest<ImportBarsResult>('/api/data/import', body);
    expect(again.status).toBe(200);
    expect(await overviewRow('ESTX50.EUREX')).toMatchObject({ count: rows.length });
  });

  it('a body over the import limit is refused before it is read (413)', async () => {
    const status = await new Promise<number>((resolveStatus, reject) => {
      const url = new URL(`${harness.baseUrl}/api/data/import`);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { authorization: `Bearer ${harness.token}`, 'content-type': 'application/json', 'content-length': String(60 * 1024 * 1024) },
        },
        (res) => {
          res.resume();
          resolveStatus(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      // Only the start of the announced 60 MB is ever sent.
      req.write('{"fileName":"big.csv","content":"');
    });
    expect(status).toBe(413);
  });
});

describe('import needs control, and a writable store', () => {
  let tmp: { dir: string; remove(): void };

  beforeAll(() => {
    tmp = freshDir('data-refused');
  });
  afterAll(() => tmp?.remove());

  it('403 without control, audited, nothing stored', async () => {
    const harness = await startHarness({ dataDir: join(tmp.dir, 'ro'), controlEnabled: false, settings: { demo: { enabled: false } } });
    try {
      const rest = restOf(harness);
      const res = await rest<{ error: string }>('/api/data/import', { fileName: 'rb.csv', content: CSV, format: 'csv', symbol: 'rb2405', exchange: 'SHFE' });
      expect(res.status).toBe(403);
      expect(res.body.error).toContain('--allow-control');
      expect((await rest<BarOverviewResult>('/api/data/overview')).body.rows).toEqual([]);
    } finally {
      await harness.stop();
    }
    const journal = new AuditJournal(join(tmp.dir, 'ro', 'kestrel.db'));
    const entries = journal.recent();
    journal.close();
    // Refused before its body was read: the audit names the command, not the file it carried.
    expect(entries.find((e) => e.action === 'importBars')).toMatchObject({ outcome: 'refused', target: null, params: {} });
    expect(JSON.stringify(entries)).not.toContain('3503');
  });

  it('409 when the MySQL user may only read', async () => {
    const db: TempMysqlDb = await createTempMysqlDb();
    const user = `kestrel_ro_${Math.random().toString(36).slice(2, 8)}`;
    const admin = await mysql.createConnection(MYSQL_ADMIN);
    try {
      // vnpy's tables exist (a vnpy database); the user can read them and nothing else.
      const writer = await (await import('../../src/io/mysqlBarStore.js')).MysqlBarStore.connect(db.url);
      await writer.write([bar('rb2405', 'SHFE', t('2024-03-07 09:00:00'))]);
      await writer.close();
      await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'`);
      await admin.query(`CREATE USER '${user}'@'localhost' IDENTIFIED BY 'pw'`);
      await admin.query(`GRANT SELECT ON \`${db.name}\`.* TO '${user}'@'%'`);
      await admin.query(`GRANT SELECT ON \`${db.name}\`.* TO '${user}'@'localhost'`);
      const harness = await startHarness({
        dataDir: join(tmp.dir, 'mysql'),
        controlEnabled: true,
        settings: { demo: { enabled: false }, barSource: { kind: 'mysql', url: `mysql://${user}:pw@127.0.0.1:3306/${db.name}` } },
      });
      try {
        const rest = restOf(harness);
        const overview = await rest<BarOverviewResult>('/api/data/overview');
        expect(overview.body.rows.map((r) => [r.vtSymbol, r.count])).toEqual([['rb2405.SHFE', 1]]);
        expect(JSON.stringify(overview.body)).not.toContain(':pw@');
        const res = await rest<{ error: string }>('/api/data/import', { fileName: 'rb.csv', content: CSV, format: 'csv', symbol: 'rb2405', exchange: 'SHFE' });
        expect(res.status).toBe(409);
        expect(res.body.error).toMatch(/may not write|read-only/);
        expect((await rest<BarOverviewResult>('/api/data/overview')).body.rows.map((r) => r.count)).toEqual([1]);
      } finally {
        await harness.stop();
      }
    } finally {
      await admin.query(`DROP USER IF EXISTS '${user}'@'%'`).catch(() => undefined);
      await admin.query(`DROP USER IF EXISTS '${user}'@'localhost'`).catch(() => undefined);
      await admin.end();
      await db.drop();
    }
  });
});
