import type { EngineOrderView } from '../core/strategy/engine.js';
import type Database from 'better-sqlite3';
import { reportWriteFailure } from './diskGuard.js';
import { openSqliteDatabase } from './sqliteDatabase.js';
import { formatDatetime, parseDatetime } from '../shared/time.js';
import type { JournalTrade, TradeFill } from '../shared/trade.js';

export interface JournalChange {
  version: number;
  state: unknown;
  trades?: readonly JournalTrade[];
  orders?: readonly JournalOrder[];
  savedAt: string;
}

/** An order's latest known form: rows are upserted as orders change. */
export type JournalOrder = EngineOrderView & { variant: string };

export interface StoredState {
  version: number;
  savedAt: string;
  /** The JSON text as stored; parsing (and migrating) it is the caller's business. */
  json: string;
}

/** The columns of a fill that statistics read (core's StatisticsTrade). */
export type TradeForStatistics = Pick<TradeFill, 'id' | 'vtSymbol' | 'time' | 'pnl' | 'commission'>;

export interface TradeFilter {
  variant?: string;
  vtSymbol?: string;
  side?: 'buy' | 'sell';
  /** Inclusive bounds on the fill's bar time, local-as-UTC seconds. */
  from?: number;
  to?: number;
  limit?: number;
  offset?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS variant_state (
  variant TEXT PRIMARY KEY, version INTEGER NOT NULL, saved_at TEXT NOT NULL, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS variant_state_quarantine (
  id INTEGER PRIMARY KEY, variant TEXT NOT NULL, version INTEGER, saved_at TEXT, state TEXT,
  reason TEXT NOT NULL, quarantined_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trades (
  id TEXT PRIMARY KEY, variant TEXT NOT NULL, vt_symbol TEXT NOT NULL, side TEXT NOT NULL, offset TEXT NOT NULL,
  price REAL NOT NULL, volume REAL NOT NULL, datetime TEXT NOT NULL, commission REAL NOT NULL, pnl REAL,
  trading_day TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS trades_variant_datetime ON trades (variant, datetime);
CREATE INDEX IF NOT EXISTS trades_symbol_datetime ON trades (vt_symbol, datetime);
CREATE INDEX IF NOT EXISTS trades_datetime_id ON trades (datetime, id);
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY, variant TEXT NOT NULL, vt_symbol TEXT NOT NULL, side TEXT NOT NULL, offset TEXT NOT NULL,
  type TEXT NOT NULL, price REAL, volume REAL NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS orders_variant ON orders (variant, created_at);
`;

/** A `trades` row as selected (TRADE_COLUMNS): the journal's record with its time as text. */
type TradeRowDb = Omit<JournalTrade, 'time'> & { datetime: string };
const TRADE_COLUMNS = 'id, variant, vt_symbol AS vtSymbol, side, offset, price, volume, datetime, commission, pnl, trading_day AS tradingDay';

function whereOf(filter: TradeFilter): { clause: string; args: (string | number)[] } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  const add = (clause: string, value: string): void => {
    where.push(clause);
    args.push(value);
  };
  if (filter.variant) add('variant = ?', filter.variant);
  if (filter.vtSymbol) add('vt_symbol = ?', filter.vtSymbol);
  if (filter.side) add('side = ?', filter.side);
  if (filter.from !== undefined) add('datetime >= ?', formatDatetime(filter.from));
  if (filter.to !== undefined) add('datetime <= ?', formatDatetime(filter.to));
  return { clause: where.length ? `WHERE ${where.join(' AND ')}` : '', args };
}

function tradeOf({ datetime, ...row }: TradeRowDb): JournalTrade {
  return { ...row, time: parseDatetime(datetime) ?? Number.NaN };
}

/**
 * A variant's journal in kestrel.db: its slim state row, its trades and its orders. The
 * state and the trades and orders it reflects are committed in ONE transaction, so after a
 * crash at any instant the state never disagrees with the journal.
 */
export class TradingJournal {
  private readonly db: Database.Database;
  private held: { trades: JournalTrade[]; orders: JournalOrder[] } | null = null;
  private readonly upsertState: Database.Statement;
  private readonly insertTrade: Database.Statement;
  private readonly upsertOrder: Database.Statement;

  private constructor(db: Database.Database) {
    this.db = db;
    this.upsertState = db.prepare(
      `INSERT INTO variant_state (variant, version, saved_at, state) VALUES (?, ?, ?, ?)
       ON CONFLICT(variant) DO UPDATE SET version = excluded.version, saved_at = excluded.saved_at, state = excluded.state`,
    );
    this.insertTrade = db.prepare(
      `INSERT OR IGNORE INTO trades (id, variant, vt_symbol, side, offset, price, volume, datetime, commission, pnl, trading_day)
       VALUES (@id, @variant, @vtSymbol, @side, @offset, @price, @volume, @datetime, @commission, @pnl, @tradingDay)`,
    );
    this.upsertOrder = db.prepare(
      `INSERT INTO orders (id, variant, vt_symbol, side, offset, type, price, volume, status, created_at, updated_at)
       VALUES (@id, @variant, @vtSymbol, @side, @offset, @type, @price, @volume, @status, @createdAt, @updatedAt)
       ON CONFLICT(id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
    );
  }

  static open(path: string): TradingJournal {
    const db = openSqliteDatabase(path);
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a committed transaction survives a process crash (kill -9);
    // only a power loss may lose the last few, and then state and journal lose them together.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 10000');
    db.exec(SCHEMA);
    return new TradingJournal(db);
  }

  loadState(variant: string): StoredState | null {
    const row = this.db.prepare('SELECT version, saved_at, state FROM variant_state WHERE variant = ?').get(variant) as
      | { version: number; saved_at: string; state: string }
      | undefined;
    return row ? { version: row.version, savedAt: row.saved_at, json: row.state } : null;
  }

  /**
   * State, new trades and order changes, all or nothing. A full disk refuses the transaction
   * (rolled back, nothing half-stored): its trades and orders are kept and go in with the next
   * commit, beside the newer state, so once the disk takes writes again nothing is missing.
   * @returns false while a full disk holds the commit back.
   */
  commit(variant: string, change: JournalChange): boolean {
    const trades = [...(this.held?.trades ?? []), ...(change.trades ?? [])];
    const orders = [...(this.held?.orders ?? []), ...(change.orders ?? [])];
    const json = JSON.stringify(change.state);
    try {
      this.db.transaction(() => {
        for (const t of trades) {
          this.insertTrade.run({ ...t, datetime: formatDatetime(t.time) });
        }
        for (const o of orders) {
          this.upsertOrder.run({ ...o, createdAt: formatDatetime(o.createdAt), updatedAt: change.savedAt });
        }
        this.upsertState.run(variant, change.version, change.savedAt, json);
      })();
    } catch (err) {
      if (!reportWriteFailure(this.db.name, err)) throw err;
      this.held = { trades, orders };
      return false;
    }
    this.held = null;
    return true;
  }

  /** Trades and orders a full disk has held back, waiting for the next commit. */
  heldBack(): number {
    return (this.held?.trades.length ?? 0) + (this.held?.orders.length ?? 0);
  }

  /** Moves an unreadable state aside (kept for a human to look at) so the variant can start flat. */
  quarantine(variant: string, reason: string, at: string): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO variant_state_quarantine (variant, version, saved_at, state, reason, quarantined_at)
           SELECT variant, version, saved_at, state, ?, ? FROM variant_state WHERE variant = ?`,
        )
        .run(reason, at, variant);
      this.db.prepare('DELETE FROM variant_state WHERE variant = ?').run(variant);
    })();
  }

  quarantined(variant: string): { reason: string; quarantinedAt: string; state: string | null }[] {
    return (
      this.db
        .prepare('SELECT reason, quarantined_at, state FROM variant_state_quarantine WHERE variant = ? ORDER BY id')
        .all(variant) as { reason: string; quarantined_at: string; state: string | null }[]
    ).map((r) => ({ reason: r.reason, quarantinedAt: r.quarantined_at, state: r.state }));
  }

  /** Fills in time order (oldest first; ties by id), as the statistics consume them. */
  trades(filter: TradeFilter = {}): JournalTrade[] {
    return this.selectTrades(filter, 'datetime, id');
  }

  /**
   * Fills newest first: exactly `trades(filter)` reversed, so a page of the Trades screen and
   * a page of the journal agree. `limit`/`offset` page through them.
   */
  tradesNewestFirst(filter: TradeFilter = {}): JournalTrade[] {
    return this.selectTrades(filter, 'datetime DESC, id DESC');
  }

  /**
   * What statistics need of each fill, in `trades(filter)` order: five columns instead of
   * eleven, which halves the time to read 100k fills.
   */
  tradesForStatistics(filter: TradeFilter = {}): TradeForStatistics[] {
    const { clause, args } = whereOf(filter);
    const sql = `SELECT id, vt_symbol, datetime, pnl, commission FROM trades ${clause} ORDER BY datetime, id LIMIT ? OFFSET ?`;
    const rows = this.db.prepare(sql).raw().all(...args, filter.limit ?? -1, filter.offset ?? 0) as [string, string, string, number | null, number][];
    return rows.map(([id, vtSymbol, datetime, pnl, commission]) => ({
      id,
      vtSymbol,
      time: parseDatetime(datetime) ?? Number.NaN,
      pnl,
      commission,
    }));
  }

  /** How many fills match (limit and offset are ignored). */
  countTrades(filter: TradeFilter = {}): number {
    const { clause, args } = whereOf(filter);
    const row = this.db.prepare(`SELECT COUNT(*) AS n FROM trades ${clause}`).get(...args) as { n: number };
    return row.n;
  }

  /** Fills journalled per variant (variants with none are absent); one pass over the variant index. */
  tradeCountsByVariant(): Map<string, number> {
    const rows = this.db.prepare('SELECT variant, COUNT(*) FROM trades GROUP BY variant').raw().all() as [string, number][];
    return new Map(rows);
  }

  /** Runs reads in one transaction: in WAL mode they all see the same commit, whatever workers write meanwhile. */
  consistentRead<T>(read: () => T): T {
    return this.db.transaction(read)();
  }

  /** Every variant that has journalled a fill, sorted. */
  tradeVariants(): string[] {
    return this.distinct('variant');
  }

  /** Every vtSymbol filled, sorted. */
  tradeSymbols(): string[] {
    return this.distinct('vt_symbol');
  }

  /**
   * Distinct values of an indexed column by seeking the index once per value (MIN(col) WHERE
   * col > previous), so 100k fills of a handful of variants cost a handful of lookups.
   */
  private distinct(column: 'variant' | 'vt_symbol'): string[] {
    const first = this.db.prepare(`SELECT MIN(${column}) AS v FROM trades`);
    const next = this.db.prepare(`SELECT MIN(${column}) AS v FROM trades WHERE ${column} > ?`);
    const out: string[] = [];
    let row = first.get() as { v: string | null };
    while (row.v !== null) {
      out.push(row.v);
      row = next.get(row.v) as { v: string | null };
    }
    return out;
  }

  private selectTrades(filter: TradeFilter, order: string): JournalTrade[] {
    const { clause, args } = whereOf(filter);
    // SQLite reads LIMIT -1 as "no limit".
    const sql = `SELECT ${TRADE_COLUMNS} FROM trades ${clause} ORDER BY ${order} LIMIT ? OFFSET ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? -1, filter.offset ?? 0) as TradeRowDb[]).map(tradeOf);
  }

  close(): void {
    this.db.close();
  }
}
