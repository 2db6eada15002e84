/**
 * Issue 12, finding 6: a bar source setting cannot make Kestrel create or write a file outside
 * its data directory, and "Test connection" answers only ok / not a vnpy database / unreachable.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { openSettingsFile } from '../../src/main/workstation/settingsFile.js';
import { DataService } from '../../src/main/workstation/dataService.js';
import { SettingsService } from '../../src/main/workstation/settingsService.js';
import type { CommandRunner } from '../../src/main/workstation/settingsStore.js';
import { ApiError, type CallContext } from '../../src/shared/api.js';
import { settingsSchema } from '../../src/shared/config.js';
import { freshDir } from '../helpers.js';
import { makeBars } from '../io/storeFixtures.js';

const CTX: CallContext = { origin: 'rest', controlAllowed: true };
const run: CommandRunner = async (_c, _a, _t, _p, body) => body();
const NOT_VNPY = 'not a vnpy bar database (or not readable by Kestrel)';

let tmp: { dir: string; remove: () => void };
let dataDir: string;
let vnpyFile: string;
beforeEach(() => {
  tmp = freshDir('bar-source-scope');
  dataDir = join(tmp.dir, 'data');
  mkdirSync(dataDir);
  vnpyFile = join(tmp.dir, 'database.db');
  const store = SqliteBarStore.open(vnpyFile);
  store.writeSync(makeBars('rb2505', 'SHFE', Date.UTC(2024, 0, 2, 1) / 1000, 10));
  store.closeSync();
});
afterEach(() => tmp.remove());

function settingsService(): SettingsService {
  return new SettingsService({ store: openSettingsFile(dataDir), running: settingsSchema.parse({}), dataDir, command: run });
}

describe('a SQLite bar source outside the data directory', () => {
  it('cannot be saved unless it is an existing vnpy database (a missing file is never created)', async () => {
    const svc = settingsService();
    const missing = join(tmp.dir, 'elsewhere', 'new.db');
    const notVnpy = join(tmp.dir, 'notes.txt');
    writeFileSync(notVnpy, 'hello');
    for (const path of [missing, notVnpy]) {
      const err = await svc.handlers().updateSettings({ settings: { barSource: { kind: 'sqlite', path } } }, CTX).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).fields?.[0]).toMatchObject({ path: 'barSource.path' });
      expect((err as ApiError).fields?.[0]?.message).toContain(NOT_VNPY);
    }
    expect(existsSync(missing)).toBe(false);
    const saved = await svc.handlers().updateSettings({ settings: { barSource: { kind: 'sqlite', path: vnpyFile } } }, CTX);
    expect(saved.settings.barSource).toEqual({ kind: 'sqlite', path: vnpyFile });
  });

  it('is never imported into: the trader’s own file is read-only for Kestrel (409)', async () => {
    const data = new DataService({ dataDir, barSource: { kind: 'sqlite', path: vnpyFile }, command: run });
    try {
      const err = await data
        .handlers()
        .importBars({ fileName: 'rb.csv', content: 'datetime,open,high,low,close,volume\n2024-03-07 09:00:00,1,2,0.5,1.5,3\n', symbol: 'rb2505', exchange: 'SHFE', interval: '1m' } as never, CTX)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(409);
      expect((err as ApiError).message).toContain('outside the data directory');
    } finally {
      await data.close();
    }
  });
});

describe('testBarSource answers only ok / not a vnpy database / unreachable', () => {
  it('a missing path, a folder and a non-SQLite file answer alike; a vnpy file is ok', async () => {
    const svc = settingsService();
    const test = (path: string) => svc.handlers().testBarSource({ barSource: { kind: 'sqlite', path } }, CTX);
    writeFileSync(join(tmp.dir, 'notes.txt'), 'hello');
    for (const path of [join(tmp.dir, 'nope', 'x.db'), tmp.dir, join(tmp.dir, 'notes.txt')]) {
      expect(await test(path)).toEqual({ ok: false, message: NOT_VNPY });
    }
    expect((await test(vnpyFile)).ok).toBe(true);
  });
});
