/**
 * The bar store in MySQL/MariaDB, in vnpy_mysql's own tables, so a database filled by vnpy's
 * DataRecorder reads as it is.
 *
 * DATETIME comes back as naive text (`dateStrings: true`) and goes in as text: the server's and
 * this machine's time zones never touch a bar's time. Every operation is retried once when the
 * connection was lost (the pool opens a fresh one); a server that stays away becomes a
 * BarStoreUnavailableError, never an unhandled 'error' event.
 */
import mysql from 'mysql2/promise';
import type { Pool, PoolConnection, RowDataPacket, ResultSetHeader } from 'mysql2/promise';
import { z } from 'zod';
import type { BarInterval, BarOverview, OhlcvBar, StoredBar } from '../shared/bar.js';
import { formatDatetime } from '../shared/time.js';
import {
  BarStoreConfigError,
  BarStoreReadOnlyError,
  BarStoreUnavailableError,
  describeBarKey,
  type BarKey,
  type BarStore,
  type LoadRangeOptions,
} from './barStore.js';
import { storedDatetimeToTime } from './datetimeText.js';
import { checkBar, chunkSizeOf, normaliseDatetimeText, noteBarKey, rowsToBars, vnpyRowValues, type RawBarRow } from './barRows.js';

/** vnpy_mysql's tables (peewee's DDL, with the unique indexes inline so no CREATE INDEX IF NOT EXISTS is needed). */
export const VNPY_MYSQL_BAR_DDL = [
  `CREATE TABLE IF NOT EXISTS \`dbbardata\` (
    \`id\` INTEGER AUTO_INCREMENT NOT NULL PRIMARY KEY,
    \`symbol\` VARCHAR(255) NOT NULL, \`exchange\` VARCHAR(255) NOT NULL, \`datetime\` DATETIME NOT NULL,
    \`interval\` VARCHAR(255) NOT NULL, \`volume\` DOUBLE NOT NULL, \`turnover\` DOUBLE NOT NULL,
    \`open_interest\` DOUBLE NOT NULL, \`open_price\` DOUBLE NOT NULL, \`high_price\` DOUBLE NOT NULL,
    \`low_price\` DOUBLE NOT NULL, \`close_price\` DOUBLE NOT NULL,
    UNIQUE KEY \`dbbardata_symbol_exchange_interval_datetime\` (\`symbol\`, \`exchange\`, \`interval\`, \`datetime\`))`,
  `CREATE TABLE IF NOT EXISTS \`dbbaroverview\` (
    \`id\` INTEGER AUTO_INCREMENT NOT NULL PRIMARY KEY,
    \`symbol\` VARCHAR(255) NOT NULL, \`exchange\` VARCHAR(255) NOT NULL, \`interval\` VARCHAR(255) NOT NULL,
    \`count\` INTEGER NOT NULL, \`start\` DATETIME NOT NULL, \`end\` DATETIME NOT NULL,
    UNIQUE KEY \`dbbaroverview_symbol_exchange_interval\` (\`symbol\`, \`exchange\`, \`interval\`))`,
];

export interface MysqlTarget {
  user: string;
  password: string;
  host: string;
  port: number;
  database: string;
}

const mysqlTargetSchema = z.object({
  user: z.string().min(1, { message: 'the user is missing (mysql://USER@host/database)' }),
  password: z.string(),
  host: z.string().min(1, { message: 'the host is missing (mysql://user@HOST/database)' }),
  port: z
    .number()
    .int()
    .min(1, { message: 'the port must be 1..65535' })
    .max(65_535, { message: 'the port must be 1..65535' }),
  database: z
    .string()
    .regex(/^[A-Za-z0-9_$-]{1,64}$/, {
      message: 'the database name is missing or not a plain name (mysql://user@host/DATABASE)',
    }),
});

const URL_SHAPE = 'mysql://user[:password]@host[:port]/database';

/** Parses `mysql://user[:password]@host[:port]/database`; throws BarStoreConfigError saying what is wrong. */
export function parseMysqlUrl(url: string): MysqlTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BarStoreConfigError(`MySQL URL "${redactUrl(url)}" is not a URL; expected ${URL_SHAPE}`);
  }
  if (parsed.protocol !== 'mysql:') {
    throw new BarStoreConfigError(
      `MySQL URL "${redactUrl(url)}" must start with mysql:// (got ${parsed.protocol}//); expected ${URL_SHAPE}`,
    );
  }
  if (parsed.search || parsed.hash) {
    throw new BarStoreConfigError(`MySQL URL "${redactUrl(url)}" takes no ?options or #fragment; expected ${URL_SHAPE}`);
  }
  let user: string;
  let password: string;
  let database: string;
  try {
    user = decodeURIComponent(parsed.username);
    password = decodeURIComponent(parsed.password);
    database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  } catch {
    throw new BarStoreConfigError(`MySQL URL "${redactUrl(url)}" has a malformed %-escape`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = parsed.port === '' ? 3306 : Number(parsed.port);
  const result = mysqlTargetSchema.safeParse({ user, password, host, port, database });
  if (!result.success) {
    const reasons = result.error.issues.map((i) => i.message).join('; ');
    throw new BarStoreConfigError(`MySQL URL "${redactUrl(url)}": ${reasons}; expected ${URL_SHAPE}`);
  }
  return result.data;
}

/** The URL with any password replaced, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^(mysql:\/\/[^:/@]*):[^@]*@/i, '$1:***@');
}

export interface MysqlBarStoreOptions {
  /** Never write, never create tables; write() throws. */
  readonly?: boolean;
  /** Milliseconds to wait for the server to accept a connection; default 5000. */
  connectTimeoutMs?: number;
  /** Pool size; default 4. */
  connectionLimit?: number;
  /** Rows per multi-row INSERT; default 2000. */
  insertBatchSize?: number;
}

const BAR_COLUMNS = '`datetime`, `open_price`, `high_price`, `low_price`, `close_price`, `volume`, `turnover`, `open_interest`';
const KEY_WHERE = '`symbol` = ? AND `exchange` = ? AND `interval` = ?';
const BAR_INDEX = 'dbbardata_symbol_exchange_interval_datetime';
/**
 * With the three key columns bound by `=`, MariaDB prefers `ref` access on the key prefix plus
 * index-condition pushdown for `datetime > ?` whenever the range covers more than about half of
 * the key's rows; `ref` then walks the index from the key's first row on every page, which makes
 * keyset pagination quadratic (measured: page times growing 22 → 60 ms over 300 k rows).
 * FORCE INDEX on the very same index makes the optimizer take the `range` access, which seeks
 * straight to the page start.
 */
const rangeSql = (forceIndex: boolean): string =>
  `SELECT ${BAR_COLUMNS} FROM \`dbbardata\`${forceIndex ? ` FORCE INDEX (\`${BAR_INDEX}\`)` : ''} WHERE ${KEY_WHERE}`;

/** Errors after which the same statement on a fresh connection may well succeed. */
const CONNECTION_LOST_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_QUERY_INTERRUPTED',
  'ER_CLIENT_INTERACTION_TIMEOUT',
  "Can't add new command when connection is in closed state",
]);

/** Retried once as well: the transaction was rolled back and may simply be run again. */
const RETRY_CODES = new Set([...CONNECTION_LOST_CODES, 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

/** Errors that mean "the server is not there (for us)" rather than "this statement is wrong". */
const UNAVAILABLE_CODES = new Set([
  ...CONNECTION_LOST_CODES,
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ER_ACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_HOST_IS_BLOCKED',
  'ER_HOST_NOT_PRIVILEGED',
  'POOL_CLOSED',
]);

function codeOf(err: unknown): string {
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const message = (err as { message?: unknown }).message;
    if (typeof message === 'string' && CONNECTION_LOST_CODES.has(message)) return message;
  }
  return '';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class MysqlBarStore implements BarStore {
  readonly kind = 'mysql' as const;
  readonly description: string;
  readonly readonly: boolean;
  private readonly target: MysqlTarget;
  private readonly insertBatchSize: number;
  private readonly connectTimeoutMs: number;
  private closed = false;
  /** SELECT ... WHERE key, with the index hint when vnpy's unique index exists under its usual name. */
  private rangeSql = rangeSql(false);
  /** A read-only vnpy database without dbbaroverview still gets an overview, computed. */
  private hasOverviewTable = true;

  private constructor(
    private readonly pool: Pool,
    target: MysqlTarget,
    opts: MysqlBarStoreOptions,
  ) {
    this.target = target;
    this.readonly = opts.readonly ?? false;
    this.insertBatchSize = Math.max(1, Math.floor(opts.insertBatchSize ?? 2000));
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
    this.description = `MySQL ${describeTarget(target)}${this.readonly ? ' (read-only)' : ''}`;
  }

  /**
   * Connects (and, when writable, creates vnpy's tables if absent).
   * @throws BarStoreConfigError for a malformed URL; BarStoreUnavailableError when the server
   *   cannot be reached, refuses the user, or has no such database.
   */
  static async connect(url: string, opts: MysqlBarStoreOptions = {}): Promise<MysqlBarStore> {
    const target = parseMysqlUrl(url);
    const pool = mysql.createPool({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database: target.database,
      dateStrings: true,
      connectTimeout: opts.connectTimeoutMs ?? 5000,
      connectionLimit: opts.connectionLimit ?? 4,
      maxIdle: opts.connectionLimit ?? 4,
      enableKeepAlive: true,
      supportBigNumbers: true,
      charset: 'utf8mb4',
      // Reads are prepared statements (see queryRows); keep each connection's cache small so
      // that varied LIMITs never pile up against the server's max_prepared_stmt_count.
      maxPreparedStatements: 32,
    });
    // An idle pooled connection that dies emits 'error'; the pool drops it and the next
    // operation opens a new one. Without a listener Node would treat it as fatal.
    pool.pool.on('connection', (connection) => {
      connection.on('error', () => undefined);
    });
    const store = new MysqlBarStore(pool, target, opts);
    try {
      await store.withRetry('connect', async () => {
        const conn = await pool.getConnection();
        try {
          await conn.query('SELECT 1');
          if (!store.readonly) {
            for (const ddl of VNPY_MYSQL_BAR_DDL) await conn.query(ddl);
          } else {
            const [rows] = await conn.query<RowDataPacket[]>(
              `SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = ? AND table_name = 'dbbardata'`,
              [target.database],
            );
            if (Number(rows[0]?.['n'] ?? 0) === 0) {
              throw new BarStoreUnavailableError(
                `MySQL ${describeTarget(target)} has no dbbardata table: it is not a vnpy bar database`,
              );
            }
          }
          const [indexes] = await conn.query<RowDataPacket[]>(
            `SELECT COUNT(*) AS n FROM information_schema.statistics
              WHERE table_schema = ? AND table_name = 'dbbardata' AND index_name = ?`,
            [target.database, BAR_INDEX],
          );
          store.rangeSql = rangeSql(Number(indexes[0]?.['n'] ?? 0) > 0);
          const [overviewTables] = await conn.query<RowDataPacket[]>(
            `SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = ? AND table_name = 'dbbaroverview'`,
            [target.database],
          );
          store.hasOverviewTable = Number(overviewTables[0]?.['n'] ?? 0) > 0;
        } finally {
          conn.release();
        }
      });
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return store;
  }

  async *loadRange(key: BarKey, opts: LoadRangeOptions = {}): AsyncIterable<OhlcvBar[]> {
    const chunkSize = chunkSizeOf(opts.chunkSize);
    const to = opts.to === undefined ? '9999-12-31 23:59:59' : formatDatetime(opts.to);
    const from = opts.from === undefined ? '1000-01-01 00:00:00' : formatDatetime(opts.from);
    const where = `${this.description} ${describeBarKey(key)}`;
    // Keyset pagination on the unique index: each chunk is one short query, so no cursor or
    // connection is held while the consumer works. The next chunk's query is sent before this
    // chunk is converted and handed over, so the server works while we do.
    const page = (op: '>=' | '>', after: string): Promise<RawBarRow[]> =>
      this.queryRows(`${this.rangeSql} AND \`datetime\` ${op} ? AND \`datetime\` <= ? ORDER BY \`datetime\` LIMIT ${chunkSize}`, [
        key.symbol,
        key.exchange,
        key.interval,
        after,
        to,
      ]);
    let pending: Promise<RawBarRow[]> | null = page('>=', from);
    try {
      while (pending) {
        const rows: RawBarRow[] = await pending;
        pending = null;
        if (rows.length === 0) return;
        if (rows.length === chunkSize) pending = page('>', (rows[rows.length - 1] as RawBarRow)[0]);
        yield rowsToBars(rows, where);
      }
    } finally {
      // A consumer that stops early leaves a query in flight; its outcome no longer matters.
      pending?.catch(() => undefined);
    }
  }

  async loadLast(key: BarKey, count: number, opts: { before?: number } = {}): Promise<OhlcvBar[]> {
    if (!(count > 0)) return [];
    const before = opts.before === undefined ? '9999-12-31 23:59:59' : formatDatetime(opts.before);
    const op = opts.before === undefined ? '<=' : '<';
    const rows = await this.queryRows(
      `${this.rangeSql} AND \`datetime\` ${op} ? ORDER BY \`datetime\` DESC LIMIT ${Math.floor(count)}`,
      [key.symbol, key.exchange, key.interval, before],
    );
    rows.reverse();
    return rowsToBars(rows, `${this.description} ${describeBarKey(key)}`);
  }

  async loadAfter(key: BarKey, after: number, limit: number): Promise<OhlcvBar[]> {
    if (!(limit > 0)) return [];
    const rows = await this.queryRows(
      `${this.rangeSql} AND \`datetime\` > ? ORDER BY \`datetime\` LIMIT ${Math.floor(limit)}`,
      [key.symbol, key.exchange, key.interval, formatDatetime(after)],
    );
    return rowsToBars(rows, `${this.description} ${describeBarKey(key)}`);
  }

  async lastTime(key: BarKey): Promise<number | null> {
    const rows = await this.queryRows(
      `SELECT \`datetime\` FROM \`dbbardata\` WHERE ${KEY_WHERE} ORDER BY \`datetime\` DESC LIMIT 1`,
      [key.symbol, key.exchange, key.interval],
    );
    const text = rows[0]?.[0];
    if (text === undefined) return null;
    const time = storedDatetimeToTime(text);
    return Number.isNaN(time) ? null : time;
  }

  async write(bars: readonly StoredBar[]): Promise<number> {
    if (this.readonly) throw new BarStoreReadOnlyError(this.description);
    if (bars.length === 0) return 0;
    const keys = new Map<string, BarKey>();
    const rows: (string | number)[][] = new Array(bars.length);
    for (let i = 0; i < bars.length; i++) {
      const bar = bars[i] as StoredBar;
      checkBar(bar, i);
      noteBarKey(keys, bar);
      rows[i] = vnpyRowValues(bar);
    }
    await this.withRetry('write', async () => {
      const conn = await this.pool.getConnection();
      try {
        await conn.beginTransaction();
        try {
          for (let start = 0; start < rows.length; start += this.insertBatchSize) {
            await conn.query<ResultSetHeader>(
              `INSERT INTO \`dbbardata\` (\`symbol\`, \`exchange\`, \`datetime\`, \`interval\`, \`volume\`, \`turnover\`,
                 \`open_interest\`, \`open_price\`, \`high_price\`, \`low_price\`, \`close_price\`) VALUES ?
               ON DUPLICATE KEY UPDATE \`volume\` = VALUES(\`volume\`), \`turnover\` = VALUES(\`turnover\`),
                 \`open_interest\` = VALUES(\`open_interest\`), \`open_price\` = VALUES(\`open_price\`),
                 \`high_price\` = VALUES(\`high_price\`), \`low_price\` = VALUES(\`low_price\`),
                 \`close_price\` = VALUES(\`close_price\`)`,
              [rows.slice(start, start + this.insertBatchSize)],
            );
          }
          for (const key of keys.values()) await this.recomputeOverview(conn, key);
          await conn.commit();
        } catch (err) {
          await conn.rollback().catch(() => undefined);
          throw err;
        }
      } finally {
        conn.release();
      }
    });
    return bars.length;
  }

  private async recomputeOverview(conn: PoolConnection, key: BarKey): Promise<void> {
    const [stats] = await conn.query<RowDataPacket[]>({
      sql: `SELECT COUNT(*), MIN(\`datetime\`), MAX(\`datetime\`) FROM \`dbbardata\` WHERE ${KEY_WHERE}`,
      values: [key.symbol, key.exchange, key.interval],
      rowsAsArray: true,
    });
    const row = stats[0] as unknown as [number | string, string | null, string | null] | undefined;
    const count = Number(row?.[0] ?? 0);
    if (!row || count === 0 || row[1] === null || row[2] === null) {
      await conn.query(`DELETE FROM \`dbbaroverview\` WHERE ${KEY_WHERE}`, [key.symbol, key.exchange, key.interval]);
      return;
    }
    await conn.query(
      `INSERT INTO \`dbbaroverview\` (\`symbol\`, \`exchange\`, \`interval\`, \`count\`, \`start\`, \`end\`)
       VALUES (?, ?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE \`count\` = VALUES(\`count\`), \`start\` = VALUES(\`start\`), \`end\` = VALUES(\`end\`)`,
      [key.symbol, key.exchange, key.interval, count, row[1], row[2]],
    );
  }

  async overview(): Promise<BarOverview[]> {
    const rows = (await this.withRetry('overview', async () => {
      const [result] = await this.pool.query<RowDataPacket[]>({
        sql: this.hasOverviewTable
          ? 'SELECT `symbol`, `exchange`, `interval`, `count`, `start`, `end` FROM `dbbaroverview` ORDER BY `symbol`, `exchange`, `interval`'
          : 'SELECT `symbol`, `exchange`, `interval`, COUNT(*), MIN(`datetime`), MAX(`datetime`) FROM `dbbardata` GROUP BY `symbol`, `exchange`, `interval` ORDER BY `symbol`, `exchange`, `interval`',
        rowsAsArray: true,
      });
      return result;
    })) as unknown as [string, string, string, number, string, string][];
    return rows.map(([symbol, exchange, interval, count, start, end]) => ({
      symbol,
      exchange,
      interval: interval as BarInterval,
      count: Number(count),
      start: normaliseDatetimeText(start),
      end: normaliseDatetimeText(end),
    }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private async queryRows(sql: string, values: (string | number)[]): Promise<RawBarRow[]> {
    return this.withRetry('read', async () => {
      // Prepared statements: the binary protocol hands DOUBLEs over as doubles (no text
      // parsing), measurably faster on large reads. Limits are inlined integers, never `?`:
      // MySQL 8 rejects a bound LIMIT that mysql2 sends as a DOUBLE.
      const [rows] = await this.pool.execute<RowDataPacket[]>({ sql, values, rowsAsArray: true });
      return rows as unknown as RawBarRow[];
    });
  }

  /** Runs op; once more after a lost connection; translates "server not there" into BarStoreUnavailableError. */
  private async withRetry<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (this.closed) throw new BarStoreUnavailableError(`${this.description} is closed`);
    try {
      return await op();
    } catch (first) {
      if (!RETRY_CODES.has(codeOf(first))) throw this.translate(what, first);
      try {
        return await op();
      } catch (second) {
        throw this.translate(what, second);
      }
    }
  }

  private translate(what: string, err: unknown): Error {
    if (err instanceof BarStoreUnavailableError) return err;
    const code = codeOf(err);
    if (!UNAVAILABLE_CODES.has(code)) return err instanceof Error ? err : new Error(String(err));
    const t = this.target;
    const at = `MySQL at ${t.host}:${t.port}`;
    let message: string;
    switch (code) {
      case 'ECONNREFUSED':
        message = `${at} refused the connection (ECONNREFUSED); check that the server is running`;
        break;
      case 'ETIMEDOUT':
        message = `${at} did not answer within ${this.connectTimeoutMs} ms (ETIMEDOUT); check the host, port and firewall`;
        break;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        message = `MySQL host "${t.host}" was not found (${code}); check the host name`;
        break;
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        message = `${at} is unreachable (${code}); check the network`;
        break;
      case 'ER_ACCESS_DENIED_ERROR':
      case 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR':
      case 'ER_DBACCESS_DENIED_ERROR':
        message = `${at} denied access to user "${t.user}" on database "${t.database}" (${code}); check the user and password`;
        break;
      case 'ER_BAD_DB_ERROR':
        message = `${at} has no database "${t.database}"; create it first (CREATE DATABASE \`${t.database}\`)`;
        break;
      default:
        message = CONNECTION_LOST_CODES.has(code)
          ? `${at}: ${what} failed twice, the connection was lost (${code}: ${messageOf(err)}); check that the server is running`
          : `${at}: ${what} failed (${code}: ${messageOf(err)})`;
    }
    return new BarStoreUnavailableError(message, { cause: err });
  }
}

function describeTarget(t: MysqlTarget): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.user}@${host}:${t.port}/${t.database}`;
}
