/**
 * A damaged kestrel.db: found at start (`PRAGMA quick_check`) and salvaged by `kestrel repair`,
 * which copies every row it can still read into a new file and says what it could not.
 */
import type Database from 'better-sqlite3';
import { openSqliteDatabase } from './sqliteDatabase.js';

export interface DatabaseCheck {
  path: string;
  ok: boolean;
  /** quick_check's findings (at most 10), or why the file could not be checked at all. */
  problems: string[];
}

/** Opens read-only (nothing is written, not even a WAL switch) and runs quick_check. */
export function checkDatabase(path: string): DatabaseCheck {
  let db: Database.Database | null = null;
  try {
    db = openSqliteDatabase(path, { readonly: true, fileMustExist: true });
    const rows = db.prepare('PRAGMA quick_check(10)').pluck().all() as string[];
    const ok = rows.length === 1 && rows[0] === 'ok';
    return { path, ok, problems: ok ? [] : rows };
  } catch (err) {
    return { path, ok: false, problems: [messageOf(err)] };
  } finally {
    db?.close();
  }
}

export interface TableSalvage {
  table: string;
  rowsCopied: number;
  /** Rowid ranges that could not be read (rows in them are lost). */
  unreadable: string[];
  /** Whole-table failures (schema unreadable, create failed). */
  error: string | null;
}

export interface SalvageReport {
  source: string;
  target: string;
  tables: TableSalvage[];
  /** Problems not tied to one table (the schema list itself, an index). */
  problems: string[];
  /** The new file passes quick_check. */
  targetOk: boolean;
}

interface SchemaRow {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

/**
 * Copies what is readable from `source` into a new SQLite file `target` (which must not exist):
 * every table's schema, its rows in rowid order (a damaged stretch is stepped over by seeking
 * past it, doubling the step until a row reads again), then the indexes.
 */
export function salvageDatabase(source: string, target: string): SalvageReport {
  const report: SalvageReport = { source, target, tables: [], problems: [], targetOk: false };
  const from = openSqliteDatabase(source, { readonly: true, fileMustExist: true });
  const to = openSqliteDatabase(target);
  try {
    // A truncated file's header still counts the lost pages, which SQLite calls corrupt before
    // reading anything; writable_schema (which needs better-sqlite3's defensive mode off, on
    // this read-only connection only) makes it read the pages that remain.
    from.unsafeMode(true);
    from.pragma('writable_schema = ON');
    let schema: SchemaRow[] = [];
    try {
      schema = from.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid").all() as SchemaRow[];
    } catch (err) {
      report.problems.push(`the list of tables cannot be read: ${messageOf(err)}`);
    }
    const tables = schema.filter((r) => r.type === 'table' && !r.name.startsWith('sqlite_'));
    for (const t of tables) report.tables.push(copyTable(from, to, t));
    for (const r of schema.filter((s) => (s.type === 'index' || s.type === 'view' || s.type === 'trigger') && s.sql)) {
      try {
        to.exec(r.sql as string);
      } catch (err) {
        report.problems.push(`${r.type} ${r.name} not recreated: ${messageOf(err)}`);
      }
    }
    to.pragma('journal_mode = WAL');
    const check = to.prepare('PRAGMA quick_check').pluck().all() as string[];
    report.targetOk = check.length === 1 && check[0] === 'ok';
  } finally {
    from.close();
    to.close();
  }
  return report;
}

function quoted(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const BATCH = 1_000;
/** How far a skip over a damaged stretch may grow before the rest of the table is given up. */
const MAX_SKIP = 1 << 40;

function copyTable(from: Database.Database, to: Database.Database, t: SchemaRow): TableSalvage {
  const out: TableSalvage = { table: t.name, rowsCopied: 0, unreadable: [], error: null };
  try {
    to.exec(t.sql as string);
  } catch (err) {
    out.error = `cannot be created: ${messageOf(err)}`;
    return out;
  }
  const name = quoted(t.name);
  let columns: string[];
  try {
    columns = (from.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[]).map((c) => c.name);
  } catch (err) {
    out.error = `its columns cannot be read: ${messageOf(err)}`;
    return out;
  }
  const list = columns.map(quoted).join(', ');
  const insert = to.prepare(`INSERT OR IGNORE INTO ${name} (rowid, ${list}) VALUES (?${', ?'.repeat(columns.length)})`);
  let read: Database.Statement;
  try {
    read = from.prepare(`SELECT rowid, ${list} FROM ${name} WHERE rowid > ? ORDER BY rowid LIMIT ${BATCH}`).raw(true);
  } catch (err) {
    // WITHOUT ROWID tables: one pass, as far as it reads.
    return copyWithoutRowid(from, to, t, columns, out, err);
  }
  const writeBatch = to.transaction((rows: unknown[][]) => {
    for (const r of rows) insert.run(...r);
  });
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const rows: unknown[][] = [];
    let failed: unknown = null;
    try {
      for (const r of read.iterate(after) as Iterable<unknown[]>) rows.push(r);
    } catch (err) {
      failed = err;
    }
    if (rows.length > 0) {
      writeBatch(rows);
      out.rowsCopied += rows.length;
      after = Number(rows[rows.length - 1]?.[0]);
    }
    if (failed === null) {
      if (rows.length < BATCH) break;
      continue;
    }
    // Step past the damage: the first rowid that reads again starts the next batch.
    const resumed = skipDamage(from, name, after);
    const lostTo = resumed === null ? 'the end' : String(resumed - 1);
    out.unreadable.push(`rowid ${after === Number.MIN_SAFE_INTEGER ? 'start' : after + 1} … ${lostTo} (${messageOf(failed)})`);
    if (resumed === null) break;
    after = resumed - 1;
  }
  return out;
}

function skipDamage(from: Database.Database, name: string, after: number): number | null {
  const probe = from.prepare(`SELECT rowid FROM ${name} WHERE rowid > ? ORDER BY rowid LIMIT 1`).pluck();
  const base = after === Number.MIN_SAFE_INTEGER ? 0 : after;
  for (let step = 1; step <= MAX_SKIP; step *= 2) {
    try {
      const next = probe.get(base + step) as number | undefined;
      if (next === undefined) return null;
      // The row after the probe point read; rows between base and it may still hide in the damage.
      return next;
    } catch {
      // still inside the damaged stretch
    }
  }
  return null;
}

function copyWithoutRowid(from: Database.Database, to: Database.Database, t: SchemaRow, columns: string[], out: TableSalvage, why: unknown): TableSalvage {
  const list = columns.map(quoted).join(', ');
  const insert = to.prepare(`INSERT OR IGNORE INTO ${quoted(t.name)} (${list}) VALUES (${columns.map(() => '?').join(', ')})`);
  try {
    for (const r of from.prepare(`SELECT ${list} FROM ${quoted(t.name)}`).raw(true).iterate() as Iterable<unknown[]>) {
      insert.run(...r);
      out.rowsCopied++;
    }
  } catch (err) {
    out.unreadable.push(`the rest of the table after ${out.rowsCopied} rows (${messageOf(err)}; first try: ${messageOf(why)})`);
  }
  return out;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
