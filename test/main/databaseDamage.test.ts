/**
 * Issue 12, finding 9: a damaged kestrel.db. The workstation checks it at start (quick_check),
 * refuses to trade, names the file and leaves it untouched; `kestrel repair` copies what is
 * readable into a new file and says what was not. Real SQLite files, damaged for real.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readdirSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditJournal } from '../../src/io/auditJournal.js';
import { checkDatabase } from '../../src/io/databaseHealth.js';
import { openSqliteDatabase } from '../../src/io/sqliteDatabase.js';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { TradingJournal } from '../../src/io/tradingJournal.js';
import { repairCommand } from '../../src/main/cli/repair.js';
import { runCommand } from '../cli/cliHarness.js';
import { freshDir } from '../helpers.js';
import { makeBars } from '../io/storeFixtures.js';
import { startHarness } from './workstationHarness.js';

const BARS = 20_000;
const TRADES = 300;
const AUDITS = 100;

let dir: { dir: string; remove: () => void };
let db: string;
beforeEach(() => {
  dir = freshDir('db-damage');
  db = join(dir.dir, 'kestrel.db');
  const store = SqliteBarStore.open(db);
  store.writeSync(makeBars('rb2505', 'SHFE', Date.UTC(2024, 0, 2, 1) / 1000, BARS));
  store.closeSync();
  const journal = TradingJournal.open(db);
  const trades = Array.from({ length: TRADES }, (_v, i) => ({
    id: `t${i}`, variant: 'rb-15m', vtSymbol: 'rb2505.SHFE', side: 'buy' as const, offset: 'open' as const,
    price: 3500 + i, volume: 1, time: 1_704_186_000 + i * 60, commission: 1, pnl: null, tradingDay: '2024-01-02',
  }));
  journal.commit('rb-15m', { version: 2, state: { positions: [] }, trades, savedAt: '2024-01-02T01:00:00Z' });
  journal.close();
  const audit = new AuditJournal(db);
  for (let i = 0; i < AUDITS; i++) {
    audit.record({ time: '2024-01-02T01:00:00Z', origin: 'cli', action: 'startVariant', target: 'rb-15m', params: { i }, outcome: 'ok', message: 'ok' });
  }
  audit.close();
  // Everything in the main file, as after a clean stop.
  const c = openSqliteDatabase(db);
  c.pragma('wal_checkpoint(TRUNCATE)');
  c.pragma('journal_mode = DELETE');
  c.close();
});
afterEach(() => dir.remove());

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

function pageSize(): number {
  const c = openSqliteDatabase(db, { readonly: true });
  try {
    return c.pragma('page_size', { simple: true }) as number;
  } finally {
    c.close();
  }
}

function truncate(): void {
  truncateSync(db, Math.floor(statSync(db).size * 0.6));
}

/** Garbage over one page half-way into the file: deep inside, far from the schema on page 1. */
function corruptPageDeepInside(): void {
  const size = pageSize();
  const page = Math.floor(statSync(db).size / size / 2);
  const fd = openSync(db, 'r+');
  writeSync(fd, Buffer.alloc(size, 0xa5), 0, size, page * size);
  closeSync(fd);
}

function count(file: string, table: string): number {
  const c = openSqliteDatabase(file, { readonly: true });
  try {
    return c.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  } finally {
    c.close();
  }
}

describe.each([
  ['truncated', truncate],
  ['with a corrupt page deep inside', corruptPageDeepInside],
])('a kestrel.db %s', (_what, damage) => {
  it('fails the check; the workstation starts no variant and no demo, raises a CRITICAL alert naming the file, and leaves it untouched', async () => {
    damage();
    const check = checkDatabase(db);
    expect(check.ok).toBe(false);
    const before = sha(db);
    const h = await startHarness({ dataDir: dir.dir, controlEnabled: true, settings: { demo: { enabled: true, speed: 600 } } });
    try {
      const alert = h.alerts.find((a) => a.title === 'Database damaged: trading refused');
      expect(alert?.level).toBe('CRITICAL');
      expect(alert?.message).toContain(db);
      expect(alert?.message).toContain('kestrel repair');
      expect(h.workstation.databaseDamage()?.path).toBe(db);
      // No supervised variant: the demo's three would be listed (and forked) otherwise.
      const variants = (await (await fetch(`${h.baseUrl}/api/variants`, { headers: { authorization: `Bearer ${h.token}` } })).json()) as unknown[];
      expect(variants).toEqual([]);
    } finally {
      await h.stop();
    }
    expect(sha(db)).toBe(before);
    expect(readdirSync(dir.dir).filter((f) => f.startsWith('kestrel.db'))).toEqual(['kestrel.db']);
  });

  it('kestrel repair copies what is readable into a new file that passes quick_check, and reports what was not', async () => {
    damage();
    const before = sha(db);
    const out = join(dir.dir, 'repaired.db');
    const run = await runCommand(repairCommand, ['--data-dir', dir.dir, '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${db} is damaged:`);
    expect(run.stdout).toMatch(/dbbardata\s+\d+ rows/);
    expect(checkDatabase(out).ok).toBe(true);
    expect(sha(db)).toBe(before);
    const bars = count(out, 'dbbardata');
    expect(bars).toBeGreaterThan(0);
    expect(bars).toBeLessThanOrEqual(BARS);
    const copied = { bars, trades: count(out, 'trades'), audit: count(out, 'audit') };
    const complete = copied.bars === BARS && copied.trades === TRADES && copied.audit === AUDITS;
    // Whatever is missing is named; when nothing is, the report says every row was read.
    if (complete) expect(run.stdout).toContain('Every row that the tables list was read.');
    else expect(run.stdout).toMatch(/unreadable: rowid|could not be read/);
    expect(run.stdout).toContain(`mv ${out} ${db}`);
  });
});

describe('kestrel repair on a sound or missing file', () => {
  it('a sound kestrel.db: nothing to repair (0); no kestrel.db: a usage error (2)', async () => {
    const ok = await runCommand(repairCommand, ['--data-dir', dir.dir]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('quick_check ok; nothing to repair');
    const empty = freshDir('db-damage-empty');
    try {
      const missing = await runCommand(repairCommand, ['--data-dir', empty.dir]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('does not exist: nothing to repair');
    } finally {
      empty.remove();
    }
  });

  it('the truncated file loses rows, and the report names the table and the rowids', async () => {
    truncate();
    const run = await runCommand(repairCommand, ['--data-dir', dir.dir, '--out', join(dir.dir, 'r.db')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/unreadable: rowid/);
    expect(run.stdout).toMatch(/could not be read \(listed above\)/);
  });
});
