import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BarKey } from '../../src/io/barStore.js';
import { MysqlBarStore } from '../../src/io/mysqlBarStore.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { exportCommand } from '../../src/main/cli/export.js';
import { importCommand } from '../../src/main/cli/import.js';
import { collect, createTempDir, createTempMysqlDb, type TempDir, type TempMysqlDb } from '../io/storeFixtures.js';
import { PROJECT_ROOT, runCommand, spawnCli } from './cliHarness.js';

const DATA = join(PROJECT_ROOT, '..', 'shared', 'data');
const BACKTRADER = join(DATA, 'backtrader_2006-01-02-volume-min-001.txt');
const FREQTRADE = join(DATA, 'freqtrade_UNITTEST_BTC-1m.json');
const haveData = existsSync(BACKTRADER) && existsSync(FREQTRADE);
const NO_DATA = `../shared/data is absent (a fresh clone has none): the real-data import tests are skipped`;
if (!haveData) console.warn(NO_DATA);

/** The flags a user gives for each shared file (also in `kestrel import --help`). */
const BACKTRADER_FLAGS = [
  '--file', BACKTRADER, '--symbol', 'ESTX50', '--exchange', 'EUREX',
  '--columns', 'date=0,time=1,open=2,high=3,low=4,close=5,volume=6,openInterest=7', '--skip-header',
];
const FREQTRADE_FLAGS = [
  '--file', FREQTRADE, '--symbol', 'UNITTEST_BTC', '--exchange', 'BINANCE',
  '--columns', 'datetime=0,open=1,high=2,low=3,close=4,volume=5', '--datetime-format', 'epoch-ms', '--tz', 'UTC',
];
const ESTX: BarKey = { symbol: 'ESTX50', exchange: 'EUREX', interval: '1m' };
const BTC: BarKey = { symbol: 'UNITTEST_BTC', exchange: 'BINANCE', interval: '1m' };

const at = (text: string): number => Date.parse(`${text.replace(' ', 'T')}Z`) / 1000;

let dir: TempDir;
let db: TempMysqlDb;
beforeAll(async () => {
  dir = createTempDir('kestrel-cli-');
  db = await createTempMysqlDb();
});
afterAll(async () => {
  dir.remove();
  await db.drop();
});

function summaryValue(stdout: string, label: string): string | undefined {
  return new RegExp(`^  ${label}\\s+(.*)$`, 'm').exec(stdout)?.[1];
}

describe.skipIf(!haveData)('importing the shared real data as a user describes it', () => {
  it('backtrader CSV (header lacks Time): every data row, first/last right, re-import idempotent', async () => {
    const dataDir = join(dir.path, 'bt');
    const lines = readFileSync(BACKTRADER, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
    const dataRows = lines.slice(1);
    const first = dataRows[0]!.split(',');
    const last = dataRows[dataRows.length - 1]!.split(',');

    const run = await runCommand(importCommand, [...BACKTRADER_FLAGS, '--data-dir', dataDir]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(dataRows.length).toBe(30_889);
    expect(summaryValue(run.stdout, 'rows read')).toBe('30889');
    expect(summaryValue(run.stdout, 'rows written')).toBe('30889');
    expect(summaryValue(run.stdout, 'first datetime')).toBe(`${first[0]} ${first[1]}`);
    expect(summaryValue(run.stdout, 'last datetime')).toBe(`${last[0]} ${last[1]}`);
    expect(summaryValue(run.stdout, 'key')).toBe('ESTX50.EUREX 1m');

    const again = await runCommand(importCommand, [...BACKTRADER_FLAGS, '--data-dir', dataDir]);
    expect(again.code).toBe(0);
    const store = SqliteBarStore.open(join(dataDir, 'kestrel.db'), { readonly: true });
    try {
      expect(await store.overview()).toEqual([
        { ...ESTX, count: 30_889, start: '2006-01-02 09:01:00', end: '2006-02-27 22:00:00' },
      ]);
      const bars = (await collect(store.loadRange(ESTX))).items;
      expect(bars).toHaveLength(30_889);
      // Every bar is the file's row, read independently here.
      for (const [i, line] of dataRows.entries()) {
        const f = line.split(',');
        const b = bars[i]!;
        if (b.time !== at(`${f[0]} ${f[1]}`) || b.open !== Number(f[2]) || b.high !== Number(f[3]) || b.low !== Number(f[4]) || b.close !== Number(f[5]) || b.volume !== Number(f[6]) || b.openInterest !== Number(f[7])) {
          expect.fail(`bar ${i} ${JSON.stringify(b)} differs from line ${i + 2}: ${line}`);
        }
      }
    } finally {
      await store.close();
    }
  });

  it('freqtrade JSON (ms epochs, UTC): every row, first/last right, re-import idempotent, into SQLite and MariaDB', async () => {
    const raw = JSON.parse(readFileSync(FREQTRADE, 'utf8')) as number[][];
    const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
    const dataDir = join(dir.path, 'ft');
    for (const target of [['--data-dir', dataDir], ['--mysql', db.url]]) {
      const run = await runCommand(importCommand, [...FREQTRADE_FLAGS, ...target]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(raw.length).toBe(13_681);
      expect(summaryValue(run.stdout, 'rows read')).toBe('13681');
      expect(summaryValue(run.stdout, 'first datetime')).toBe(iso(raw[0]![0]!));
      expect(summaryValue(run.stdout, 'last datetime')).toBe(iso(raw[raw.length - 1]![0]!));
      expect(summaryValue(run.stdout, 'first datetime')).toBe('2017-11-04 23:02:00');
      expect(summaryValue(run.stdout, 'last datetime')).toBe('2017-11-14 22:59:00');
      const again = await runCommand(importCommand, [...FREQTRADE_FLAGS, ...target]);
      expect(summaryValue(again.stdout, 'now stored')).toBe('13681 bars, 2017-11-04 23:02:00 → 2017-11-14 22:59:00');
    }
    const sqlite = SqliteBarStore.open(join(dataDir, 'kestrel.db'), { readonly: true });
    const mysql = await MysqlBarStore.connect(db.url, { readonly: true });
    try {
      const a = (await collect(sqlite.loadRange(BTC))).items;
      expect(a.map((b) => [b.time * 1000, b.open, b.high, b.low, b.close, b.volume])).toEqual(raw);
      expect((await collect(mysql.loadRange(BTC))).items).toEqual(a);
    } finally {
      await sqlite.close();
      await mysql.close();
    }
  });

  it('a bad row at a known line stores nothing and names file, line and field', async () => {
    const lines = readFileSync(BACKTRADER, 'utf8').split('\r\n');
    const f = lines[999]!.split(',');
    f[3] = 'abc';
    lines[999] = f.join(',');
    const broken = join(dir.path, 'broken.txt');
    writeFileSync(broken, lines.join('\r\n'));
    const dataDir = join(dir.path, 'broken');
    const run = await runCommand(importCommand, [...BACKTRADER_FLAGS.map((a) => (a === BACKTRADER ? broken : a)), '--data-dir', dataDir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`${broken}:1000: field "high": "abc" is not a number\n${broken}: 1 bad row of 30889; nothing was stored\n`);
    expect(run.stdout).toBe('');
    const store = SqliteBarStore.open(join(dataDir, 'kestrel.db'), { readonly: true });
    expect(await store.overview()).toEqual([]);
    expect(await store.lastTime(ESTX)).toBeNull();
    await store.close();
  });
});

describe('kestrel import/export flags and errors', () => {
  const csv = (): string => {
    const path = join(dir.path, 'small.csv');
    writeFileSync(path, 'datetime,open,high,low,close,volume\n2024-01-02 09:00:00,10,11,9,10.5,3\n2024-01-02 09:01:00,10.5,12,10,11,4\n');
    return path;
  };

  it('exit code 2 and the flag named for a bad or missing flag', async () => {
    const bogus = await runCommand(importCommand, ['--file', csv(), '--symbol', 'X', '--exchange', 'Y', '--bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/^kestrel import: unknown flag --bogus\n/);
    const missing = await runCommand(importCommand, ['--file', csv(), '--exchange', 'Y']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^kestrel import: missing --symbol/);
    const noValue = await runCommand(exportCommand, ['--vt-symbol']);
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toMatch(/^kestrel export: flag --vt-symbol needs a value/);
    const interval = await runCommand(importCommand, ['--file', csv(), '--symbol', 'X', '--exchange', 'Y', '--interval', '7m', '--data-dir', dir.path]);
    expect(interval.code).toBe(2);
    expect(interval.stderr).toMatch(/--interval "7m" is not one of 1m, 1h, d, w, tick/);
    const badDate = await runCommand(exportCommand, ['--vt-symbol', 'X.Y', '--from', '2024-02-30', '--file', '-', '--data-dir', dir.path]);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toMatch(/--from "2024-02-30" is not a date/);
  });

  it('a malformed MySQL URL is a usage error (2), an unreachable server a runtime error (1), both said clearly', async () => {
    const bad = await runCommand(importCommand, ['--file', csv(), '--symbol', 'X', '--exchange', 'Y', '--mysql', 'mysql://root:pw@127.0.0.1:3306']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/MySQL URL "mysql:\/\/root:\*\*\*@127\.0\.0\.1:3306": the database name is missing/);
    expect(bad.stderr).not.toContain('pw@');
    const down = await runCommand(importCommand, ['--file', csv(), '--symbol', 'X', '--exchange', 'Y', '--mysql', 'mysql://root@127.0.0.1:1/x']);
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(
      'kestrel import: MySQL at 127.0.0.1:1 refused the connection (ECONNREFUSED); check that the server is running\n',
    );
  });

  it('export to stdout writes the CSV; to a file, a summary', async () => {
    const dataDir = join(dir.path, 'exp');
    expect((await runCommand(importCommand, ['--file', csv(), '--vt-symbol', 'rb2501.SHFE', '--data-dir', dataDir])).code).toBe(0);
    const out = await runCommand(exportCommand, ['--vt-symbol', 'rb2501.SHFE', '--file', '-', '--data-dir', dataDir]);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(
      'datetime,open,high,low,close,volume,turnover,open_interest\n2024-01-02 09:00:00,10,11,9,10.5,3,0,0\n2024-01-02 09:01:00,10.5,12,10,11,4,0,0\n',
    );
    const file = await runCommand(exportCommand, ['--vt-symbol', 'rb2501.SHFE', '--file', 'out.csv', '--data-dir', dataDir], dir.path);
    expect(file.code).toBe(0);
    expect(readFileSync(join(dir.path, 'out.csv'), 'utf8')).toBe(out.stdout);
    expect(file.stdout).toMatch(/^Exported 2 bars of rb2501\.SHFE 1m from SQLite .*\(read-only\)\n/);
  });
});

describe('the real kestrel process', () => {
  it('imports, exports, and exits 2 naming file, line and field for a bad row', async () => {
    const good = join(dir.path, 'proc.csv');
    writeFileSync(good, 'Date,Time,Open,High,Low,Close,Volume\n20240102,0900,10,11,9,10.5,3\n20240102,0901,10.5,12,10,11,4\n');
    const dataDir = join(dir.path, 'proc');
    const flags = ['--symbol', 'rb2501', '--exchange', 'SHFE', '--columns', 'date=Date,time=Time,open=Open,high=High,low=Low,close=Close,volume=Volume', '--datetime-format', '%Y%m%d %H%M', '--data-dir', dataDir];
    const imported = await spawnCli(['import', '--file', good, ...flags]);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/rows written {4}2\n/);
    const exported = await spawnCli(['export', '--vt-symbol', 'rb2501.SHFE', '--file', '-', '--data-dir', dataDir]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toBe(
      'datetime,open,high,low,close,volume,turnover,open_interest\n2024-01-02 09:00:00,10,11,9,10.5,3,0,0\n2024-01-02 09:01:00,10.5,12,10,11,4,0,0\n',
    );
    const bad = join(dir.path, 'proc-bad.csv');
    writeFileSync(bad, 'Date,Time,Open,High,Low,Close,Volume\n20240102,0902,10,11,9,10.5,3\n20240102,0903,10.5,1x2,10,11,4\n');
    const rejected = await spawnCli(['import', '--file', bad, ...flags]);
    expect(rejected.code).toBe(2);
    expect(rejected.stderr).toBe(`${bad}:3: field "high": "1x2" is not a number\n${bad}: 1 bad row of 2; nothing was stored\n`);
    const unknown = await spawnCli(['import', '--nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown flag --nope/);
  });
});
