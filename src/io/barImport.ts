/**
 * Importing bars from a user's CSV or JSON file into the bar store, vnpy-DataManager style:
 * the user says which column holds what (`--columns`), how datetimes are written and in which
 * time zone.
 *
 * All or nothing: a file with any bad row stores nothing. The file is validated completely
 * first (every problem reported as `file:line: field "high": "abc" is not a number`, up to a
 * limit); only a clean file is written. Files up to IMPORT_MEMORY_ROWS rows are kept in memory
 * from the validation pass and written in one transaction; larger CSV files are read a second
 * time and written in batches (each batch its own transaction: a crash half-way leaves a
 * partial import, which re-running the same import completes, because writes are
 * insert-or-replace). CSV is streamed line by line; JSON is read and parsed whole.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import type { BarInterval, StoredBar } from '../shared/bar.js';
import { formatDatetime } from '../shared/time.js';
import type { BarKey, BarStore } from './barStore.js';
import { compileDatetimeFormat, DatetimeFormatError, type DatetimeFormat, type WrittenDatetime } from './datetimeFormat.js';
import { TimeZone, TimeZoneError, convertWall, exchangeTimeZone } from './timeZone.js';

/** The user described the import wrongly, or the file cannot be used: exit code 2 in the CLI. */
export class ImportUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportUsageError';
  }
}

export const IMPORT_FIELDS = [
  'datetime',
  'date',
  'time',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'turnover',
  'openInterest',
] as const;
export type ImportField = (typeof IMPORT_FIELDS)[number];

/** A column by 0-based position, or by its header name (CSV) / key (JSON objects). */
export type ColumnRef = { by: 'position'; index: number } | { by: 'name'; name: string };
export type ColumnMapping = Partial<Record<ImportField, ColumnRef>>;

export const BAR_INTERVALS: readonly BarInterval[] = ['1m', '1h', 'd', 'w', 'tick'];

const FIELD_ALIASES: Record<string, ImportField> = {
  datetime: 'datetime',
  date: 'date',
  time: 'time',
  open: 'open',
  high: 'high',
  low: 'low',
  close: 'close',
  volume: 'volume',
  turnover: 'turnover',
  openinterest: 'openInterest',
  open_interest: 'openInterest',
  oi: 'openInterest',
};

/** Header names recognised without --columns (case-insensitive), per field, in preference order. */
const HEADER_NAMES: Record<ImportField, readonly string[]> = {
  datetime: ['datetime', 'date_time', 'date time', 'timestamp', 'time_stamp'],
  date: ['date', 'trade_date', 'trading_date', 'day'],
  time: ['time', 'trade_time'],
  open: ['open', 'open_price'],
  high: ['high', 'high_price'],
  low: ['low', 'low_price'],
  close: ['close', 'close_price', 'last'],
  volume: ['volume', 'vol'],
  turnover: ['turnover', 'amount', 'value'],
  openInterest: ['open_interest', 'openinterest', 'open interest', 'oi', 'hold', 'position'],
};

/**
 * `datetime=Date,open=Open,...` (header names) or `date=0,time=1,open=2,...` (0-based positions);
 * the two may be mixed. Field names: datetime | date [+ time] | open | high | low | close |
 * volume | turnover | openInterest (or open_interest, oi).
 */
export function parseColumnMapping(text: string): ColumnMapping {
  const mapping: ColumnMapping = {};
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw new ImportUsageError('--columns is empty; e.g. --columns datetime=Date,open=Open,high=High,low=Low,close=Close,volume=Volume');
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) {
      throw new ImportUsageError(`--columns: "${part}" is not field=column (e.g. open=Open or open=2)`);
    }
    const fieldText = part.slice(0, eq).trim();
    const field = FIELD_ALIASES[fieldText.toLowerCase()];
    if (!field) {
      throw new ImportUsageError(
        `--columns: "${fieldText}" is not a bar field; use ${IMPORT_FIELDS.join(', ')}`,
      );
    }
    if (mapping[field]) throw new ImportUsageError(`--columns: ${field} is given twice`);
    const ref = part.slice(eq + 1).trim();
    mapping[field] = /^\d+$/.test(ref) ? { by: 'position', index: Number(ref) } : { by: 'name', name: ref };
  }
  checkMappingShape(mapping, '--columns');
  return mapping;
}

function checkMappingShape(mapping: ColumnMapping, where: string): void {
  if (mapping.datetime && (mapping.date || mapping.time)) {
    throw new ImportUsageError(`${where}: give datetime, or date (and time), not both`);
  }
  if (mapping.time && !mapping.date) throw new ImportUsageError(`${where}: time needs date`);
  const missing: string[] = [];
  if (!mapping.datetime && !mapping.date) missing.push('datetime (or date)');
  for (const f of ['open', 'high', 'low', 'close'] as const) if (!mapping[f]) missing.push(f);
  if (missing.length > 0) throw new ImportUsageError(`${where}: no column for ${missing.join(', ')}`);
}

export type ImportFormat = 'csv' | 'json';

/** How the CSV's first line is treated. */
export type HeaderMode =
  /** The first line names the columns; --columns may refer to them by name (default). */
  | 'use'
  /** The first line is a header that is wrong or useless: skipped; columns by position only. */
  | 'skip'
  /** There is no header line: every line is a bar; columns by position only. */
  | 'none';

export interface ImportSpec {
  file: string;
  format: ImportFormat;
  symbol: string;
  exchange: string;
  interval: BarInterval;
  /** Without it: columns found by header names / JSON keys (datetime, open, high, …). */
  columns?: ColumnMapping;
  /** `auto` (default), `epoch-s`, `epoch-ms` or a strftime-like pattern. */
  datetimeFormat?: string;
  /** The zone of the file's times (IANA, UTC, +08:00). Default: the file's times are already the exchange's local time. */
  tz?: string;
  /** The zone whose naive local time the store keeps. Default: the same as tz (no conversion); for epochs without either, UTC. */
  exchangeTz?: string;
  header?: HeaderMode;
  delimiter?: string;
  /** Problems listed before the rest are only counted; default 20. */
  maxProblems?: number;
}

export interface ImportResult {
  key: BarKey;
  file: string;
  rowsRead: number;
  rowsWritten: number;
  /** Earliest and latest bar datetime of the file, exchange-local 'YYYY-MM-DD HH:MM:SS'. */
  first: string | null;
  last: string | null;
  /** Rows whose datetime was before the previous row's. */
  outOfOrder: number;
  /** Rows repeating an earlier row's datetime (the file's last row for a datetime is kept). */
  repeated: number;
  /** Things stored but worth a look (a repeated datetime with different values), at most maxProblems. */
  warnings: string[];
  warningCount: number;
  /** Formatted problems, at most maxProblems. */
  problems: string[];
  /** Rows (or file-level issues) with a problem, all counted. */
  problemCount: number;
  /** false when any problem was found: then nothing was written. */
  stored: boolean;
}

export const IMPORT_MEMORY_ROWS = 200_000;
const WRITE_BATCH = 50_000;

type RawRow = readonly unknown[] | Readonly<Record<string, unknown>>;
interface SourceRow {
  /** "file:12" or "file:row 12" */
  where: string;
  /** null when the JSON element is neither an array nor an object (then `invalid` holds it). */
  row: RawRow | null;
  invalid?: unknown;
}

type Accessor = number | string;
interface ResolvedColumns {
  datetime?: Accessor;
  date?: Accessor;
  time?: Accessor;
  open: Accessor;
  high: Accessor;
  low: Accessor;
  close: Accessor;
  volume?: Accessor;
  turnover?: Accessor;
  openInterest?: Accessor;
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? String(value);
}

/** Turns raw rows into bars, or into the problems that keep them from being bars. */
class RowParser {
  private readonly columns: ResolvedColumns;
  private readonly format: DatetimeFormat;
  private readonly fromZone: TimeZone | null;
  private readonly toZone: TimeZone | null;
  /** Where a time written with its own UTC offset is turned into the exchange's wall clock. */
  private readonly offsetZone: TimeZone | null;
  private readonly alignment: number;
  private readonly spec: ImportSpec;

  constructor(spec: ImportSpec, columns: ResolvedColumns, format: DatetimeFormat, fromZone: TimeZone | null, toZone: TimeZone | null) {
    this.spec = spec;
    this.columns = columns;
    this.format = format;
    this.fromZone = fromZone;
    this.toZone = toZone;
    this.offsetZone = toZone ?? exchangeTimeZone(spec.exchange);
    this.alignment = spec.interval === '1m' ? 60 : spec.interval === '1h' ? 3600 : spec.interval === 'd' ? 86_400 : 1;
  }

  /** A bar, or the problems of this row (each already prefixed with where). */
  parse(source: SourceRow): StoredBar | string[] {
    const problems: string[] = [];
    const { row, where } = source;
    if (row === null) return [`${where}: expected an array or an object, got ${show(source.invalid)}`];
    const c = this.columns;
    const get = (acc: Accessor): unknown =>
      typeof acc === 'number' ? (Array.isArray(row) ? (row as readonly unknown[])[acc] : undefined) : Array.isArray(row) ? undefined : (row as Readonly<Record<string, unknown>>)[acc];
    const present = (field: ImportField, acc: Accessor): unknown => {
      const v = get(acc);
      if (v === undefined) {
        problems.push(
          `${where}: field "${field}" (${describeAccessor(acc)}) is missing${Array.isArray(row) ? `: the row has ${row.length} columns` : ''}`,
        );
      }
      return v;
    };
    const number = (field: ImportField, acc: Accessor | undefined, required: boolean): number => {
      if (acc === undefined) return 0;
      const v = present(field, acc);
      if (v === undefined) return NaN;
      if (!required && (v === null || (typeof v === 'string' && v.trim() === ''))) return 0;
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      if (typeof v === 'string' && NUMBER_RE.test(v.trim())) return Number(v.trim());
      problems.push(`${where}: field "${field}": ${show(v)} is not a number`);
      return NaN;
    };

    let time = NaN;
    let datetimeText: string | undefined;
    let datetimeLabel: string;
    if (c.datetime !== undefined) {
      datetimeLabel = 'field "datetime"';
      const v = present('datetime', c.datetime);
      if (v !== undefined) datetimeText = String(v);
    } else {
      datetimeLabel = c.time !== undefined ? 'fields "date" + "time"' : 'field "date"';
      const d = present('date', c.date as Accessor);
      const t = c.time !== undefined ? present('time', c.time) : '';
      if (d !== undefined && t !== undefined) datetimeText = t === '' ? String(d) : `${String(d).trim()} ${String(t).trim()}`;
    }
    if (datetimeText !== undefined) {
      const parsed = this.format.read(datetimeText);
      if (parsed === null) {
        problems.push(`${where}: ${datetimeLabel}: ${show(datetimeText)} is not a datetime in format ${this.format.description}`);
      } else {
        const converted = this.toExchangeWall(parsed, where, datetimeText);
        if (typeof converted === 'string') problems.push(`${where}: ${datetimeLabel}: ${converted}`);
        else time = converted;
        if (Number.isFinite(time) && time % this.alignment !== 0) {
          const unit = this.alignment === 60 ? 'minute' : this.alignment === 3600 ? 'hour' : 'day';
          problems.push(
            `${where}: ${datetimeLabel}: ${show(datetimeText)} (${formatDatetime(time)} exchange time) is not on a whole ${unit} (interval ${this.spec.interval})`,
          );
        }
      }
    }
    const open = number('open', c.open, true);
    const high = number('high', c.high, true);
    const low = number('low', c.low, true);
    const close = number('close', c.close, true);
    const volume = number('volume', c.volume, false);
    const turnover = number('turnover', c.turnover, false);
    const openInterest = number('openInterest', c.openInterest, false);
    if (problems.length === 0) {
      if (high < low) problems.push(`${where}: field "high": ${high} is below low ${low}`);
      else {
        if (open > high || open < low) problems.push(`${where}: field "open": ${open} is outside low ${low} .. high ${high}`);
        if (close > high || close < low) problems.push(`${where}: field "close": ${close} is outside low ${low} .. high ${high}`);
      }
      if (volume < 0) problems.push(`${where}: field "volume": ${volume} is negative`);
    }
    if (problems.length > 0) return problems;
    return {
      symbol: this.spec.symbol,
      exchange: this.spec.exchange,
      interval: this.spec.interval,
      time,
      open,
      high,
      low,
      close,
      volume,
      turnover,
      openInterest,
    };
  }

  /** The exchange's wall clock, or why the written time cannot become one. */
  private toExchangeWall(written: WrittenDatetime, where: string, text: string): number | string {
    const { seconds, utcOffset } = written;
    if (this.format.isEpoch) return (this.toZone as TimeZone).toWall(seconds);
    if (utcOffset !== null) {
      if (!this.offsetZone) {
        // Not a row problem: every row would say it, and only a flag mends it.
        throw new ImportUsageError(
          `${where}: ${show(text)} carries its UTC offset, and the time zone of exchange "${this.spec.exchange}" is not known: give --exchange-tz (e.g. Asia/Shanghai, UTC) so it is stored as the exchange's local time`,
        );
      }
      return this.offsetZone.toWall(seconds - utcOffset);
    }
    if (!this.fromZone && this.toZone) {
      // --exchange-tz alone serves times that carry their offset; this one does not.
      return `${show(text)} carries no UTC offset: give --tz, the zone the file's times are written in`;
    }
    if (this.fromZone) {
      const gap = this.fromZone.gapAt(seconds);
      if (gap !== null) {
        return `${show(text)} does not exist in ${this.fromZone.name}: the clocks jumped ${gap / 60} minutes forward over it (daylight saving); nothing is guessed, correct the row`;
      }
    }
    if (this.fromZone && this.toZone) return convertWall(seconds, this.fromZone, this.toZone);
    return seconds;
  }
}

function describeAccessor(acc: Accessor): string {
  return typeof acc === 'number' ? `column ${acc}` : `column "${acc}"`;
}

function findHeader(header: readonly string[], field: ImportField): number | undefined {
  const lower = header.map((h) => h.trim().toLowerCase());
  for (const name of HEADER_NAMES[field]) {
    const i = lower.indexOf(name);
    if (i >= 0) return i;
  }
  return undefined;
}

/** Mapping + header (CSV) or keys (JSON objects) → accessors. */
function resolveColumns(
  mapping: ColumnMapping | undefined,
  header: readonly string[] | null,
  rowsAreObjects: boolean,
  file: string,
  headerMode: HeaderMode,
): ResolvedColumns {
  const out: Partial<Record<ImportField, Accessor>> = {};
  if (mapping) {
    for (const field of IMPORT_FIELDS) {
      const ref = mapping[field];
      if (!ref) continue;
      if (ref.by === 'position') {
        if (rowsAreObjects) {
          throw new ImportUsageError(`${file}: the JSON rows are objects; refer to their keys by name (${field}=${field}), not by position`);
        }
        out[field] = ref.index;
      } else if (rowsAreObjects) {
        out[field] = ref.name;
      } else if (header === null) {
        throw new ImportUsageError(
          headerMode === 'skip'
            ? `--columns ${field}=${ref.name}: with --skip-header the header is not used; refer to columns by position (${field}=2)`
            : `--columns ${field}=${ref.name}: ${file} has no header to name columns; refer to columns by position (${field}=2)`,
        );
      } else {
        let i = header.indexOf(ref.name);
        if (i < 0) i = header.map((h) => h.toLowerCase()).indexOf(ref.name.toLowerCase());
        if (i < 0) {
          throw new ImportUsageError(
            `--columns ${field}=${ref.name}: ${file} has no column "${ref.name}"; its header is ${header.map((h) => `"${h}"`).join(', ')}`,
          );
        }
        out[field] = i;
      }
    }
    return out as ResolvedColumns;
  }
  if (header === null) {
    throw new ImportUsageError(
      `${file}: without a header naming the columns, give --columns by position, e.g. --columns datetime=0,open=1,high=2,low=3,close=4,volume=5`,
    );
  }
  const found: ColumnMapping = {};
  for (const field of IMPORT_FIELDS) {
    const i = findHeader(header, field);
    if (i === undefined) continue;
    found[field] = { by: 'position', index: i };
    out[field] = rowsAreObjects ? (header[i] as string) : i;
  }
  if (found.datetime) {
    delete found.date;
    delete found.time;
    delete out.date;
    delete out.time;
  }
  try {
    checkMappingShape(found, file);
  } catch (err) {
    throw new ImportUsageError(
      `${(err as Error).message} among its ${rowsAreObjects ? 'keys' : 'header'} ${header.map((h) => `"${h}"`).join(', ')}; describe the columns with --columns (e.g. --columns datetime=Date,open=Open,high=High,low=Low,close=Close,volume=Volume)`,
    );
  }
  return out as ResolvedColumns;
}

/** Splits a CSV line; double quotes are honoured ("a,b" and "" escapes), fields trimmed. */
export function splitCsvLine(line: string, delimiter: string): string[] {
  if (!line.includes('"')) return line.split(delimiter).map((f) => f.trim());
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (line.startsWith(delimiter, i)) {
      fields.push(field.trim());
      field = '';
      i += delimiter.length - 1;
    } else field += ch;
  }
  fields.push(field.trim());
  return fields;
}

interface OpenedSource {
  header: string[] | null;
  rowsAreObjects: boolean;
  /** Each call reads the data rows from the start. */
  rows(): AsyncIterable<SourceRow>;
}

async function openCsv(spec: ImportSpec, label: string): Promise<OpenedSource> {
  const delimiter = spec.delimiter ?? ',';
  const headerMode = spec.header ?? 'use';
  const lines = async function* (): AsyncGenerator<{ n: number; text: string }> {
    const rl = createInterface({ input: createReadStream(spec.file, { encoding: 'utf8' }), crlfDelay: Infinity });
    let n = 0;
    try {
      for await (const raw of rl) {
        n++;
        const text = n === 1 ? raw.replace(/^\uFEFF/, '') : raw;
        if (text.trim() === '') continue;
        yield { n, text };
      }
    } finally {
      rl.close();
    }
  };
  let header: string[] | null = null;
  let headerLine = 0;
  let hasRows = false;
  for await (const line of lines()) {
    if (headerMode !== 'none' && header === null) {
      header = splitCsvLine(line.text, delimiter);
      headerLine = line.n;
      continue;
    }
    hasRows = true;
    break;
  }
  // Said before anything asks for columns: an empty file has none to describe.
  if (!hasRows && header === null) throw new ImportUsageError(`${label}: the file is empty: no bars to import`);
  if (!hasRows) {
    throw new ImportUsageError(`${label}: the file holds only its header line (line ${headerLine}), no bars to import`);
  }
  return {
    header: headerMode === 'use' ? header : null,
    rowsAreObjects: false,
    rows: async function* () {
      for await (const line of lines()) {
        if (line.n <= headerLine) continue;
        yield { where: `${label}:${line.n}`, row: splitCsvLine(line.text, delimiter) };
      }
    },
  };
}

async function openJson(spec: ImportSpec, label: string): Promise<OpenedSource> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(spec.file, 'utf8'));
  } catch (err) {
    throw new ImportUsageError(`${label}: not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!Array.isArray(data)) {
    throw new ImportUsageError(`${label}: expected a JSON array of bars (arrays or objects), got ${typeof data}`);
  }
  const rows = data as unknown[];
  if (rows.length === 0) throw new ImportUsageError(`${label}: the JSON array is empty: no bars to import`);
  const first = rows.find((r) => r !== null && typeof r === 'object');
  const rowsAreObjects = first !== undefined && !Array.isArray(first);
  let header: string[] | null = null;
  if (rowsAreObjects) header = Object.keys(first as Record<string, unknown>);
  else if (!spec.columns) {
    throw new ImportUsageError(
      `${label}: the JSON rows are arrays; give --columns by position, e.g. --columns datetime=0,open=1,high=2,low=3,close=4,volume=5 --datetime-format epoch-ms`,
    );
  }
  return {
    header,
    rowsAreObjects,
    rows: async function* () {
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i];
        // JSON rows have no lines worth naming: the 1-based position in the array says where.
        const where = `${label}:row ${i + 1}`;
        if (row === null || typeof row !== 'object') yield { where, row: null, invalid: row };
        else yield { where, row: row as RawRow };
      }
    },
  };
}

export interface PreparedImport {
  key: BarKey;
  parser: RowParser;
  source: OpenedSource;
  label: string;
}

/**
 * Checks the spec and opens the file: everything that can be wrong before the first row.
 * @throws ImportUsageError with what and where.
 */
export async function prepareImport(spec: ImportSpec): Promise<PreparedImport> {
  if (!spec.symbol.trim()) throw new ImportUsageError('the symbol is empty');
  if (!spec.exchange.trim()) throw new ImportUsageError('the exchange is empty');
  if (!BAR_INTERVALS.includes(spec.interval)) {
    throw new ImportUsageError(`interval "${spec.interval}" is not one of ${BAR_INTERVALS.join(', ')}`);
  }
  const label = spec.file;
  try {
    const s = await stat(spec.file);
    if (!s.isFile()) throw new ImportUsageError(`${label} is not a file`);
  } catch (err) {
    if (err instanceof ImportUsageError) throw err;
    throw new ImportUsageError(`${label} cannot be read: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let format: DatetimeFormat;
  let fromZone: TimeZone | null = null;
  let toZone: TimeZone | null = null;
  try {
    format = compileDatetimeFormat(spec.datetimeFormat);
    if (spec.tz) fromZone = TimeZone.of(spec.tz);
    if (spec.exchangeTz) toZone = TimeZone.of(spec.exchangeTz);
  } catch (err) {
    if (err instanceof DatetimeFormatError || err instanceof TimeZoneError) throw new ImportUsageError(err.message);
    throw err;
  }
  if (format.isEpoch) {
    // An epoch is an instant: it needs a zone to become the exchange's wall clock.
    toZone = toZone ?? fromZone ?? TimeZone.of('UTC');
  } else if (fromZone && !toZone) {
    toZone = fromZone;
  }
  const headerMode = spec.header ?? 'use';
  if (spec.format === 'json' && headerMode !== 'use') {
    throw new ImportUsageError('--skip-header and --no-header are for CSV files');
  }
  if (spec.delimiter !== undefined && spec.delimiter.length === 0) throw new ImportUsageError('--delimiter is empty');
  const source = spec.format === 'json' ? await openJson(spec, label) : await openCsv(spec, label);
  const columns = resolveColumns(spec.columns, source.header, source.rowsAreObjects, label, headerMode);
  return {
    key: { symbol: spec.symbol, exchange: spec.exchange, interval: spec.interval },
    parser: new RowParser(spec, columns, format, fromZone, toZone),
    source,
    label,
  };
}

/**
 * Validates the whole file, then (only if every row is good) writes it.
 * @throws ImportUsageError for a wrong spec or an unusable file (nothing written);
 *   bad rows do not throw: they come back in `problems` with `stored: false`.
 */
export async function importBars(
  store: BarStore,
  spec: ImportSpec,
  opts: { memoryRows?: number; batchSize?: number } = {},
): Promise<ImportResult> {
  const prepared = await prepareImport(spec);
  const maxProblems = spec.maxProblems ?? 20;
  const memoryRows = opts.memoryRows ?? IMPORT_MEMORY_ROWS;
  const batchSize = opts.batchSize ?? WRITE_BATCH;
  const result: ImportResult = {
    key: prepared.key,
    file: spec.file,
    rowsRead: 0,
    rowsWritten: 0,
    first: null,
    last: null,
    outOfOrder: 0,
    repeated: 0,
    warnings: [],
    warningCount: 0,
    problems: [],
    problemCount: 0,
    stored: false,
  };
  let buffered: StoredBar[] | null = [];
  const repeats = new RepeatedDatetimes(memoryRows);
  let min = Infinity;
  let max = -Infinity;
  let previous = -Infinity;
  let widthHintGiven = false;
  const headerWidth = prepared.source.header && !prepared.source.rowsAreObjects ? prepared.source.header.length : null;
  for await (const source of prepared.source.rows()) {
    result.rowsRead++;
    const parsed = prepared.parser.parse(source);
    if (Array.isArray(parsed)) {
      result.problemCount++;
      if (!widthHintGiven && headerWidth !== null && Array.isArray(source.row) && source.row.length > headerWidth && !spec.columns) {
        widthHintGiven = true;
        result.problems.push(
          `${source.where}: the row has ${source.row.length} columns but the header names ${headerWidth}; describe the columns by position, e.g. --columns date=0,time=1,open=2,... --skip-header`,
        );
      }
      for (const p of parsed) if (result.problems.length < maxProblems) result.problems.push(p);
      continue;
    }
    if (parsed.time < min) min = parsed.time;
    if (parsed.time > max) max = parsed.time;
    if (parsed.time < previous) result.outOfOrder++;
    previous = parsed.time;
    const repeat = repeats.check(parsed, source.where);
    if (repeat) {
      result.repeated++;
      if (repeat.conflict) {
        result.warningCount++;
        if (result.warnings.length < maxProblems) result.warnings.push(repeat.conflict);
      }
    }
    if (buffered) {
      if (buffered.length < memoryRows) buffered.push(parsed);
      else buffered = null;
    }
  }
  if (result.rowsRead === 0) {
    result.problemCount++;
    result.problems.push(`${prepared.label}: no bars in the file`);
  }
  if (result.problemCount > 0) {
    // A file that is not stored has nothing to warn about yet.
    result.warnings = [];
    result.warningCount = 0;
  }
  if (result.problemCount > 0) return result;
  result.first = formatDatetime(min);
  result.last = formatDatetime(max);
  if (buffered) {
    result.rowsWritten = await store.write(buffered);
  } else {
    let batch: StoredBar[] = [];
    for await (const source of prepared.source.rows()) {
      const parsed = prepared.parser.parse(source);
      if (Array.isArray(parsed)) {
        throw new Error(`${source.where}: the file changed while it was being imported (${parsed[0] ?? 'bad row'})`);
      }
      batch.push(parsed);
      if (batch.length >= batchSize) {
        result.rowsWritten += await store.write(batch);
        batch = [];
      }
    }
    if (batch.length > 0) result.rowsWritten += await store.write(batch);
  }
  result.stored = true;
  return result;
}

const BAR_VALUES = ['open', 'high', 'low', 'close', 'volume', 'turnover', 'openInterest'] as const;

/**
 * Rows that repeat an earlier row's datetime: the store keeps the file's last one, so a repeat
 * with other values silently replaces a bar, and the trader is told which two lines disagree.
 * Every datetime is remembered while the file fits in memory (the rows are kept then anyway);
 * past that, only a repeat of the row just before is caught (sorted files, the usual case).
 */
class RepeatedDatetimes {
  private seen: Map<number, { where: string; bar: StoredBar }> | null = new Map();
  private last: { where: string; bar: StoredBar } | null = null;

  constructor(private readonly limit: number) {}

  check(bar: StoredBar, where: string): { conflict: string | null } | null {
    const earlier = this.seen?.get(bar.time) ?? (this.last?.bar.time === bar.time ? this.last : null);
    const entry = { where, bar };
    this.last = entry;
    if (this.seen) {
      this.seen.set(bar.time, entry);
      if (this.seen.size > this.limit) this.seen = null;
    }
    if (!earlier) return null;
    const differing = BAR_VALUES.filter((f) => earlier.bar[f] !== bar[f]);
    if (differing.length === 0) return { conflict: null };
    const values = differing.map((f) => `${f} ${earlier.bar[f]} vs ${bar[f]}`).join(', ');
    return {
      conflict: `${earlier.where} and ${where}: the same datetime ${formatDatetime(bar.time)} with different values (${values}); the later row, ${where}, is stored`,
    };
  }
}

/** `csv` or `json` from the file name, for a missing --format. */
export function formatFromFileName(file: string): ImportFormat {
  return basename(file).toLowerCase().endsWith('.json') ? 'json' : 'csv';
}
