/**
 * `kestrel import`: a user's CSV or JSON bars into the bar store (see io/barImport.ts).
 */
import { resolve } from 'node:path';
import { parseVtSymbol, type BarInterval } from '../../shared/bar.js';
import {
  BAR_INTERVALS,
  formatFromFileName,
  importBars,
  parseColumnMapping,
  type HeaderMode,
  type ImportSpec,
} from '../../io/barImport.js';
import { describeBarKey } from '../../io/barStore.js';
import { UsageError, type CliCommand, type CliIo } from './command.js';
import { choiceFlag, intFlag, parseFlags, requireFlag } from './flags.js';
import { STORE_FLAGS, STORE_USAGE, openStoreFromFlags, runReportingErrors } from './storeFlags.js';

const FLAGS = {
  file: { type: 'string' },
  format: { type: 'string' },
  symbol: { type: 'string' },
  exchange: { type: 'string' },
  'vt-symbol': { type: 'string' },
  interval: { type: 'string' },
  columns: { type: 'string' },
  'datetime-format': { type: 'string' },
  tz: { type: 'string' },
  'exchange-tz': { type: 'string' },
  'skip-header': { type: 'boolean' },
  'no-header': { type: 'boolean' },
  delimiter: { type: 'string' },
  'max-errors': { type: 'string' },
  help: { type: 'boolean' },
  ...STORE_FLAGS,
} as const;

const USAGE = `Usage: kestrel import --file F --symbol S --exchange E [options]

Imports 1-minute (or other) bars from a CSV or JSON file into the bar store, vnpy-compatible.
The whole file is checked first; a file with any bad row stores nothing (exit code 2).
Importing the same file again changes nothing (rows are insert-or-replace on their datetime).

  --file F              the file to import
  --format csv|json     default: json for *.json, else csv. JSON is read whole; CSV is streamed
  --symbol S            e.g. rb2501          (or --vt-symbol rb2501.SHFE)
  --exchange E          e.g. SHFE
  --interval I          1m (default), 1h, d, w, tick
  --columns MAP         which column holds what: field=column pairs, column by header name or
                        0-based position; fields: datetime | date [+ time] (joined with a space),
                        open, high, low, close, volume, turnover, openInterest.
                        Without it, columns are found by header names (datetime/date/time, open,
                        high, low, close, volume, turnover, open_interest …). Missing volume,
                        turnover and openInterest are 0.
  --skip-header         the CSV's first line is a header that does not fit the rows: skip it and
                        name columns by position
  --no-header           the CSV has no header line
  --delimiter D         CSV field separator (default ","; "tab" for tabs)
  --datetime-format F   auto (default: YYYY-MM-DD[ HH:MM[:SS]], YYYY/MM/DD …, YYYYMMDD[ HHMMSS];
                        ISO 8601 with an offset, 2024-01-02T09:30:00+08:00 / …Z, is converted to the
                        exchange's time: --exchange-tz, else --tz, else China's for SHFE, DCE, …),
                        a strftime-like pattern (%Y-%m-%d %H:%M:%S, %Y%m%d, %d/%m/%Y %I:%M %p; also
                        %y %b %f %F %T), or epoch-s / epoch-ms (instants)
  --tz Z                the time zone the file's times are written in (IANA name such as
                        Europe/Berlin, UTC, or +08:00). Default: the file already holds the
                        exchange's local time and nothing is converted. A time that does not
                        exist in that zone (a daylight-saving gap) is an error naming its line
  --exchange-tz Z       the exchange's time zone: the store keeps its naive local time.
                        Default: the same as --tz (no conversion); epochs without either are UTC
  --max-errors N        bad rows listed before the rest are only counted (default 20)

${STORE_USAGE}

Examples:
  backtrader's 2006-01-02-volume-min-001.txt (header lacks "Time"; rows: date,time,o,h,l,c,v,oi):
    kestrel import --file 2006-01-02-volume-min-001.txt --symbol ESTX50 --exchange EUREX \\
      --columns date=0,time=1,open=2,high=3,low=4,close=5,volume=6,openInterest=7 --skip-header
  freqtrade's UNITTEST_BTC-1m.json ([ms epoch, open, high, low, close, volume] arrays, UTC):
    kestrel import --file UNITTEST_BTC-1m.json --symbol UNITTEST_BTC --exchange BINANCE \\
      --columns datetime=0,open=1,high=2,low=3,close=4,volume=5 --datetime-format epoch-ms --tz UTC
`;

export const importCommand: CliCommand = {
  name: 'import',
  usage: USAGE,
  run(argv: readonly string[], io: CliIo): Promise<number> {
    return runReportingErrors('import', io, async () => {
      const { values } = parseFlags(argv, FLAGS);
      if (values.help) {
        io.stdout.write(USAGE);
        return 0;
      }
      const file = resolve(io.cwd, requireFlag(values.file, 'file'));
      let symbol = values.symbol;
      let exchange = values.exchange;
      if (values['vt-symbol'] !== undefined) {
        if (symbol !== undefined || exchange !== undefined) throw new UsageError('give --vt-symbol, or --symbol and --exchange, not both');
        try {
          ({ symbol, exchange } = parseVtSymbol(values['vt-symbol']));
        } catch (err) {
          throw new UsageError(`--vt-symbol: ${(err as Error).message}`);
        }
      }
      if (values['skip-header'] && values['no-header']) throw new UsageError('give --skip-header or --no-header, not both');
      const header: HeaderMode = values['skip-header'] ? 'skip' : values['no-header'] ? 'none' : 'use';
      const delimiter = values.delimiter === 'tab' || values.delimiter === '\\t' ? '\t' : values.delimiter;
      const spec: ImportSpec = {
        file,
        format: choiceFlag(values.format, 'format', ['csv', 'json'] as const) ?? formatFromFileName(file),
        symbol: requireFlag(symbol, 'symbol'),
        exchange: requireFlag(exchange, 'exchange'),
        interval: choiceFlag(values.interval, 'interval', BAR_INTERVALS) ?? ('1m' satisfies BarInterval),
        header,
        maxProblems: intFlag(values['max-errors'], 'max-errors', { min: 1 }) ?? 20,
      };
      if (values.columns !== undefined) spec.columns = parseColumnMapping(values.columns);
      if (values['datetime-format'] !== undefined) spec.datetimeFormat = values['datetime-format'];
      if (values.tz !== undefined) spec.tz = values.tz;
      if (values['exchange-tz'] !== undefined) spec.exchangeTz = values['exchange-tz'];
      if (delimiter !== undefined) spec.delimiter = delimiter;

      const store = await openStoreFromFlags(values, io, { readonly: false });
      try {
        const result = await importBars(store, spec);
        const key = describeBarKey(result.key);
        if (!result.stored) {
          for (const p of result.problems) io.stderr.write(`${p}\n`);
          const shown = result.problems.length;
          const more = result.problemCount > shown ? ` (${shown} problems shown)` : '';
          io.stderr.write(
            `${file}: ${result.problemCount} bad row${result.problemCount === 1 ? '' : 's'} of ${result.rowsRead}${more}; nothing was stored\n`,
          );
          return 2;
        }
        for (const w of result.warnings) io.stderr.write(`warning: ${w}\n`);
        if (result.warningCount > result.warnings.length) {
          io.stderr.write(`warning: ${result.warningCount - result.warnings.length} more repeated datetimes with different values\n`);
        }
        const overview = (await store.overview()).find(
          (o) => o.symbol === result.key.symbol && o.exchange === result.key.exchange && o.interval === result.key.interval,
        );
        io.stdout.write(
          `Imported ${file}\n` +
            `  into            ${store.description}\n` +
            `  key             ${key}\n` +
            `  rows read       ${result.rowsRead}\n` +
            `  rows written    ${result.rowsWritten}\n` +
            `  first datetime  ${result.first}\n` +
            `  last datetime   ${result.last}\n` +
            (result.outOfOrder > 0 ? `  out of order    ${result.outOfOrder} rows (stored by datetime)\n` : '') +
            (result.repeated > 0
              ? `  repeated        ${result.repeated} rows repeat an earlier datetime (the last one is stored; ${result.warningCount} with different values)\n`
              : '') +
            (overview ? `  now stored      ${overview.count} bars, ${overview.start} → ${overview.end}\n` : ''),
        );
        return 0;
      } finally {
        await store.close();
      }
    });
  },
};
