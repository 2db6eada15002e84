/**
 * `kestrel <command>`: the command line of the headless workstation and its tools.
 * Exit codes: 0 ok, 1 runtime failure, 2 usage or input error.
 */
import { pathToFileURL } from 'node:url';
import { KESTREL_VERSION } from '../../shared/version.js';
import { UsageError, type CliCommand, type CliIo } from './command.js';
import { analyzeCommand } from './analyze.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { serveCommand } from './serve.js';

export const commands: readonly CliCommand[] = [serveCommand, importCommand, exportCommand, analyzeCommand];

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
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`kestrel: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  try {
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
