import type Database from 'better-sqlite3';
import { openSqliteDatabase } from './sqliteDatabase.js';

export interface AuditEntry {
  time: string;
  origin: string;
  action: string;
  target: string | null;
  params: Record<string, unknown>;
  outcome: 'ok' | 'refused' | 'failed';
  message: string;
}

/**
 * Every command a user gives is written here before its answer goes back: who asked
 * (ipc / rest / websocket / cli), what, and what came of it. A table in kestrel.db.
 */
export class AuditJournal {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;

  constructor(path: string) {
    this.db = openSqliteDatabase(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS audit (
      id INTEGER PRIMARY KEY, time TEXT NOT NULL, origin TEXT NOT NULL, action TEXT NOT NULL,
      target TEXT, params TEXT NOT NULL, outcome TEXT NOT NULL, message TEXT NOT NULL)`);
    this.insert = this.db.prepare(
      'INSERT INTO audit (time, origin, action, target, params, outcome, message) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
  }

  record(e: AuditEntry): void {
    this.insert.run(e.time, e.origin, e.action, e.target, JSON.stringify(e.params), e.outcome, e.message);
  }

  recent(limit = 100): AuditEntry[] {
    const rows = this.db
      .prepare('SELECT time, origin, action, target, params, outcome, message FROM audit ORDER BY id DESC LIMIT ?')
      .all(limit) as (Omit<AuditEntry, 'params'> & { params: string })[];
    return rows.map((r) => ({ ...r, params: JSON.parse(r.params) as Record<string, unknown> }));
  }

  close(): void {
    this.db.close();
  }
}
