import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportUsageError, importBars, parseColumnMapping, type ImportSpec } from '../../src/io/barImport.js';
import { EXPORT_HEADER, exportBars, exportBarsToFile } from '../../src/io/barExport.js';
import type { BarKey } from '../../src/io/barStore.js';
import { compileDatetimeFormat } from '../../src/io/datetimeFormat.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { TimeZone, convertWall } from '../../src/io/timeZone.js';
import { collect, createTempDir, type TempDir } from './storeFixtures.js';

let dir: TempDir;
let seq = 0;
beforeAll(() => {
  dir = createTempDir('kestrel-import-');
});
afterAll(() => dir.remove());

const at = (text: string): number => Date.parse(`${text.replace(' ', 'T')}Z`) / 1000;
const RB: BarKey = { symbol: 'rb2501', exchange: 'SHFE', interval: '1m' };

function fixture(name: string, text: string): string {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
}

function freshStore(): SqliteBarStore {
  return SqliteBarStore.open(join(dir.path, `import${++seq}.db`));
}

function spec(file: string, more: Partial<ImportSpec> = {}): ImportSpec {
  return { file, format: 'csv', symbol: 'rb2501', exchange: 'SHFE', interval: '1m', ...more };
}

const NAMED_CSV = [
  'Date,Time,Open,High,Low,Close,Volume',
  '2024-01-02,09:00:00,3600,3605,3598,3602.5,120',
  '2024-01-02,09:01:00,3602.5,3604,3601,3601,80',
  '',
  '2024-01-02,09:02:00,3601,3603,3600,3603,95',
].join('\r\n');

describe('importBars', () => {
  it('maps columns by header name, joins date and time, defaults turnover and open interest to 0', async () => {
    const store = freshStore();
    const file = fixture('named.csv', NAMED_CSV);
    const result = await importBars(store, spec(file, { columns: parseColumnMapping('date=Date,time=Time,open=Open,high=High,low=Low,close=Close,volume=Volume') }));
    expect(result).toMatchObject({ rowsRead: 3, rowsWritten: 3, first: '2024-01-02 09:00:00', last: '2024-01-02 09:02:00', stored: true, problemCount: 0 });
    expect((await collect(store.loadRange(RB))).items).toEqual([
      { time: at('2024-01-02 09:00:00'), open: 3600, high: 3605, low: 3598, close: 3602.5, volume: 120, turnover: 0, openInterest: 0 },
      { time: at('2024-01-02 09:01:00'), open: 3602.5, high: 3604, low: 3601, close: 3601, volume: 80, turnover: 0, openInterest: 0 },
      { time: at('2024-01-02 09:02:00'), open: 3601, high: 3603, low: 3600, close: 3603, volume: 95, turnover: 0, openInterest: 0 },
    ]);
    // Without --columns the same header is recognised by its names.
    const again = await importBars(store, spec(file));
    expect(again).toMatchObject({ rowsRead: 3, stored: true });
    expect((await store.overview())[0]?.count).toBe(3);
    await store.close();
  });

  it('reports every bad row as file:line: field and stores nothing', async () => {
    const store = freshStore();
    const file = fixture(
      'bad.csv',
      [
        'datetime,open,high,low,close,volume',
        '2024-01-02 09:00:00,3600,3605,3598,3602,120', // line 2 good
        '2024-01-02 09:01:00,3602,abc,3601,3601,80', // line 3: high not a number
        '2024-01-02 09:02:00,3601,3590,3600,3595,95', // line 4: high below low
        '2024-01-02 9:3,3601,3603,3600,3603,95', // line 5: not a datetime
        '2024-01-02 09:04:00,3601,3603', // line 6: columns missing
        '2024-01-02 09:05:30,3601,3603,3600,3603,95', // line 7: not on a whole minute
        '2024-01-02 09:06:00,3601,3603,3600,3604,-5', // line 8: close above high, negative volume
        '2024-01-02 09:07:00,3601,3603,3600,3602,7', // line 9 good
      ].join('\n'),
    );
    const result = await importBars(store, spec(file));
    expect(result.stored).toBe(false);
    expect(result.rowsRead).toBe(8);
    expect(result.problemCount).toBe(6);
    expect(result.problems).toEqual([
      `${file}:3: field "high": "abc" is not a number`,
      `${file}:4: field "high": 3590 is below low 3600`,
      `${file}:5: field "datetime": "2024-01-02 9:3" is not a datetime in format auto (YYYY-MM-DD[ HH:MM[:SS]][Z|±HH:MM], YYYY/MM/DD …, YYYYMMDD[ HHMMSS])`,
      `${file}:6: field "low" (column 3) is missing: the row has 3 columns`,
      `${file}:6: field "close" (column 4) is missing: the row has 3 columns`,
      `${file}:6: field "volume" (column 5) is missing: the row has 3 columns`,
      `${file}:7: field "datetime": "2024-01-02 09:05:30" (2024-01-02 09:05:30 exchange time) is not on a whole minute (interval 1m)`,
      `${file}:8: field "close": 3604 is outside low 3600 .. high 3603`,
      `${file}:8: field "volume": -5 is negative`,
    ]);
    expect(await store.loadLast(RB, 10)).toEqual([]);
    expect(await store.overview()).toEqual([]);
    // The list is capped; the count is not.
    const capped = await importBars(store, spec(file, { maxProblems: 2 }));
    expect(capped.problems).toHaveLength(2);
    expect(capped.problemCount).toBe(6);
    await store.close();
  });

  it('reads JSON arrays by position with epoch-ms in UTC, and JSON objects by key', async () => {
    const store = freshStore();
    const arrays = fixture(
      'bars.json',
      JSON.stringify([
        [1509836520000, 0.00162008, 0.00162008, 0.00162008, 0.00162008, 108.14853839],
        [1509836580000, 0.00161, 0.00161, 0.00161, 0.00161, 82.390199],
      ]),
    );
    const r = await importBars(store, {
      file: arrays,
      format: 'json',
      symbol: 'BTC',
      exchange: 'BINANCE',
      interval: '1m',
      columns: parseColumnMapping('datetime=0,open=1,high=2,low=3,close=4,volume=5'),
      datetimeFormat: 'epoch-ms',
      tz: 'UTC',
    });
    expect(r).toMatchObject({ rowsRead: 2, first: '2017-11-04 23:02:00', last: '2017-11-04 23:03:00', stored: true });
    const key: BarKey = { symbol: 'BTC', exchange: 'BINANCE', interval: '1m' };
    expect((await store.loadLast(key, 1))[0]).toEqual({
      time: at('2017-11-04 23:03:00'),
      open: 0.00161,
      high: 0.00161,
      low: 0.00161,
      close: 0.00161,
      volume: 82.390199,
      turnover: 0,
      openInterest: 0,
    });

    const objects = fixture(
      'objects.json',
      JSON.stringify([
        { datetime: '2024-01-02 09:00', open: 1, high: 2, low: 0.5, close: 1.5, volume: 10, open_interest: 7 },
        { datetime: '2024-01-02 09:01', open: '1.5', high: 2, low: 1, close: 1, volume: 3, open_interest: 8 },
        5,
      ]),
    );
    const bad = await importBars(store, { ...spec(objects), format: 'json' });
    expect(bad.problems).toEqual([`${objects}:row 3: expected an array or an object, got 5`]);
    writeFileSync(objects, JSON.stringify(JSON.parse(readText(objects)).slice(0, 2)));
    const good = await importBars(store, { ...spec(objects), format: 'json' });
    expect(good).toMatchObject({ rowsRead: 2, stored: true });
    expect((await store.loadLast(RB, 2)).map((b) => [b.open, b.openInterest])).toEqual([
      [1, 7],
      [1.5, 8],
    ]);
    await store.close();
  });

  it('converts the file zone to the exchange zone across a daylight-saving change', async () => {
    const store = freshStore();
    // Berlin springs forward on 2024-03-31 at 02:00 CET → 03:00 CEST. Shanghai is UTC+8 all year.
    // 01:59 CET = 00:59 UTC = 08:59 Shanghai; 03:00 CEST = 01:00 UTC = 09:00 Shanghai.
    const file = fixture(
      'berlin.csv',
      ['datetime,open,high,low,close', '31.03.2024 01:59,1,1,1,1', '31.03.2024 03:00,2,2,2,2'].join('\n'),
    );
    const r = await importBars(store, spec(file, { datetimeFormat: '%d.%m.%Y %H:%M', tz: 'Europe/Berlin', exchangeTz: 'Asia/Shanghai' }));
    expect(r).toMatchObject({ first: '2024-03-31 08:59:00', last: '2024-03-31 09:00:00', stored: true });
    await store.close();
  });

  it('stores nothing for a bad row past the in-memory limit, and imports a clean large file in batches', async () => {
    const store = freshStore();
    const lines = ['datetime,open,high,low,close,volume'];
    for (let i = 0; i < 100; i++) {
      const t = new Date(Date.UTC(2024, 0, 2, 9, i)).toISOString().slice(0, 16).replace('T', ' ');
      lines.push(`${t},${100 + i},${101 + i},${99 + i},${100.5 + i},${i}`);
    }
    const good = fixture('large.csv', lines.join('\n'));
    const badLines = [...lines];
    badLines[95] = badLines[95]!.replace(/,[^,]*$/, ',x');
    const bad = fixture('large-bad.csv', badLines.join('\n'));
    const r1 = await importBars(store, spec(bad), { memoryRows: 10, batchSize: 7 });
    expect(r1.stored).toBe(false);
    expect(r1.problems).toEqual([`${bad}:96: field "volume": "x" is not a number`]);
    expect(await store.loadLast(RB, 1000)).toEqual([]);
    const r2 = await importBars(store, spec(good), { memoryRows: 10, batchSize: 7 });
    expect(r2).toMatchObject({ rowsRead: 100, rowsWritten: 100, first: '2024-01-02 09:00:00', last: '2024-01-02 10:39:00' });
    const bars = await store.loadLast(RB, 1000);
    expect(bars).toHaveLength(100);
    expect(bars[42]).toMatchObject({ time: at('2024-01-02 09:42:00'), open: 142, high: 143, low: 141, close: 142.5, volume: 42 });
    await store.close();
  });

  it('refuses a wrong description before reading rows', async () => {
    const file = fixture('named2.csv', NAMED_CSV);
    const store = freshStore();
    const wrong = async (s: ImportSpec): Promise<string> => {
      const err = await importBars(store, s).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ImportUsageError);
      return (err as Error).message;
    };
    expect(await wrong(spec(file, { columns: parseColumnMapping('datetime=When,open=Open,high=High,low=Low,close=Close') }))).toBe(
      `--columns datetime=When: ${file} has no column "When"; its header is "Date", "Time", "Open", "High", "Low", "Close", "Volume"`,
    );
    expect(await wrong(spec(file, { header: 'skip', columns: parseColumnMapping('datetime=Date,open=1,high=2,low=3,close=4') }))).toMatch(
      /with --skip-header the header is not used; refer to columns by position/,
    );
    expect(await wrong(spec(join(dir.path, 'nope.csv')))).toBe(`${join(dir.path, 'nope.csv')} cannot be read: no such file`);
    expect(await wrong(spec(file, { tz: 'Mars/Olympus' }))).toMatch(/time zone "Mars\/Olympus" is not known/);
    expect(await wrong(spec(file, { datetimeFormat: '%Y-%m-%d %Q' }))).toMatch(/%Q is not supported/);
    expect(() => parseColumnMapping('datetime=0,price=1')).toThrow(/"price" is not a bar field/);
    expect(() => parseColumnMapping('datetime=0,open=1,high=2,low=3')).toThrow(/no column for close/);
    expect(() => parseColumnMapping('datetime=0,date=1,open=1,high=2,low=3,close=4')).toThrow(/datetime, or date \(and time\), not both/);
    expect(await store.overview()).toEqual([]);
    await store.close();
  });
});

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

describe('datetime formats and zones', () => {
  it('parses strftime-like patterns, epochs and the auto shapes', () => {
    expect(compileDatetimeFormat('%Y%m%d %H%M%S').parse('20240102 090100')).toBe(at('2024-01-02 09:01:00'));
    expect(compileDatetimeFormat('%Y%m%d').parse('20240229')).toBe(at('2024-02-29 00:00:00'));
    expect(compileDatetimeFormat('%Y%m%d').parse('20230229')).toBeNull();
    expect(compileDatetimeFormat('%d/%m/%y %I:%M %p').parse('02/01/24 1:05 PM')).toBe(at('2024-01-02 13:05:00'));
    expect(compileDatetimeFormat('%d/%m/%y %I:%M %p').parse('02/01/24 12:05 am')).toBe(at('2024-01-02 00:05:00'));
    expect(compileDatetimeFormat('%d-%b-%Y %T').parse('02-Jan-2024 09:01:00')).toBe(at('2024-01-02 09:01:00'));
    expect(compileDatetimeFormat('%F %H:%M:%S.%f').parse('2024-01-02 09:01:00.000')).toBe(at('2024-01-02 09:01:00'));
    expect(compileDatetimeFormat('%F %H:%M:%S.%f').parse('2024-01-02 09:01:00.250')).toBeNull();
    expect(compileDatetimeFormat('epoch-s').parse('1704186060')).toBe(at('2024-01-02 09:01:00'));
    expect(compileDatetimeFormat('epoch-ms').parse('1704186060500')).toBeNull();
    const auto = compileDatetimeFormat(undefined);
    for (const text of ['2024-01-02 09:01:00', '2024-01-02T09:01', '2024/1/2 09:01:00', '20240102 090100', '2024-01-02 09:01:00.000']) {
      expect(auto.parse(text)).toBe(at('2024-01-02 09:01:00'));
    }
    expect(auto.parse('2024-01-02')).toBe(at('2024-01-02 00:00:00'));
    expect(auto.parse('2024-13-02 09:01')).toBeNull();
    expect(auto.parse('2024-01-02 24:00')).toBeNull();
    expect(() => compileDatetimeFormat('%H:%M')).toThrow(/no year/);
    expect(() => compileDatetimeFormat('YYYY-MM-DD')).toThrow(/neither auto, epoch-s, epoch-ms nor a pattern/);
  });

  it('converts wall times between zones, including the hours that repeat or never happen', () => {
    const ny = TimeZone.of('America/New_York');
    const utc = TimeZone.of('UTC');
    // 2024-11-03 01:30 happens twice in New York (EDT, then EST): the first one is taken.
    expect(convertWall(at('2024-11-03 01:30:00'), ny, utc)).toBe(at('2024-11-03 05:30:00'));
    // 2024-03-10 02:30 never happens there: moved forward by the gap, to 03:30 EDT.
    expect(convertWall(at('2024-03-10 02:30:00'), ny, utc)).toBe(at('2024-03-10 07:30:00'));
    expect(convertWall(at('2024-07-01 12:00:00'), ny, utc)).toBe(at('2024-07-01 16:00:00'));
    expect(convertWall(at('2024-07-01 12:00:00'), TimeZone.of('+08:00'), TimeZone.of('UTC-5'))).toBe(at('2024-06-30 23:00:00'));
    expect(TimeZone.of('Asia/Shanghai').toWall(at('2017-11-04 23:02:00'))).toBe(at('2017-11-05 07:02:00'));
  });
});

describe('export', () => {
  it('writes CSV that imports back unchanged, bounded by --from/--to', async () => {
    const a = freshStore();
    const b = freshStore();
    const file = fixture('roundtrip-src.csv', NAMED_CSV);
    await importBars(a, spec(file));
    await a.write([{ ...RB, time: at('2024-01-02 09:03:00'), open: 0.1 + 0.2, high: 1 / 3 + 1, low: 1e-7, close: 1 / 3, volume: 12.5, turnover: 123456789.125, openInterest: 4 }]);
    const out = join(dir.path, 'export.csv');
    expect(await exportBarsToFile(a, RB, out)).toEqual({ rows: 4, first: '2024-01-02 09:00:00', last: '2024-01-02 09:03:00' });
    expect(readText(out).split('\n')[0]).toBe(EXPORT_HEADER);
    expect(readText(out).split('\n')[4]).toBe('2024-01-02 09:03:00,0.30000000000000004,1.3333333333333333,1e-7,0.3333333333333333,12.5,123456789.125,4');
    await importBars(b, spec(out));
    expect((await collect(b.loadRange(RB))).items).toEqual((await collect(a.loadRange(RB))).items);

    const sink = new PassThrough();
    let text = '';
    sink.on('data', (d: Buffer) => (text += d.toString()));
    const r = await exportBars(a, RB, sink, { from: at('2024-01-02 09:01:00'), to: at('2024-01-02 09:02:00') });
    expect(r.rows).toBe(2);
    expect(text).toBe(`${EXPORT_HEADER}\n2024-01-02 09:01:00,3602.5,3604,3601,3601,80,0,0\n2024-01-02 09:02:00,3601,3603,3600,3603,95,0,0\n`);
    await a.close();
    await b.close();
  });
});
