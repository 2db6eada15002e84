/**
 * `kestrel export`: bars from the bar store as CSV that `kestrel import` reads back unchanged.
 */
import { resolve } from 'node:path';
import { parseVtSymbol } from '../../shared/bar.js';
import { BAR_INTERVALS } from '../../io/barImport.js';
import { describeBarKey, type BarKey } from '../../io/barStore.js';
import { EXPORT_HEADER, exportBars, exportBarsToFile, type ExportOptions } from '../../io/barExport.js';
import { UsageError, type CliCommand, type CliIo } from './command.js';
import { choiceFlag, datetimeFlag, parseFlags, requireFlag } from './flags.js';
import { STORE_FLAGS, STORE_USAGE, openStoreFromFlags, runReportingErrors } from './storeFlags.js';

const FLAGS = {
  'vt-symbol': { type: 'string' },
  interval: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  file: { type: 'string' },
  help: { type: 'boolean' },
  ...STORE_FLAGS,
} as const;

const USAGE = `Usage: kestrel export --vt-symbol S.E --file F|- [options]

Writes bars as CSV with the header
  ${EXPORT_HEADER}
(datetime = the exchange's naive local time); \`kestrel import\` reads it back unchanged.

  --vt-symbol S.E     e.g. rb2501.SHFE
  --interval I        1m (default), 1h, d, w, tick
  --from T, --to T    inclusive bounds, exchange time: YYYY-MM-DD or "YYYY-MM-DD HH:MM[:SS]";
                      a bare --to date includes that whole day
  --file F|-          the CSV file (written whole or not at all), or - for standard output

${STORE_USAGE}
`;

export function barKeyFromFlags(vtSymbol: string | undefined, interval: string | undefined): BarKey {
  let parts: { symbol: string; exchange: string };
  try {
    parts = parseVtSymbol(requireFlag(vtSymbol, 'vt-symbol'));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--vt-symbol: ${(err as Error).message}`);
  }
  return { ...parts, interval: choiceFlag(interval, 'interval', BAR_INTERVALS) ?? '1m' };
}

export function rangeFromFlags(from: string | undefined, to: string | undefined): { from?: number; to?: number } {
  const range: { from?: number; to?: number } = {};
  const f = datetimeFlag(from, 'from');
  const t = datetimeFlag(to, 'to', { endOfDay: true });
  if (f !== undefined) range.from = f;
  if (t !== undefined) range.to = t;
  if (f !== undefined && t !== undefined && f > t) throw new UsageError(`--from ${from} is after --to ${to}`);
  return range;
}

export const exportCommand: CliCommand = {
  name: 'export',
  usage: USAGE,
  run(argv: readonly string[], io: CliIo): Promise<number> {
    return runReportingErrors('export', io, async () => {
      const { values } = parseFlags(argv, FLAGS);
      if (values.help) {
        io.stdout.write(USAGE);
        return 0;
      }
      const key = barKeyFromFlags(values['vt-symbol'], values.interval);
      const opts: ExportOptions = rangeFromFlags(values.from, values.to);
      const target = requireFlag(values.file, 'file');
      const store = await openStoreFromFlags(values, io, { readonly: true });
      try {
        if (target === '-') {
          const result = await exportBars(store, key, io.stdout, opts);
          if (result.rows === 0) io.stderr.write(`kestrel export: no bars for ${describeBarKey(key)} in ${store.description}\n`);
          return 0;
        }
        const file = resolve(io.cwd, target);
        const result = await exportBarsToFile(store, key, file, opts);
        io.stdout.write(
          `Exported ${result.rows} bars of ${describeBarKey(key)} from ${store.description}\n` +
            `  to              ${file}\n` +
            (result.rows > 0 ? `  first datetime  ${result.first}\n  last datetime   ${result.last}\n` : ''),
        );
        return 0;
      } finally {
        await store.close();
      }
    });
  },
};
