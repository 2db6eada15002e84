import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIT_SUMMARY_ACTION, AuditJournal, type AuditEntry } from '../../src/io/auditJournal.js';
import { freshDir } from '../helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function journalIn(prefix: string, limits: ConstructorParameters<typeof AuditJournal>[1] = {}): { journal: AuditJournal; path: string } {
  const tmp = freshDir(prefix);
  const path = join(tmp.dir, 'kestrel.db');
  const journal = new AuditJournal(path, limits);
  cleanups.push(tmp.remove, () => journal.close());
  return { journal, path };
}

const entry = (i: number, over: Partial<AuditEntry> = {}): AuditEntry => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  origin: 'rest',
  action: i % 3 === 0 ? 'stopVariant' : 'updateSettings',
  target: null,
  params: { i },
  outcome: i % 2 === 0 ? 'refused' : 'ok',
  message: 'm',
  ...over,
});

describe('audit journal: bounded whatever callers send', () => {
  it('keeps a large entry as its head and size, and caps message and target', () => {
    const { journal } = journalIn('audit-cap', { maxParamsChars: 2048, maxTextChars: 256 });
    const huge = { settings: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i])) };
    journal.record(entry(1, { params: huge, message: 'y'.repeat(100_000), target: 't'.repeat(10_000) }));
    journal.record(entry(2, { params: { variant: 'demo-15m' } }));
    const [small, large] = journal.recent(2);
    expect(small?.params).toEqual({ variant: 'demo-15m' });
    expect(large?.params).toMatchObject({ truncated: true, chars: JSON.stringify(huge).length });
    expect(JSON.stringify(large?.params).length).toBeLessThan(2048 + 100);
    expect(large?.message.length).toBeLessThanOrEqual(257);
    expect(large?.target?.length).toBeLessThanOrEqual(257);
  });

  it('folds the oldest rows into summaries past the cap: rows stay bounded, every entry stays counted', () => {
    const { journal, path } = journalIn('audit-rows', { maxRows: 500 });
    const total = 5_000;
    const counts: Record<string, number> = {};
    let sizeAtCap = 0;
    for (let i = 0; i < total; i++) {
      const e = entry(i, { params: { i, pad: 'p'.repeat(400) } });
      journal.record(e);
      counts[`${e.action}:${e.outcome}`] = (counts[`${e.action}:${e.outcome}`] ?? 0) + 1;
      if (i === 600) sizeAtCap = statSync(path).size + statSync(`${path}-wal`).size;
    }
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT id, action, params FROM audit ORDER BY id').all() as { id: number; action: string; params: string }[];
    db.close();
    expect(rows.length).toBeLessThanOrEqual(500);
    const summaries = rows.filter((r) => r.action === AUDIT_SUMMARY_ACTION);
    // One summary, the oldest row, standing for all that was folded (earlier summaries folded in too).
    expect(summaries).toHaveLength(1);
    expect(rows[0]?.action).toBe(AUDIT_SUMMARY_ACTION);
    const summary = JSON.parse(summaries[0]?.params ?? '{}') as { entries: number; from: string; counts: Record<string, number> };
    const kept = rows.filter((r) => r.action !== AUDIT_SUMMARY_ACTION);
    expect(summary.entries + kept.length).toBe(total);
    expect(summary.from).toBe(entry(0).time);
    const keptCounts: Record<string, number> = {};
    for (const r of kept) {
      const i = (JSON.parse(r.params) as { i: number }).i;
      const e = entry(i);
      keptCounts[`${e.action}:${e.outcome}`] = (keptCounts[`${e.action}:${e.outcome}`] ?? 0) + 1;
    }
    for (const [key, n] of Object.entries(counts)) expect((summary.counts[key] ?? 0) + (keptCounts[key] ?? 0)).toBe(n);
    // The newest entries are the ones kept whole.
    expect((JSON.parse(kept[kept.length - 1]?.params ?? '{}') as { i: number }).i).toBe(total - 1);
    // Free pages are reused: the file stops growing once the cap is reached.
    expect(statSync(path).size + statSync(`${path}-wal`).size).toBeLessThan(sizeAtCap * 2);
  });

  it('reopening an existing journal counts what it holds, and keeps the cap', () => {
    const { journal, path } = journalIn('audit-reopen', { maxRows: 100 });
    for (let i = 0; i < 90; i++) journal.record(entry(i));
    journal.close();
    const again = new AuditJournal(path, { maxRows: 100 });
    cleanups.push(() => again.close());
    for (let i = 90; i < 300; i++) again.record(entry(i));
    const db = new Database(path, { readonly: true });
    const { n } = db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number };
    db.close();
    expect(n).toBeLessThanOrEqual(100);
  });
});
