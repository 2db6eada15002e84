/**
 * What every bar-store command shares: `--data-dir D | --sqlite FILE | --mysql URL`, and the
 * mapping of errors to exit codes (0 ok, 1 runtime failure, 2 usage or input error).
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { BarStoreConfigError, BarStoreUnavailableError, type BarStore } from '../../io/barStore.js';
import { ImportUsageError } from '../../io/barImport.js';
import { openBarStore } from '../../io/openBarStore.js';
import { UsageError, type CliIo } from './command.js';

export const STORE_FLAGS = {
  'data-dir': { type: 'string' },
  sqlite: { type: 'string' },
  mysql: { type: 'string' },
} as const;

export const STORE_USAGE = `Bar store (one of; default: --data-dir $KESTREL_DATA_DIR or ~/.kestrel):
  --data-dir DIR      Kestrel's data directory: bars in DIR/kestrel.db (SQLite, vnpy's tables)
  --sqlite FILE       a SQLite file in vnpy's schema, e.g. vnpy's own ~/.vntrader/database.db
  --mysql URL         mysql://user[:password]@host[:port]/database in vnpy_mysql's schema`;

/** The data directory `kestrel serve` uses too: $KESTREL_DATA_DIR or ~/.kestrel. */
export function defaultDataDir(): string {
  return process.env.KESTREL_DATA_DIR ?? join(homedir(), '.kestrel');
}

export async function openStoreFromFlags(
  values: { 'data-dir'?: string; sqlite?: string; mysql?: string },
  io: CliIo,
  opts: { readonly: boolean },
): Promise<BarStore> {
  const given = [values['data-dir'], values.sqlite, values.mysql].filter((v) => v !== undefined);
  if (given.length > 1) throw new UsageError('give only one of --data-dir, --sqlite, --mysql');
  try {
    if (values.mysql !== undefined) return await openBarStore({ mysqlUrl: values.mysql, readonly: opts.readonly });
    if (values.sqlite !== undefined) {
      return await openBarStore({ sqlitePath: resolve(io.cwd, values.sqlite), readonly: opts.readonly });
    }
    return await openBarStore({ dataDir: resolve(io.cwd, values['data-dir'] ?? defaultDataDir()), readonly: opts.readonly });
  } catch (err) {
    if (err instanceof BarStoreConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * Runs a command body and turns what it throws into one clear line and an exit code:
 * usage and input errors → 2, an unreachable store or any other failure → 1.
 */
export async function runReportingErrors(name: string, io: CliIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError || err instanceof ImportUsageError || err instanceof BarStoreConfigError) {
      io.stderr.write(`kestrel ${name}: ${err.message}\nRun \`kestrel ${name} --help\` for the options.\n`);
      return 2;
    }
    if (err instanceof BarStoreUnavailableError) {
      io.stderr.write(`kestrel ${name}: ${err.message}\n`);
      return 1;
    }
    io.stderr.write(`kestrel ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
