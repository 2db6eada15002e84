/**
 * `kestrel repair`: salvages a damaged kestrel.db into a new file (see io/databaseHealth.ts).
 * The damaged file is only read; the trader swaps the files once Kestrel is stopped.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkDatabase, salvageDatabase } from '../../io/databaseHealth.js';
import { BAR_DB_FILE } from '../../io/openBarStore.js';
import { UsageError, type CliCommand, type CliIo } from './command.js';
import { parseFlags } from './flags.js';
import { defaultDataDir, runReportingErrors } from './storeFlags.js';

const FLAGS = {
  'data-dir': { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean' },
} as const;

const USAGE = `Usage: kestrel repair [--data-dir DIR] [--out FILE]

Checks DIR/kestrel.db (PRAGMA quick_check). When it is damaged, copies every row that can still be
read (bars, trades, orders, variant state, audit, …) into a new file and reports what could not be
read. kestrel.db itself is never written.

  --data-dir DIR   the data directory (default: $KESTREL_DATA_DIR or ~/.kestrel)
  --out FILE       the new file (default: DIR/kestrel.repaired-<time>.db); must not exist

Exit codes: 0 the file is sound, or the repaired copy was written; 1 the copy could not be made
sound; 2 usage or input error.
`;

export const repairCommand: CliCommand = {
  name: 'repair',
  usage: USAGE,
  run(argv: readonly string[], io: CliIo): Promise<number> {
    return runReportingErrors('repair', io, () => {
      const { values } = parseFlags(argv, FLAGS);
      if (values.help) {
        io.stdout.write(USAGE);
        return Promise.resolve(0);
      }
      const dataDir = resolve(io.cwd, values['data-dir'] ?? defaultDataDir());
      const db = join(dataDir, BAR_DB_FILE);
      if (!existsSync(db)) throw new UsageError(`${db} does not exist: nothing to repair`);
      const check = checkDatabase(db);
      if (check.ok) {
        io.stdout.write(`${db}: quick_check ok; nothing to repair\n`);
        return Promise.resolve(0);
      }
      io.stdout.write(`${db} is damaged:\n${check.problems.map((p) => `  ${p}\n`).join('')}`);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const out = values.out !== undefined ? resolve(io.cwd, values.out) : join(dataDir, `kestrel.repaired-${stamp}.db`);
      if (existsSync(out)) throw new UsageError(`--out ${out} exists; give a new file`);
      const report = salvageDatabase(db, out);
      io.stdout.write(`\nCopied into ${out}:\n`);
      let lost = 0;
      for (const t of report.tables) {
        io.stdout.write(`  ${t.table.padEnd(28)} ${String(t.rowsCopied).padStart(9)} rows${t.error ? `  NOT COPIED: ${t.error}` : ''}\n`);
        for (const u of t.unreadable) io.stdout.write(`  ${''.padEnd(28)} unreadable: ${u}\n`);
        lost += t.unreadable.length + (t.error ? 1 : 0);
      }
      for (const p of report.problems) io.stdout.write(`  ${p}\n`);
      lost += report.problems.length;
      io.stdout.write(
        lost === 0
          ? `\nEvery row that the tables list was read.\n`
          : `\n${lost} part${lost === 1 ? '' : 's'} could not be read (listed above); everything else was copied.\n`,
      );
      if (report.tables.length === 0) {
        io.stderr.write(`kestrel repair: no table of ${db} could be read; ${out} holds nothing. Restore from a backup\n`);
        return Promise.resolve(1);
      }
      if (!report.targetOk) {
        io.stderr.write(`kestrel repair: ${out} does not pass quick_check either; keep both files and restore from a backup\n`);
        return Promise.resolve(1);
      }
      io.stdout.write(
        `\nTo use it, stop Kestrel, then:\n` +
          `  mv ${db} ${db}.damaged   (and ${BAR_DB_FILE}-wal, ${BAR_DB_FILE}-shm beside it, if present)\n` +
          `  mv ${out} ${db}\n`,
      );
      return Promise.resolve(0);
    });
  },
};
