import { constants, existsSync } from 'node:fs';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { importBars, ImportUsageError, parseColumnMapping, type ImportSpec } from '../../io/barImport.js';
import { findBarGaps, gapCalendarFor, type GapCalendar } from '../../io/barGaps.js';
import {
  BarStoreConfigError,
  BarStoreReadOnlyError,
  BarStoreUnavailableError,
  describeBarKey,
  type BarKey,
  type BarStore,
} from '../../io/barStore.js';
import { BAR_DB_FILE, isOwnBarDatabase, openBarStore } from '../../io/openBarStore.js';
import { ApiError, type ApiHandlers, type CallContext, type FieldError, type ValidParamsOf } from '../../shared/api.js';
import { parseVtSymbol, vtSymbolOf } from '../../shared/bar.js';
import type { BarSource } from '../../shared/config.js';
import {
  MAX_LISTED_GAPS,
  type BarGapsResult,
  type BarOverviewResult,
  type BarStoreInfo,
  type ImportBarsResult,
} from '../../shared/contract/data.js';
import { formatDatetime, parseDatetime } from '../../shared/time.js';
import type { CommandRunner } from './settingsStore.js';

export interface DataServiceOptions {
  dataDir: string;
  /** The bar source the workstation runs on (not a saved one awaiting a restart). */
  barSource: BarSource;
  /** The workstation's audited command path: refuses with 403 when control is off. */
  command: CommandRunner;
}

/** MySQL refusals that mean "this user may read but not write here". */
const MYSQL_READ_ONLY_CODES = new Set([
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_CANT_LOCK',
]);

function codeOf(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 3 && e; depth++) {
    if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
    e = typeof e === 'object' && e !== null && 'cause' in e ? e.cause : undefined;
  }
  return '';
}

/** Which import field an importer message is about, so the form shows it next to that field. */
function importFieldOf(message: string, fileName: string): string | undefined {
  if (message.startsWith('--columns') || message.includes('give --columns') || message.includes('describe the columns')) return 'columns';
  if (message.startsWith('--datetime-format')) return 'datetimeFormat';
  if (message.startsWith('--exchange-tz')) return 'exchangeTz';
  if (message.startsWith('time zone')) return 'tz';
  if (message.startsWith('--skip-header')) return 'header';
  if (message.startsWith('--delimiter')) return 'delimiter';
  if (message.startsWith(fileName)) return 'content';
  return undefined;
}

/**
 * Data: the configured bar store's overview, the gaps of one symbol, and imports. Reads go
 * through one read-only connection opened on first use; an import opens the store writable for
 * its own duration, one import at a time.
 */
export class DataService {
  private readStore: Promise<BarStore> | null = null;
  private importing: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly opts: DataServiceOptions) {}

  handlers(): Pick<ApiHandlers, 'barOverview' | 'barGaps' | 'importBars'> {
    return {
      barOverview: () => this.overview(),
      barGaps: (params) => this.gaps(params),
      importBars: (params, ctx) => this.import(params, ctx),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.readStore;
    this.readStore = null;
    await this.importing.catch(() => undefined);
    if (pending) await pending.then((s) => s.close()).catch(() => undefined);
  }

  private sqlitePath(): string | null {
    const source = this.opts.barSource;
    return source.kind === 'sqlite' ? resolve(source.path ?? join(this.opts.dataDir, BAR_DB_FILE)) : null;
  }

  private isDefaultStore(): boolean {
    const source = this.opts.barSource;
    return source.kind === 'sqlite' && source.path === null;
  }

  /**
   * The read-only store, or null for the default store of a fresh data directory: no file, or a
   * kestrel.db without bar tables yet (the audit journal lives there too), means no bars yet.
   */
  private async storeOrNone(): Promise<BarStore | null> {
    if (this.isDefaultStore() && !existsSync(this.sqlitePath() as string)) return null;
    try {
      return await this.store();
    } catch (err) {
      if (this.isDefaultStore() && err instanceof ApiError && err.message.includes('has no dbbardata table')) return null;
      throw err;
    }
  }

  private async info(store: BarStore | null): Promise<BarStoreInfo> {
    const source = this.opts.barSource;
    if (source.kind === 'mysql') {
      // The reading connection is read-only; the store itself is described as an import would use it.
      const description = store ? store.description.replace(/ \(read-only\)$/, '') : 'MySQL';
      // Whether this user may write is only known by trying (an import answers 409 if not).
      return { kind: 'mysql', description, writable: true };
    }
    const path = this.sqlitePath() as string;
    return { kind: 'sqlite', description: `SQLite ${path}`, writable: (await this.sqliteReadOnlyReason(path)) === null };
  }

  /** Why a SQLite file cannot take writes (permissions), or null when it can. */
  private async sqliteReadOnlyReason(path: string): Promise<string | null> {
    // SQLite writes its journal beside the file, so the folder must be writable too.
    try {
      if (existsSync(path)) await access(path, constants.W_OK);
      await access(existsSync(dirname(path)) ? dirname(path) : this.opts.dataDir, constants.W_OK);
      return null;
    } catch {
      return `SQLite ${path} is read-only for Kestrel (file or folder permissions)`;
    }
  }

  private store(): Promise<BarStore> {
    if (this.closed) return Promise.reject(new ApiError(503, 'the workstation is shutting down'));
    if (!this.readStore) {
      const source = this.opts.barSource;
      const opening =
        source.kind === 'mysql'
          ? openBarStore({ mysqlUrl: source.url, readonly: true })
          : openBarStore({ sqlitePath: this.sqlitePath() as string, readonly: true });
      this.readStore = opening.catch((err: unknown) => {
        // Not kept: the store may appear later (a first import, MySQL back up).
        this.readStore = null;
        if (err instanceof BarStoreUnavailableError || err instanceof BarStoreConfigError) throw new ApiError(503, `bar store: ${err.message}`);
        throw err;
      });
    }
    return this.readStore;
  }

  async overview(): Promise<BarOverviewResult> {
    const store = await this.storeOrNone();
    if (store === null) return { store: await this.info(null), rows: [] };
    const rows = await store.overview().catch((err: unknown) => {
      if (err instanceof BarStoreUnavailableError) throw new ApiError(503, `bar store: ${err.message}`);
      throw err;
    });
    return {
      store: await this.info(store),
      rows: rows.map((r) => ({
        symbol: r.symbol,
        exchange: r.exchange,
        vtSymbol: vtSymbolOf(r.symbol, r.exchange),
        interval: r.interval,
        count: r.count,
        start: r.start,
        end: r.end,
      })),
    };
  }

  async gaps(params: ValidParamsOf<'barGaps'>): Promise<BarGapsResult> {
    let key: BarKey;
    try {
      key = { ...parseVtSymbol(params.vtSymbol), interval: params.interval };
    } catch (err) {
      throw new ApiError(400, `barGaps: vtSymbol: ${err instanceof Error ? err.message : String(err)}`, [
        { path: 'vtSymbol', message: err instanceof Error ? err.message : String(err) },
      ]);
    }
    const from = params.from === undefined ? undefined : boundOf(params.from, 'from');
    const to = params.to === undefined ? undefined : boundOf(params.to, 'to');
    if (from !== undefined && to !== undefined && from > to) {
      throw new ApiError(400, 'barGaps: from is after to', [{ path: 'from', message: 'from is after to' }]);
    }
    const empty = (): BarGapsResult => ({
      vtSymbol: params.vtSymbol,
      interval: '1m',
      calendar: calendarView(gapCalendarFor(key.exchange)),
      firstBar: null,
      lastBar: null,
      barsScanned: 0,
      gaps: [],
      totalGaps: 0,
      missingMinutes: 0,
      truncated: false,
      emptySessions: 0,
    });
    const store = await this.storeOrNone();
    if (store === null) return empty();
    let scan;
    try {
      scan = await findBarGaps(store, key, {
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
        maxListed: MAX_LISTED_GAPS,
      });
    } catch (err) {
      if (err instanceof BarStoreUnavailableError) throw new ApiError(503, `bar store: ${err.message}`);
      throw err;
    }
    return {
      vtSymbol: params.vtSymbol,
      interval: '1m',
      calendar: calendarView(scan.calendar),
      firstBar: scan.firstBar === null ? null : formatDatetime(scan.firstBar),
      lastBar: scan.lastBar === null ? null : formatDatetime(scan.lastBar),
      barsScanned: scan.barsScanned,
      gaps: scan.gaps.map((g) => ({ from: formatDatetime(g.from), to: formatDatetime(g.to), minutes: g.minutes })),
      totalGaps: scan.totalGaps,
      missingMinutes: scan.missingMinutes,
      truncated: scan.truncated,
      emptySessions: scan.emptySessions,
    };
  }

  import(params: ValidParamsOf<'importBars'>, ctx: CallContext): Promise<ImportBarsResult> {
    const vtSymbol = vtSymbolOf(params.symbol, params.exchange);
    const audited = {
      fileName: params.fileName,
      bytes: Buffer.byteLength(params.content, 'utf8'),
      format: params.format,
      vtSymbol,
      interval: params.interval,
      columns: params.columns ?? null,
      datetimeFormat: params.datetimeFormat ?? null,
      tz: params.tz ?? null,
      exchangeTz: params.exchangeTz ?? null,
      header: params.header,
    };
    return this.opts.command(ctx, 'importBars', vtSymbol, audited, () => {
      // One import at a time: each may hold a 50 MB file and a long write transaction.
      const run = this.importing.then(() => this.runImport(params));
      this.importing = run.catch(() => undefined);
      return run;
    });
  }

  private async runImport(params: ValidParamsOf<'importBars'>): Promise<ImportBarsResult> {
    if (this.closed) throw new ApiError(503, 'the workstation is shutting down');
    const { fileName } = params;
    const spec: Omit<ImportSpec, 'file'> = {
      format: params.format,
      symbol: params.symbol,
      exchange: params.exchange,
      interval: params.interval,
      header: params.header,
      ...(params.datetimeFormat ? { datetimeFormat: params.datetimeFormat } : {}),
      ...(params.tz ? { tz: params.tz } : {}),
      ...(params.exchangeTz ? { exchangeTz: params.exchangeTz } : {}),
      ...(params.delimiter ? { delimiter: params.delimiter === 'tab' ? '\t' : params.delimiter } : {}),
    };
    if (params.columns && params.columns.trim() !== '') {
      try {
        spec.columns = parseColumnMapping(params.columns);
      } catch (err) {
        if (err instanceof ImportUsageError) throw new ApiError(400, err.message, [{ path: 'columns', message: err.message }]);
        throw err;
      }
    }
    const store = await this.writableStore();
    // The importer reads a file; the upload becomes one under its own name, so that every
    // message ("trades.csv:12: field "high": …") names the file the trader chose.
    const dir = await mkdtemp(join(tmpdir(), 'kestrel-import-'));
    const file = join(dir, fileName);
    const named = (text: string): string => text.split(file).join(fileName);
    try {
      await writeFile(file, params.content, 'utf8');
      let result;
      try {
        result = await importBars(store, { ...spec, file });
      } catch (err) {
        if (err instanceof ImportUsageError) {
          const message = named(err.message);
          const field = importFieldOf(message, fileName);
          throw new ApiError(400, message, field ? [{ path: field, message }] : undefined);
        }
        throw this.writeError(err, store);
      }
      if (!result.stored) {
        const problems = result.problems.map(named);
        const fields: FieldError[] = problems.map((p) => ({ path: 'content', message: p }));
        const shown = problems.length < result.problemCount ? ` (first ${problems.length} listed)` : '';
        throw new ApiError(
          400,
          `${fileName}: ${result.problemCount} problem${result.problemCount === 1 ? '' : 's'} in ${result.rowsRead} row${
            result.rowsRead === 1 ? '' : 's'
          }${shown}; nothing was stored. ${problems.slice(0, 3).join('; ')}`,
          fields,
        );
      }
      const key = describeBarKey(result.key);
      return {
        ok: true,
        message: `${result.rowsWritten} bars of ${key} stored from ${fileName} (${result.first ?? '—'} → ${result.last ?? '—'})${
          result.warningCount > 0 ? `; ${result.warningCount} repeated datetime${result.warningCount === 1 ? '' : 's'} with different values: ${result.warnings.slice(0, 3).map(named).join('; ')}` : ''
        }`,
        fileName,
        vtSymbol: vtSymbolOf(result.key.symbol, result.key.exchange),
        interval: result.key.interval,
        rowsRead: result.rowsRead,
        rowsWritten: result.rowsWritten,
        first: result.first,
        last: result.last,
        outOfOrder: result.outOfOrder,
        repeated: result.repeated,
        warnings: result.warnings.map(named),
        store: store.description,
      };
    } finally {
      await store.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The configured store opened for writing, or 409 when it cannot take writes. */
  private async writableStore(): Promise<BarStore> {
    const source = this.opts.barSource;
    const path = this.sqlitePath();
    if (path !== null && !isOwnBarDatabase(this.opts.dataDir, path)) {
      throw new ApiError(409, `${path} is a bar source outside the data directory: Kestrel opens it read-only; bars cannot be imported into it (import into the data directory's kestrel.db or MySQL)`);
    }
    if (path !== null) {
      const reason = await this.sqliteReadOnlyReason(path);
      if (reason) throw new ApiError(409, `${reason}: bars cannot be imported into it; import into a writable SQLite file or MySQL (Settings → bar source)`);
    }
    try {
      return source.kind === 'mysql'
        ? await openBarStore({ mysqlUrl: source.url })
        : await openBarStore({ sqlitePath: path as string });
    } catch (err) {
      if (MYSQL_READ_ONLY_CODES.has(codeOf(err))) {
        throw new ApiError(409, `MySQL: this user may not write into the bar database (${codeOf(err)}): bars cannot be imported into it`);
      }
      if (err instanceof BarStoreUnavailableError || err instanceof BarStoreConfigError) throw new ApiError(503, `bar store: ${err.message}`);
      throw err;
    }
  }

  private writeError(err: unknown, store: BarStore): unknown {
    if (err instanceof BarStoreReadOnlyError) return new ApiError(409, `${err.message}: bars cannot be imported into it`);
    const code = codeOf(err);
    if (MYSQL_READ_ONLY_CODES.has(code) || code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY_')) {
      return new ApiError(409, `${store.description} refused the write (${code}): it is read-only for Kestrel; bars cannot be imported into it`);
    }
    if (err instanceof BarStoreUnavailableError) return new ApiError(503, `bar store: ${err.message}`);
    return err;
  }
}

function boundOf(text: string, which: 'from' | 'to'): number {
  const bare = text.length === 10;
  const time = parseDatetime(bare ? `${text} ${which === 'from' ? '00:00:00' : '23:59:59'}` : text);
  if (time === null) throw new ApiError(400, `barGaps: ${which}: not a date and time`, [{ path: which, message: 'not a date and time' }]);
  return time;
}

function calendarView(calendar: GapCalendar): BarGapsResult['calendar'] {
  return {
    name: calendar.name,
    sessions: (calendar.sessions ?? []).map((s) => `${s.start}–${s.end}`),
    minMinutes: calendar.minMinutes,
  };
}
