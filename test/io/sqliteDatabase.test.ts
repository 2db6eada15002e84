import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../src/io/sqliteDatabase.js';
import { freshDir } from '../helpers.js';

const root = join(import.meta.dirname, '..', '..');
let cleanup: (() => void) | null = null;
afterEach(() => {
  delete process.env.KESTREL_SQLITE_BINDING;
  cleanup?.();
});

describe('the SQLite native binding', () => {
  it('is the one KESTREL_SQLITE_BINDING names (how the desktop loads its Electron build)', () => {
    const tmp = freshDir('binding');
    cleanup = tmp.remove;
    process.env.KESTREL_SQLITE_BINDING = join(tmp.dir, 'missing', 'better_sqlite3.node');
    expect(() => openSqliteDatabase(join(tmp.dir, 'a.db'))).toThrow(/missing/);
    process.env.KESTREL_SQLITE_BINDING = join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    const db = openSqliteDatabase(join(tmp.dir, 'a.db'));
    expect(db.prepare('SELECT 41 + 1 AS n').get()).toEqual({ n: 42 });
    db.close();
  });
});
