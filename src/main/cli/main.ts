/**
 * `kestrel <command>`: the command line of the headless workstation and its tools.
 * Exit codes: 0 ok, 1 runtime failure, 2 usage or input error.
 */
import { pathToFileURL } from 'node:url';
import { KESTREL_VERSION } from '../../shared/version.js';
import { UsageError, type CliCommand, type CliIo } from './command.js';

/**
 * Commands are loaded when called, so that one command's dependencies (the whole
 * workstation, for serve) can neither slow down nor break another.
 */
interface CommandEntry {
  readonly name: string;
  /** One line for `kestrel --help`. */
  readonly summary: string;
  load(): Promise<CliCommand>;
}

export const commands: readonly CommandEntry[] = [
  { name: 'serve', summary: 'start the headless workstation (web UI on 127.0.0.1, built-in demo)', load: async () => (await import('./serve.js')).serveCommand },
  { name: 'import', summary: 'import bars from a CSV or JSON file into the bar store', load: async () => (await import('./import.js')).importCommand },
  { name: 'export', summary: 'export bars from the bar store as CSV', load: async () => (await import('./export.js')).exportCommand },
  { name: 'backtest', summary: 'run one backtest job (a strategy over stored bars) and print its result', load: async () => (await import('./backtest.js')).backtestCommand },
  { name: 'sweep', summary: 'run a grid or random sample of backtests; results.jsonl + aggregated.json', load: async () => (await import('./sweep.js')).sweepCommand },
  { name: 'repair', summary: 'check kestrel.db and copy what is readable from a damaged one into a new file', load: async () => (await import('./repair.js')).repairCommand },
  { name: 'backtest-worker', summary: 'take backtest jobs from a BullMQ queue on Redis (--queue redis://…) and run them here', load: async () => (await import('./backtestWorker.js')).backtestWorkerCommand },
  { name: 'analyze', summary: 'print window bars with MACD, EMA, TD, dullness and divergence from the bar store', load: async () => (await import('./analyze.js')).analyzeCommand },
];

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return (
    `Kestrel ${KESTREL_VERSION}: a trading workstation\n\nUsage: kestrel <command> [options]\n\nCommands:\n` +
    commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n') +
    `\n\nRun \`kestrel <command> --help\` for a command's options.\n`
  );
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(help());
    return name ? 0 : 2;
  }
  if (name === '--version') {
    io.stdout.write(`${KESTREL_VERSION}\n`);
    return 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    io.stderr.write(`kestrel: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`kestrel ${name}: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`kestrel ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`kestrel: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
