import type Database from 'better-sqlite3';
import { reportWriteFailure } from './diskGuard.js';
import { openSqliteDatabase } from './sqliteDatabase.js';

/** Audit entries kept in memory while the disk is full; beyond it the oldest are dropped. */
const MAX_HELD = 1_000;

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
  private held: AuditEntry[] = [];

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
    // Entries a full disk refused go in first, in order; a command is never failed for its audit line.
    const entries = [...this.held, e];
    try {
      this.db.transaction(() => {
        for (const x of entries) this.insert.run(x.time, x.origin, x.action, x.target, JSON.stringify(x.params), x.outcome, x.message);
      })();
      this.held = [];
    } catch (err) {
      if (!reportWriteFailure(this.db.name, err)) throw err;
      this.held = entries.slice(-MAX_HELD);
    }
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
