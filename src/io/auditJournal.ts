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

export interface AuditLimits {
  /** The longest `params` JSON kept whole; a longer one is kept as its head and size. */
  maxParamsChars: number;
  /** The longest message (and target) kept. */
  maxTextChars: number;
  /** Rows kept; past it the oldest are folded into one summary row (counts per action and outcome). */
  maxRows: number;
}

export const DEFAULT_AUDIT_LIMITS: AuditLimits = { maxParamsChars: 2048, maxTextChars: 1024, maxRows: 20_000 };
/** The action of a row that stands for older rows folded together. */
export const AUDIT_SUMMARY_ACTION = 'audit:summary';

interface SummaryParams {
  entries: number;
  from: string;
  to: string;
  /** `<action>:<outcome>` → count */
  counts: Record<string, number>;
}

/**
 * Every command a user gives is written here before its answer goes back: who asked
 * (ipc / rest / websocket / cli), what, and what came of it. A table in kestrel.db, bounded
 * whatever callers send: each entry is capped, and the oldest rows are summarised, so a flood
 * of refused commands costs a few kilobytes, never the disk.
 */
export class AuditJournal {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly limits: AuditLimits;
  private rows: number;
  private held: AuditEntry[] = [];

  constructor(path: string, limits: Partial<AuditLimits> = {}) {
    this.limits = { ...DEFAULT_AUDIT_LIMITS, ...limits };
    this.db = openSqliteDatabase(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS audit (
      id INTEGER PRIMARY KEY, time TEXT NOT NULL, origin TEXT NOT NULL, action TEXT NOT NULL,
      target TEXT, params TEXT NOT NULL, outcome TEXT NOT NULL, message TEXT NOT NULL)`);
    this.insert = this.db.prepare(
      'INSERT INTO audit (time, origin, action, target, params, outcome, message) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.rows = (this.db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n;
  }

  record(e: AuditEntry): void {
    const cap = (text: string): string => (text.length > this.limits.maxTextChars ? `${text.slice(0, this.limits.maxTextChars)}…` : text);
    // Entries a full disk refused go in first, in order; a command is never failed for its audit line.
    const entries = [...this.held, e];
    try {
      this.db.transaction(() => {
        for (const x of entries) {
          this.insert.run(x.time, cap(x.origin), cap(x.action), x.target === null ? null : cap(x.target), this.boundedParams(x.params), x.outcome, cap(x.message));
        }
      })();
      this.held = [];
    } catch (err) {
      if (!reportWriteFailure(this.db.name, err)) throw err;
      this.held = entries.slice(-MAX_HELD);
      return;
    }
    this.rows += entries.length;
    // Folding a tenth at a time keeps the summary rows few and the work per record small.
    if (this.rows > this.limits.maxRows) this.summariseOldest(this.rows - this.limits.maxRows + Math.ceil(this.limits.maxRows / 10));
  }

  private boundedParams(params: Record<string, unknown>): string {
    const text = JSON.stringify(params);
    if (text.length <= this.limits.maxParamsChars) return text;
    return JSON.stringify({ truncated: true, chars: text.length, head: text.slice(0, Math.floor(this.limits.maxParamsChars / 2)) });
  }

  /** The oldest `count` rows become one summary row in their place (the earliest id, so it stays first). */
  private summariseOldest(count: number): void {
    const fold = this.db.transaction(() => {
      const oldest = this.db.prepare('SELECT id, time, action, params, outcome FROM audit ORDER BY id LIMIT ?').all(count) as {
        id: number;
        time: string;
        action: string;
        params: string;
        outcome: string;
      }[];
      const first = oldest[0];
      const last = oldest[oldest.length - 1];
      if (!first || !last || oldest.length < 2) return;
      const summary: SummaryParams = { entries: 0, from: first.time, to: last.time, counts: {} };
      for (const row of oldest) {
        const earlier = row.action === AUDIT_SUMMARY_ACTION ? (JSON.parse(row.params) as SummaryParams) : null;
        if (earlier) {
          summary.entries += earlier.entries;
          if (earlier.from < summary.from) summary.from = earlier.from;
          for (const [key, n] of Object.entries(earlier.counts)) summary.counts[key] = (summary.counts[key] ?? 0) + n;
        } else {
          summary.entries++;
          const key = `${row.action}:${row.outcome}`;
          summary.counts[key] = (summary.counts[key] ?? 0) + 1;
        }
      }
      this.db.prepare('DELETE FROM audit WHERE id > ? AND id <= ?').run(first.id, last.id);
      this.db
        .prepare('UPDATE audit SET time = ?, origin = ?, action = ?, target = NULL, params = ?, outcome = ?, message = ? WHERE id = ?')
        .run(last.time, 'kestrel', AUDIT_SUMMARY_ACTION, JSON.stringify(summary), 'ok', `${summary.entries} older entries summarised (${summary.from} … ${summary.to})`, first.id);
      this.rows -= oldest.length - 1;
    });
    fold();
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
