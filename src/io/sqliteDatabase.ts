import Database from 'better-sqlite3';

/**
 * Every SQLite file Kestrel opens goes through here. better-sqlite3 is a native module built
 * for Node's ABI; inside Electron (main process and utility-process workers) it needs a copy
 * built for Electron's, which `npm start` builds once and names in KESTREL_SQLITE_BINDING.
 */
export function openSqliteDatabase(path: string, options: Database.Options = {}): Database.Database {
  const nativeBinding = process.env.KESTREL_SQLITE_BINDING;
  return new Database(path, nativeBinding ? { ...options, nativeBinding } : options);
}
