/**
 * One way to open the bar store from what a user or a launch config says:
 * `--data-dir D` (→ D/kestrel.db), `--sqlite FILE` (e.g. a user's own vnpy database.db) or
 * `--mysql URL`.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BarStoreConfigError, BarStoreUnavailableError, type BarStore } from './barStore.js';
import { SqliteBarStore } from './sqliteBarStore.js';

export interface OpenBarStoreOptions {
  /** The Kestrel data directory: bars live in `<dataDir>/kestrel.db`, created if absent when writable. */
  dataDir?: string;
  /** `mysql://user[:password]@host[:port]/database` in vnpy_mysql's schema. */
  mysqlUrl?: string;
  /** A SQLite file in vnpy's schema, e.g. vnpy's own `~/.vntrader/database.db`. */
  sqlitePath?: string;
  /** Never write: no DDL, no WAL switch; write() throws. */
  readonly?: boolean;
}

export const BAR_DB_FILE = 'kestrel.db';

/**
 * Kestrel writes bars only into its data directory's own kestrel.db. Any other SQLite bar
 * source is the trader's (a vnpy recorder's file): it must already exist, hold vnpy's tables,
 * and is opened read-only, so that a setting can never make Kestrel create or write a file
 * elsewhere.
 */
export function isOwnBarDatabase(dataDir: string, path: string | null): boolean {
  return path === null || resolve(path) === resolve(dataDir, BAR_DB_FILE);
}

/**
 * Exactly one of dataDir, mysqlUrl, sqlitePath.
 * @throws BarStoreConfigError when none or several are given, or the MySQL URL is malformed;
 *   BarStoreUnavailableError when the store cannot be opened or reached.
 */
export async function openBarStore(opts: OpenBarStoreOptions): Promise<BarStore> {
  const given = [opts.dataDir, opts.mysqlUrl, opts.sqlitePath].filter((v) => v !== undefined && v !== '');
  if (given.length === 0) {
    throw new BarStoreConfigError('no bar store given: pass --data-dir DIR, --sqlite FILE or --mysql URL');
  }
  if (given.length > 1) {
    throw new BarStoreConfigError('give only one bar store: --data-dir DIR, --sqlite FILE or --mysql URL');
  }
  const readonly = opts.readonly ?? false;
  if (opts.mysqlUrl) {
    // mysql2 is loaded only by a process that reads MySQL: a worker on SQLite is ~15 MB lighter without it.
    const { MysqlBarStore } = await import('./mysqlBarStore.js');
    return MysqlBarStore.connect(opts.mysqlUrl, { readonly });
  }
  if (opts.sqlitePath) return SqliteBarStore.open(opts.sqlitePath, { readonly });
  const dataDir = resolve(opts.dataDir as string);
  if (!readonly) {
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (err) {
      throw new BarStoreUnavailableError(
        `data directory ${dataDir} cannot be created: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }
  return SqliteBarStore.open(join(dataDir, BAR_DB_FILE), { readonly });
}
