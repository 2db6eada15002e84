/**
 * Issue 12, finding 10: what `kestrel import` says about real files a user gets wrong or that
 * carry more than it used to read (UTC offsets, repeated datetimes, empty files, DST gaps).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { importCommand } from '../../src/main/cli/import.js';
import { formatDatetime } from '../../src/shared/time.js';
import { createTempDir, type TempDir } from '../io/storeFixtures.js';
import { runCommand } from './cliHarness.js';

let dir: TempDir;
beforeAll(() => {
  dir = createTempDir('kestrel-import-input-');
});
afterAll(() => dir.remove());

let n = 0;
function file(name: string, text: string): string {
  const path = join(dir.path, `${++n}-${name}`);
  writeFileSync(path, text);
  return path;
}

function importArgs(path: string, dataDir: string, exchange = 'SHFE', extra: string[] = []): string[] {
  return ['--file', path, '--symbol', 'rb2505', '--exchange', exchange, '--data-dir', dataDir, ...extra];
}

function storedTimes(dataDir: string, exchange = 'SHFE'): string[] {
  const store = SqliteBarStore.open(join(dataDir, 'kestrel.db'), { readonly: true });
  try {
    const out: string[] = [];
    for (const chunk of store.loadRangeSync({ symbol: 'rb2505', exchange, interval: '1m' })) for (const b of chunk) out.push(`${formatDatetime(b.time)} ${b.close}`);
    return out;
  } finally {
    store.closeSync();
  }
}

const HEADER = 'datetime,open,high,low,close,volume\n';

describe('kestrel import: times written with a UTC offset', () => {
  it('ISO 8601 +08:00, Z and pandas +00:00 are converted to the exchange time (SHFE: Asia/Shanghai)', async () => {
    const dataDir = join(dir.path, 'offsets');
    const path = file(
      'offsets.csv',
      HEADER +
        '2024-01-02T09:30:00+08:00,10,11,9,10.5,1\n' +
        '2024-01-02T01:31:00Z,10,11,9,10.6,1\n' +
        '2024-01-02 01:32:00+00:00,10,11,9,10.7,1\n' +
        '2024-01-02T02:33:00+0100,10,11,9,10.8,1\n',
    );
    const run = await runCommand(importCommand, importArgs(path, dataDir));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(storedTimes(dataDir)).toEqual([
      '2024-01-02 09:30:00 10.5',
      '2024-01-02 09:31:00 10.6',
      '2024-01-02 09:32:00 10.7',
      '2024-01-02 09:33:00 10.8',
    ]);
  });

  it('an exchange whose zone is not known asks for --exchange-tz, naming the line; with it the rows import', async () => {
    const dataDir = join(dir.path, 'offsets-unknown');
    const path = file('btc.csv', HEADER + '2024-01-02 01:30:00+00:00,10,11,9,10.5,1\n2024-01-02T09:31:00+08:00,10,11,9,10.6,1\n');
    const refused = await runCommand(importCommand, importArgs(path, dataDir, 'BINANCE'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${path}:2:`);
    expect(refused.stderr).toContain('--exchange-tz');
    const run = await runCommand(importCommand, importArgs(path, dataDir, 'BINANCE', ['--exchange-tz', 'UTC']));
    expect(run.code).toBe(0);
    expect(storedTimes(dataDir, 'BINANCE')).toEqual(['2024-01-02 01:30:00 10.5', '2024-01-02 01:31:00 10.6']);
  });
});

describe('kestrel import: repeated datetimes', () => {
  it('a repeated datetime with different values is a warning naming both lines; the later row is stored', async () => {
    const dataDir = join(dir.path, 'dupes');
    const path = file(
      'dupes.csv',
      HEADER +
        '2024-01-02 09:30:00,10,11,9,10.5,1\n' +
        '2024-01-02 09:31:00,10,11,9,10.6,1\n' +
        '2024-01-02 09:30:00,10,11,9,10.9,1\n' +
        '2024-01-02 09:31:00,10,11,9,10.6,1\n',
    );
    const run = await runCommand(importCommand, importArgs(path, dataDir));
    expect(run.code).toBe(0);
    const warnings = run.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    // Lines 2 and 4 disagree; lines 3 and 5 are the same bar twice and need no warning.
    expect(warnings).toEqual([
      `warning: ${path}:2 and ${path}:4: the same datetime 2024-01-02 09:30:00 with different values (close 10.5 vs 10.9); the later row, ${path}:4, is stored`,
    ]);
    expect(run.stdout).toMatch(/repeated\s+2 rows repeat an earlier datetime \(the last one is stored; 1 with different values\)/);
    expect(storedTimes(dataDir)).toEqual(['2024-01-02 09:30:00 10.9', '2024-01-02 09:31:00 10.6']);
  });
});

describe('kestrel import: files with no bars', () => {
  it('an empty file says it is empty (not that --columns is missing)', async () => {
    const run = await runCommand(importCommand, importArgs(file('empty.csv', ''), join(dir.path, 'empty')));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/empty\.csv: the file is empty: no bars to import/);
    expect(run.stderr).not.toMatch(/--columns|bad row/);
  });

  it('a header-only file says it holds only its header', async () => {
    const run = await runCommand(importCommand, importArgs(file('header.csv', HEADER), join(dir.path, 'header')));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/header\.csv: the file holds only its header line \(line 1\), no bars to import/);
    expect(run.stderr).not.toMatch(/bad row/);
  });

  it('an empty JSON array says it is empty', async () => {
    const run = await runCommand(importCommand, importArgs(file('empty.json', '[]'), join(dir.path, 'empty-json')));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/empty\.json: the JSON array is empty: no bars to import/);
  });
});

describe('kestrel import: a local time inside a daylight-saving gap', () => {
  it('is an error naming the line and the zone, and nothing is stored', async () => {
    const dataDir = join(dir.path, 'dst');
    // Europe/Berlin went from 02:00 to 03:00 on 2024-03-31.
    const path = file('berlin.csv', HEADER + '2024-03-31 01:59:00,10,11,9,10.5,1\n2024-03-31 02:30:00,10,11,9,10.6,1\n2024-03-31 03:00:00,10,11,9,10.7,1\n');
    const run = await runCommand(importCommand, importArgs(path, dataDir, 'EUREX', ['--tz', 'Europe/Berlin']));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${path}:3: field "datetime": "2024-03-31 02:30:00" does not exist in Europe/Berlin: the clocks jumped 60 minutes forward`);
    expect(run.stderr).toMatch(/1 bad row of 3; nothing was stored/);
  });
});
