/**
 * `kestrel analyze`: every window bar of an instrument with its indicators and signal states,
 * computed by the same pipeline as live trading (see io/analyze.ts).
 */
import { ANALYSIS_CSV_HEADER, DEFAULT_WARMUP_WINDOW_BARS, analysisCsvLine, analyzeBars, type AnalyzeOptions } from '../../io/analyze.js';
import { describeBarKey } from '../../io/barStore.js';
import { WINDOW_MINUTES } from '../../core/windowBars.js';
import { UsageError, type CliCommand, type CliIo } from './command.js';
import { choiceFlag, intFlag, parseFlags, requireFlag } from './flags.js';
import { barKeyFromFlags, rangeFromFlags } from './export.js';
import { STORE_FLAGS, STORE_USAGE, openStoreFromFlags, runReportingErrors } from './storeFlags.js';
import { once } from 'node:events';

const FLAGS = {
  'vt-symbol': { type: 'string' },
  window: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  warmup: { type: 'string' },
  format: { type: 'string' },
  help: { type: 'boolean' },
  ...STORE_FLAGS,
} as const;

const USAGE = `Usage: kestrel analyze --vt-symbol S.E --window N [options]

Builds N-minute window bars from the 1-minute bars in the bar store and prints each with
dif, dea, macd, EMA fast/slow and state, TD setup/countdown counts and marks (buy9, sell13 …),
dullness and divergence states. The last row has closed=false when its window is still forming.

  --vt-symbol S.E     e.g. rb2501.SHFE
  --window N          window minutes: ${WINDOW_MINUTES.join(', ')}
  --from T, --to T    print window bars starting in this range (exchange time: YYYY-MM-DD or
                      "YYYY-MM-DD HH:MM[:SS]"; a bare --to date includes that whole day)
  --warmup W          window bars' worth of history before --from that warms the indicators up
                      without being printed (default ${DEFAULT_WARMUP_WINDOW_BARS}; "all" = all history)
  --format json|csv   json (default): a JSON array, one window bar per line; csv: one line each

${STORE_USAGE}
`;

export const analyzeCommand: CliCommand = {
  name: 'analyze',
  usage: USAGE,
  run(argv: readonly string[], io: CliIo): Promise<number> {
    return runReportingErrors('analyze', io, async () => {
      const { values } = parseFlags(argv, FLAGS);
      if (values.help) {
        io.stdout.write(USAGE);
        return 0;
      }
      const key = barKeyFromFlags(values['vt-symbol'], undefined);
      const windowMinutes = intFlag(requireFlag(values.window, 'window'), 'window', { min: 1, max: 60 }) as number;
      if (!(WINDOW_MINUTES as readonly number[]).includes(windowMinutes)) {
        throw new UsageError(`--window ${windowMinutes} does not divide 60; use one of ${WINDOW_MINUTES.join(', ')}`);
      }
      const format = choiceFlag(values.format, 'format', ['json', 'csv'] as const) ?? 'json';
      const opts: AnalyzeOptions = { windowMinutes, ...rangeFromFlags(values.from, values.to) };
      if (values.warmup !== undefined) {
        opts.warmupWindowBars = values.warmup === 'all' ? 'all' : (intFlag(values.warmup, 'warmup', { min: 0 }) as number);
      }
      const store = await openStoreFromFlags(values, io, { readonly: true });
      try {
        const out = io.stdout;
        const write = async (text: string): Promise<void> => {
          if (!out.write(text)) await once(out, 'drain');
        };
        let rows = 0;
        let buffer = format === 'csv' ? `${ANALYSIS_CSV_HEADER}\n` : '[';
        for await (const row of analyzeBars(store, key, opts)) {
          buffer += format === 'csv' ? `${analysisCsvLine(row)}\n` : `${rows === 0 ? '\n' : ',\n'}${JSON.stringify(row)}`;
          rows++;
          if (buffer.length > 65_536) {
            await write(buffer);
            buffer = '';
          }
        }
        if (format === 'json') buffer += rows === 0 ? ']\n' : '\n]\n';
        await write(buffer);
        if (rows === 0) io.stderr.write(`kestrel analyze: no window bars for ${describeBarKey(key)} in ${store.description}\n`);
        return 0;
      } finally {
        await store.close();
      }
    });
  },
};
